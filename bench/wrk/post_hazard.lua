-- POST a hazard per request. HAZARDS_FILE lines are "token media_id": each photo belongs
-- to its uploader and is attached to one record only, so every request takes the next
-- line (disjoint per wrk thread). A Chinese description, the fire category and a point
-- inside 湖塘; the baseline ignores media_ids.
local counter = 0
local threads = {}
local lines = {}
tid = 0
local nthreads = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("HAZARDS_FILE")) do
    n = n + 1
    if (n % nthreads) == tid then table.insert(lines, line) end
  end
  math.randomseed(os.time() + tid * 7919)
  run_id = os.getenv("RUN_ID") or tostring(os.time())
  offset = tonumber(os.getenv("LINE_OFFSET") or "0")
end

local descs = {
  "楼道内有电动车违规充电，电线从窗户私拉乱接。",
  "出租屋内电线老化裸露，插线板串联使用。",
  "小区消防通道被电动车和杂物堵塞。",
}

function request()
  counter = counter + 1
  local line = lines[((offset + counter) % #lines) + 1]
  local token, media = line:match("^(%S+) (%S+)$")
  local lon = 119.83 + math.random() * 0.02
  local lat = 31.72 + math.random() * 0.02
  local body = string.format(
    '{"category":"fire","description":"%s","location":{"lon":%.6f,"lat":%.6f},"media_ids":["%s"]}',
    descs[(counter % #descs) + 1], lon, lat, media)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("hz-%s-%d-%d", run_id, tid, counter),
  }
  return wrk.format("POST", os.getenv("POST_PATH") or "/api/v1/hazards", headers, body)
end
