-- Pages through the change feed: BENCH_CURSORS names a file of `after` cursors, one a line,
-- collected by walking the feed once; each request asks for the page after the next cursor, so
-- the load covers every page of the 10,000 changes in turn.
dofile("report.lua")
local cursors = {}
for line in io.lines(os.getenv("BENCH_CURSORS")) do cursors[#cursors + 1] = line end
local limit = os.getenv("BENCH_LIMIT") or "100"
local i = 0
function request()
  i = i % #cursors + 1
  local after = cursors[i]
  local path = "/v1/changes?limit=" .. limit
  if after ~= "" then path = path .. "&after=" .. after end
  return wrk.format("GET", path)
end
