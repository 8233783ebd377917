-- POST a tip per request: round-robin over resident tokens (the project allows 10 tips per
-- account per hour), a unique Idempotency-Key per request, a Chinese description and a
-- point inside 湖塘. Tokens: TOKENS_FILE (one a line; line 1, resident 0, is skipped).
local counter = 0
local threads = {}
local tokens = {}
tid = 0
local nthreads = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    n = n + 1
    -- disjoint token sets per thread so no account exceeds its hourly limit
    if n > 1 and (n % nthreads) == tid then table.insert(tokens, line) end
  end
  math.randomseed(os.time() + tid * 7919)
  -- each run starts at a random token, so successive runs share the accounts' hourly budget
  counter = math.random(#tokens)
  run_id = os.getenv("RUN_ID") or tostring(os.time())
end

local descs = {
  "花园新村东门附近有可疑人员反复查看电动车，穿深色外套。",
  "湖塘商圈步行街一辆白色面包车长时间停放，车内有人张望。",
  "小区楼道里发现无人认领的包裹，已放置两天。",
}

function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local lon = 119.83 + math.random() * 0.02
  local lat = 31.72 + math.random() * 0.02
  local body = string.format(
    '{"category":"suspicious_person","description":"%s","location":{"lon":%.6f,"lat":%.6f},"urgency":"normal"}',
    descs[(counter % #descs) + 1], lon, lat)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, tid, counter),
  }
  return wrk.format("POST", os.getenv("POST_PATH") or "/api/v1/tips", headers, body)
end
