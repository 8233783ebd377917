#!/usr/bin/env bash
# Authenticated request throughput against a real server process, next to a bare baseline.
# Starts `shouwang serve` (1 worker) on a scratch port with the demo database, signs in the
# demo officer, then runs wrk (Debian package `wrk`) for each endpoint.
#   bench/bench_http.sh [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNS="${2:-32}"
PORT="${BENCH_PORT:-8099}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
# Its own database, so earlier sign-in failures (rate limits) or data don't skew the run.
export SHOUWANG_DATABASE_URL="${BENCH_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/shouwang_bench}"
export SHOUWANG_SMS_DEV_OUTBOX=/tmp/shouwang-bench-sms.jsonl
uv run --frozen shouwang migrate >/dev/null
uv run --frozen shouwang seed-demo >/dev/null
SHOUWANG_LOG_LEVEL=WARNING uv run --frozen shouwang serve --port "$PORT" >/tmp/shouwang-bench.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN="$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"ht.officer","password":"Shouwang-Demo-2026"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')"
run() {
  echo "== $1"
  shift
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
}
run "GET /healthz (no database, no auth: the framework's floor)" "http://127.0.0.1:$PORT/healthz"
run "GET /api/v1/me (token check + roles from the database + account + volunteer profile)" \
  -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/me"
run "GET /api/v1/locate (auth + PostGIS containment)" -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/locate?lon=119.84&lat=31.73"
run "GET /api/v1/volunteers?limit=20 (auth + scoped keyset page, audited list)" \
  -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/volunteers?limit=20"
echo "server RSS: $(ps -o rss= -p "$(pgrep -P $SERVER -f 'shouwang serve' || echo $SERVER)" | tail -1) KiB"
