-- The write mix: PUT /v1/therapies/{id} with If-Match. Run with as many threads as connections:
-- each thread (so each connection) owns one therapy (line <thread> of BENCH_IDS), reads its ETag
-- once with a GET, then PUTs its two bodies (BENCH_BODIES/<id>.a.json and .b.json) in turn, each
-- with the ETag the previous answer carried, so every PUT writes a new version and none is stale.
-- A 412 (someone else wrote) makes the next request a GET again.
dofile("report.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("slot", threads)
end

local id, etag, bodies, turn
function init(args)
  local n = 0
  for line in io.lines(os.getenv("BENCH_IDS")) do
    n = n + 1
    if n == slot then id = line end
  end
  local function read(path) local f = assert(io.open(path)); local s = f:read("*a"); f:close(); return s end
  local dir = os.getenv("BENCH_BODIES")
  bodies = { read(dir .. "/" .. id .. ".a.json"), read(dir .. "/" .. id .. ".b.json") }
  turn = 0
end

function request()
  if etag == nil then
    return wrk.format("GET", "/v1/therapies/" .. id)
  end
  turn = turn % 2 + 1
  return wrk.format("PUT", "/v1/therapies/" .. id,
    { ["Host"] = wrk.headers["Host"], ["Content-Type"] = "application/json", ["If-Match"] = etag,
      ["X-Api-Key"] = os.getenv("BENCH_API_KEY") }, bodies[turn])
end

function response(status, headers, body)
  etag = (status == 200) and (headers["ETag"] or headers["etag"]) or nil
end
