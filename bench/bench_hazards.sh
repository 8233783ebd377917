#!/usr/bin/env bash
# Hazard submission with the duplicate check (issue 4 §5): the project vs the bare
# FastAPI + asyncpg baseline (bench/baseline_app.py POST /hazards: locate + nearby query +
# insert + outbox in one transaction), same run, same database, one worker each, same wrk
# settings.
#   bench/bench_hazards.sh [DURATION_S] [CONNECTIONS] [WARMUP_S]
# Own database shouwang_bench_hazards (dropped and rebuilt: migrate + seed-demo); residents,
# their tokens and PHOTOS_PER_RESIDENT photos each come from bench/make_tokens.py (a hazard
# needs a photo of its own reporter; a photo is attached once). The warm-up and the
# measured run use disjoint photos.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-30}"
CONNS="${2:-32}"
WARMUP="${3:-10}"
THREADS=2
PPORT=8098
BPORT=8097
RESIDENTS="${BENCH_RESIDENTS:-4000}"
PHOTOS="${PHOTOS_PER_RESIDENT:-9}"  # 9 reports each: under the 10 an hour per account
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
DB=shouwang_bench_hazards
WORK="$(mktemp -d /tmp/shouwang-bench-hazards.XXXXXX)"
export SHOUWANG_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"
export SHOUWANG_SMS_DEV_OUTBOX="$WORK/sms.jsonl"
export SHOUWANG_MEDIA_DIR="$WORK/media"
export SHOUWANG_ACCESS_TOKEN_TTL_SECONDS=900   # the whole run fits in one token lifetime
psql -h 127.0.0.1 -U postgres -qc "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
uv run --frozen shouwang migrate >/dev/null
uv run --frozen shouwang seed-demo >/dev/null
uv run --frozen python bench/make_tokens.py --residents "$RESIDENTS" --seed-tips 0 \
  --photos-per-resident "$PHOTOS" --out "$WORK"
set -a; . "$WORK/env"; set +a
psql -h 127.0.0.1 -U postgres -d "$DB" -qc CHECKPOINT
export BENCH_DSN="postgresql://postgres@127.0.0.1:5432/$DB"
LINES=$(wc -l < "$WORK/hazards.txt")
head -n $((LINES / 3)) "$WORK/hazards.txt" > "$WORK/warm.txt"
tail -n +$((LINES / 3 + 1)) "$WORK/hazards.txt" > "$WORK/run.txt"

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
export WRK_THREADS=$THREADS
run() {  # run LABEL PATH PORT
  local label="$1" path="$2" port="$3"
  HAZARDS_FILE="$WORK/warm.txt" POST_PATH="$path" RUN_ID="warm$RANDOM" \
    wrk -t$THREADS -c"$CONNS" -d"${WARMUP}s" -s bench/wrk/post_hazard.lua "http://127.0.0.1:$port" >/dev/null
  psql -h 127.0.0.1 -U postgres -d "$DB" -qc CHECKPOINT  # no checkpoint due mid-run
  echo "== $label"
  echo "   HAZARDS_FILE=… POST_PATH=$path wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s bench/wrk/post_hazard.lua http://127.0.0.1:$port"
  HAZARDS_FILE="$WORK/run.txt" POST_PATH="$path" RUN_ID="run$RANDOM" \
    wrk -t$THREADS -c"$CONNS" -d"${DURATION}s" --latency -s bench/wrk/post_hazard.lua "http://127.0.0.1:$port" \
    | grep -E "Requests/sec|  50%|  99%|Non-2xx|requests in|errors"
}
echo "# $LINES photos: $(wc -l < "$WORK/warm.txt") for warm-up, $(wc -l < "$WORK/run.txt") for the run"
run "project  POST /api/v1/hazards (photo, duplicate check)" /api/v1/hazards "$PPORT"
run "baseline POST /hazards (duplicate check)"               /hazards         "$BPORT"
psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT 'rows: hazards '||(SELECT count(*) FROM hazards)||', outbox '||(SELECT count(*) FROM outbox)" 2>/dev/null || true
echo "logs: $WORK"
