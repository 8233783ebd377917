#!/usr/bin/env bash
# Tip-offs (issue 3 §7): the project vs a bare FastAPI + asyncpg baseline, same run, same
# database, one worker each, same wrk settings.
#   bench/bench_tips.sh [DURATION_S] [CONNECTIONS] [WARMUP_S]
# Each app gets DURATION_S of measured load per endpoint, in BENCH_ROUNDS slices (default
# 3) that alternate project, baseline, project, ...: this VM's speed drifts by a fifth from
# one minute to the next, which one 30 s run after the other puts into the ratio.
# BENCH_ROUNDS=1 is one run each, the project first. A checkpoint precedes every slice.
# Own database shouwang_bench_tips (dropped and rebuilt: migrate + seed-demo), project on
# :8098, baseline (bench/baseline_app.py) on :8097. Residents and their tokens come from
# bench/make_tokens.py (OTP sign-in is rate-limited per IP, tips per account).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-30}"
CONNS="${2:-32}"
WARMUP="${3:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
THREADS=2
PPORT=8098
BPORT=8097
# 9,000 residents allow 90,000 tips an hour: twice what a fast day's warm-up and slices post
# (~48,000), and under the principal cache's 10,000 entries so a round does not evict itself.
RESIDENTS="${BENCH_RESIDENTS:-9000}"
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

ms() {  # wrk's latency (e.g. 812.00us, 75.25ms, 1.02s) in ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; printf "%.2f", n }'
}
slice() {  # slice SIDE SECONDS: one wrk run of P_* or B_* (args, POST_PATH); prints "N T P50 P99 NON2XX"
  local side="$1" secs="$2" out
  local -n args="${side}_ARGS"
  local post_var="${side}_POST"
  psql -h 127.0.0.1 -U postgres -d "$DB" -qc CHECKPOINT
  out="$(POST_PATH="${!post_var}" RUN_ID="run$RANDOM$RANDOM" wrk -t$THREADS -c"$CONNS" -d"${secs}s" --latency "${args[@]}")"
  local n t p50 p99 non
  n="$(awk '/requests in/ {print $1}' <<<"$out")"
  t="$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' <<<"$out")"
  p50="$(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
  p99="$(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
  non="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  echo "$n $t $p50 $p99 ${non:-0}"
}
compare() {  # compare LABEL: project (P_ARGS, P_POST) against baseline (B_ARGS, B_POST)
  local label="$1" secs=$((DURATION / ROUNDS)) r side
  local -A n t worst
  POST_PATH="$P_POST" RUN_ID="warm$RANDOM$RANDOM" wrk -t$THREADS -c"$CONNS" -d"${WARMUP}s" "${P_ARGS[@]}" >/dev/null
  POST_PATH="$B_POST" RUN_ID="warm$RANDOM$RANDOM" wrk -t$THREADS -c"$CONNS" -d"${WARMUP}s" "${B_ARGS[@]}" >/dev/null
  echo "== $label"
  echo "   project:  wrk -t$THREADS -c$CONNS -d${secs}s --latency ${P_ARGS[*]}" | sed -E 's/Bearer [A-Za-z0-9._-]+/Bearer $TOKEN/'
  echo "   baseline: wrk -t$THREADS -c$CONNS -d${secs}s --latency ${B_ARGS[*]}"
  for side in P B; do n[$side]=0; t[$side]=0; worst[$side]=0; done
  for r in $(seq 1 "$ROUNDS"); do
    for side in P B; do
      read -r sn st sp50 sp99 snon < <(slice "$side" "$secs")
      printf '   %-8s %d/%d: %6d requests in %ss, %7.1f req/s, p50 %s ms, p99 %s ms, non-2xx %s\n' \
        "$([ $side = P ] && echo project || echo baseline)" "$r" "$ROUNDS" "$sn" "$st" \
        "$(awk -v a="$sn" -v b="$st" 'BEGIN {print a / b}')" "$sp50" "$sp99" "$snon"
      n[$side]=$((n[$side] + sn))
      t[$side]="$(awk -v a="${t[$side]}" -v b="$st" 'BEGIN {print a + b}')"
      worst[$side]="$(awk -v a="${worst[$side]}" -v b="$sp99" 'BEGIN {print (b > a ? b : a)}')"
    done
  done
  awk -v pn="${n[P]}" -v pt="${t[P]}" -v bn="${n[B]}" -v bt="${t[B]}" -v pw="${worst[P]}" -v bw="${worst[B]}" \
    'BEGIN { p = pn / pt; b = bn / bt;
             printf "   => project %.1f req/s, baseline %.1f req/s, ratio %.2fx; worst slice p99: project %.1f ms, baseline %.1f ms\n", p, b, p / b, pw, bw }'
}
AUTH_O=(-H "Authorization: Bearer $OFFICER")
AUTH_R=(-H "Authorization: Bearer $RESIDENT0")
P_POST="" B_POST=""
P_ARGS=("${AUTH_O[@]}" "http://127.0.0.1:$PPORT/api/v1/tips?limit=20")
B_ARGS=("http://127.0.0.1:$BPORT/tips?limit=20")
compare "GET officer queue: project /api/v1/tips?limit=20, baseline /tips?limit=20"
P_ARGS=("${AUTH_R[@]}" "http://127.0.0.1:$PPORT/api/v1/me/tips?limit=20")
B_ARGS=("http://127.0.0.1:$BPORT/me/tips?limit=20")
compare "GET a reporter's tips (resident 0): project /api/v1/me/tips?limit=20, baseline /me/tips?limit=20"
# POSTs last, so the page runs read the ~200-tip table the issue describes.
P_POST=/api/v1/tips B_POST=/tips
P_ARGS=(-s bench/wrk/post_tip.lua "http://127.0.0.1:$PPORT")
B_ARGS=(-s bench/wrk/post_tip.lua "http://127.0.0.1:$BPORT")
compare "POST a tip: project /api/v1/tips, baseline /tips"
psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT 'rows: tips '||(SELECT count(*) FROM tips)||', outbox '||(SELECT count(*) FROM outbox)||', idempotency '||(SELECT count(*) FROM idempotency_keys)" 2>/dev/null || true
echo "logs: $WORK"
# After the POST runs the station holds tens of thousands of tips: the queue statement's plan then.
psql -h 127.0.0.1 -U postgres -d $DB -Atc "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM tips WHERE station_id = '$BENCH_STATION_ID' ORDER BY id DESC LIMIT 21" | head -12
