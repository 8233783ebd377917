#!/usr/bin/env bash
# Nearest responders (issue 5 §5): GET /api/v1/emergency/nearby of the project vs a bare
# FastAPI + asyncpg baseline running the same two statements (bench/baseline_emergency.py),
# same database, same run, one worker each, same wrk settings, random points of the demo
# district (5 km radius, 20 nearest, first_aid required).
#   bench/bench_emergency_nearby.sh [DURATION_S] [CONNECTIONS] [WARMUP_S]
# Database shouwang_bench_emergency: reused when it holds the 1,000,000-volunteer load of
# bench/bench_emergency_knn.py --keep, else built by it first (a few minutes). The project
# runs on :8096 signed in as the demo officer ht.officer (湖塘派出所, district 武进), the
# baseline on :8095.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-30}"
CONNS="${2:-32}"
WARMUP="${3:-10}"
THREADS=2
PPORT=8096
BPORT=8095
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
DB=shouwang_bench_emergency
WORK="$(mktemp -d /tmp/shouwang-bench-emergency.XXXXXX)"
export SHOUWANG_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"
export SHOUWANG_ACCESS_TOKEN_TTL_SECONDS=900   # the whole run fits in one token lifetime
export BENCH_DSN="postgresql://postgres@127.0.0.1:5432/$DB"
LOCATED="$(psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT count(*) FROM emergency_last_locations" 2>/dev/null || echo 0)"
if [ "${LOCATED:-0}" -lt 900000 ]; then
  echo "# building $DB (bench/bench_emergency_knn.py --keep)"
  uv run --frozen python bench/bench_emergency_knn.py --db "$DB" --keep --n 100
fi
psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT 'rows: volunteers '||(SELECT count(*) FROM volunteers)||', located '||(SELECT count(*) FROM emergency_last_locations)||', on duty '||(SELECT count(*) FROM emergency_last_locations WHERE on_duty_until > now())||', units '||(SELECT count(*) FROM emergency_units)"
# The bench load's duty ends 8 hours after it was loaded: extend it for a kept database.
psql -h 127.0.0.1 -U postgres -d $DB -qc "UPDATE emergency_last_locations SET on_duty_until = now() + interval '8 hours' WHERE on_duty_until IS NOT NULL AND on_duty_until < now() + interval '1 hour'" -c "UPDATE emergency_unit_members SET available_until = now() + interval '8 hours' WHERE available_until IS NOT NULL AND available_until < now() + interval '1 hour'" -c "VACUUM ANALYZE emergency_last_locations" >/dev/null

SHOUWANG_LOG_LEVEL=WARNING uv run --frozen shouwang serve --port "$PPORT" >"$WORK/project.log" 2>&1 &
PROJECT=$!
uv run --frozen uvicorn bench.baseline_emergency:app --port "$BPORT" --workers 1 --log-level warning \
  --no-access-log >"$WORK/baseline.log" 2>&1 &
BASELINE=$!
trap 'kill $PROJECT $BASELINE 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$PPORT/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:$BPORT/docs" && break
  sleep 0.2
done
OFFICER="$(curl -sf -XPOST "http://127.0.0.1:$PPORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"ht.officer","password":"Shouwang-Demo-2026"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')"
Q="lon=119.95&lat=31.70&radius_m=5000&limit=20&capability=first_aid"
echo "# one answer at 119.95E 31.70N: project" \
  "$(curl -sf -H "Authorization: Bearer $OFFICER" "http://127.0.0.1:$PPORT/api/v1/emergency/nearby?$Q" | python3 -c 'import json,sys;d=json.load(sys.stdin);print(len(d["units"]),"units,",len(d["members"]),"members, nearest member",d["members"][0]["distance_m"],"m")')," \
  "baseline $(curl -sf "http://127.0.0.1:$BPORT/nearby?$Q" | python3 -c 'import json,sys;d=json.load(sys.stdin);print(len(d["units"]),"units,",len(d["members"]),"members, nearest member",d["members"][0]["distance_m"],"m")')"

# Random points over the demo district (119.80–120.10E, 31.60–31.80N), one per request.
cat >"$WORK/nearby.lua" <<'LUA'
local prefix = os.getenv("NEARBY_PATH")
local token = os.getenv("NEARBY_TOKEN")
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local lon = 119.80 + math.random() * 0.30
  local lat = 31.60 + math.random() * 0.20
  local path = string.format("%s?lon=%.6f&lat=%.6f&radius_m=5000&limit=20&capability=first_aid",
                             prefix, lon, lat)
  local headers = {}
  if token ~= nil and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end
LUA
run() {  # run LABEL URL PATH TOKEN
  local label="$1" url="$2"
  export NEARBY_PATH="$3" NEARBY_TOKEN="$4"
  wrk -t$THREADS -c"$CONNS" -d"${WARMUP}s" -s "$WORK/nearby.lua" "$url" >/dev/null
  echo "== $label"
  echo "   wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s nearby.lua $url (NEARBY_PATH=$3)"
  wrk -t$THREADS -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/nearby.lua" "$url" \
    | tee "$WORK/$5.txt" | grep -E "Requests/sec|  50%|  99%|Non-2xx|requests in|errors"
}
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run "project  GET /api/v1/emergency/nearby (ht.officer)" "http://127.0.0.1:$PPORT" /api/v1/emergency/nearby "$OFFICER" project
run "baseline GET /nearby"                               "http://127.0.0.1:$BPORT" /nearby "" baseline
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
P="$(awk '/Requests\/sec/{print $2}' "$WORK/project.txt")"
B="$(awk '/Requests\/sec/{print $2}' "$WORK/baseline.txt")"
python3 -c "print(f'project / baseline = {float(\"$P\") / float(\"$B\"):.2f}x  (target >= 0.7x)')"
echo "logs: $WORK"
