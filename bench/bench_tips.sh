#!/usr/bin/env bash
# Tip-offs (issue 3 §7): the project vs a bare FastAPI + asyncpg baseline, same run, same
# database, one worker each, same wrk settings.
#   bench/bench_tips.sh [DURATION_S] [CONNECTIONS] [WARMUP_S]
# Own database shouwang_bench_tips (dropped and rebuilt: migrate + seed-demo), project on
# :8098, baseline (bench/baseline_app.py) on :8097. Residents and their tokens come from
# bench/make_tokens.py (OTP sign-in is rate-limited per IP, tips per account).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-30}"
CONNS="${2:-32}"
WARMUP="${3:-10}"
THREADS=2
PPORT=8098
BPORT=8097
RESIDENTS="${BENCH_RESIDENTS:-5000}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
DB=shouwang_bench_tips
WORK="$(mktemp -d /tmp/shouwang-bench-tips.XXXXXX)"
export SHOUWANG_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"
export SHOUWANG_SMS_DEV_OUTBOX="$WORK/sms.jsonl"
export SHOUWANG_ACCESS_TOKEN_TTL_SECONDS=900   # the whole run fits in one token lifetime
psql -h 127.0.0.1 -U postgres -qc "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
uv run --frozen shouwang migrate >/dev/null
uv run --frozen shouwang seed-demo >/dev/null
uv run --frozen python bench/make_tokens.py --residents "$RESIDENTS" --seed-tips 200 --out "$WORK"
set -a; . "$WORK/env"; set +a
psql -h 127.0.0.1 -U postgres -d "$DB" -qc CHECKPOINT
export BENCH_DSN="postgresql://postgres@127.0.0.1:5432/$DB"

SHOUWANG_LOG_LEVEL=WARNING uv run --frozen shouwang serve --port "$PPORT" >"$WORK/project.log" 2>&1 &
PROJECT=$!
uv run --frozen uvicorn bench.baseline_app:app --port "$BPORT" --workers 1 --log-level warning \
  --no-access-log >"$WORK/baseline.log" 2>&1 &
BASELINE=$!
trap 'kill $PROJECT $BASELINE 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PPORT/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:$BPORT/docs" && break
  sleep 0.2
done
OFFICER="$(curl -sf -XPOST "http://127.0.0.1:$PPORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"ht.officer","password":"Shouwang-Demo-2026"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')"
RESIDENT0="$(head -1 "$WORK/tokens.txt")"
export TOKENS_FILE="$WORK/tokens.txt" WRK_THREADS=$THREADS
echo "# pages: queue $(curl -sf -H "Authorization: Bearer $OFFICER" "http://127.0.0.1:$PPORT/api/v1/tips?limit=20" | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["items"]))') items," \
  "me $(curl -sf -H "Authorization: Bearer $RESIDENT0" "http://127.0.0.1:$PPORT/api/v1/me/tips?limit=20" | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["items"]))') items," \
  "baseline queue $(curl -sf "http://127.0.0.1:$BPORT/tips?limit=20" | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["items"]))')," \
  "baseline me $(curl -sf "http://127.0.0.1:$BPORT/me/tips?limit=20" | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["items"]))')"

run() {  # run LABEL wrk-args...
  local label="$1"; shift
  RUN_ID="warm$RANDOM$RANDOM" wrk -t$THREADS -c"$CONNS" -d"${WARMUP}s" "$@" >/dev/null
  # The POST runs write ~1 GB of WAL between them: a checkpoint due in the middle of a
  # measured run stalls every commit behind its writes (both apps saw p99 spikes). Take it
  # now, so each measured run starts with the same clean slate.
  psql -h 127.0.0.1 -U postgres -d "$DB" -qc CHECKPOINT
  echo "== $label"
  echo "   wrk -t$THREADS -c$CONNS -d${DURATION}s --latency $*" | sed -E 's/Bearer [A-Za-z0-9._-]+/Bearer $TOKEN/' 
  RUN_ID="run$RANDOM$RANDOM" wrk -t$THREADS -c"$CONNS" -d"${DURATION}s" --latency "$@" \
    | grep -E "Requests/sec|  50%|  99%|Non-2xx|requests in|errors"
}
AUTH_O=(-H "Authorization: Bearer $OFFICER")
AUTH_R=(-H "Authorization: Bearer $RESIDENT0")
run "project  GET /api/v1/tips?limit=20 (officer queue)" "${AUTH_O[@]}" "http://127.0.0.1:$PPORT/api/v1/tips?limit=20"
run "baseline GET /tips?limit=20"                        "http://127.0.0.1:$BPORT/tips?limit=20"
run "project  GET /api/v1/me/tips?limit=20 (resident 0)" "${AUTH_R[@]}" "http://127.0.0.1:$PPORT/api/v1/me/tips?limit=20"
run "baseline GET /me/tips?limit=20"                     "http://127.0.0.1:$BPORT/me/tips?limit=20"
# POSTs last, so the page runs read the ~200-tip table the issue describes.
POST_PATH=/api/v1/tips run "project  POST /api/v1/tips" -s bench/wrk/post_tip.lua "http://127.0.0.1:$PPORT"
POST_PATH=/tips        run "baseline POST /tips"        -s bench/wrk/post_tip.lua "http://127.0.0.1:$BPORT"
psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT 'rows: tips '||(SELECT count(*) FROM tips)||', outbox '||(SELECT count(*) FROM outbox)||', idempotency '||(SELECT count(*) FROM idempotency_keys)" 2>/dev/null || true
echo "logs: $WORK"
# After the POST runs the station holds tens of thousands of tips: the queue statement's plan then.
psql -h 127.0.0.1 -U postgres -d $DB -Atc "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM tips WHERE station_id = '$BENCH_STATION_ID' ORDER BY id DESC LIMIT 21" | head -12
