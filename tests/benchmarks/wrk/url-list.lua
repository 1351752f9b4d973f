-- Requests the paths of a file (BENCH_PATHS, one a line; distinct-searches.py writes them) in order,
-- from line BENCH_OFFSET + 1 on, so that no path is requested twice in one run: thread i of
-- BENCH_THREADS (the -t given to wrk) takes lines offset + i, offset + i + threads, ... (disjoint
-- slices). A thread that reaches the end of the file starts its slice again and counts each path
-- it sends a second time as a repeat, unless BENCH_WRAP=1 (the HTTP floor, which ignores the path).
-- Besides report.lua's BENCH line, prints
--   URLLIST <next offset> <repeats> <non-2xx answers> <503 answers>
-- where <next offset> is one past the highest line any thread asked for: the next cell's offset.
-- Every answer that is not 2xx is an error (wrk's own status count takes >= 400 only).
dofile("report.lua")
local bench_done = done
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

local paths, k
function init(args)
  local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
  local stride = tonumber(os.getenv("BENCH_THREADS") or "1")
  paths, k = {}, 0
  local n = 0
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if n >= offset and (n - offset) % stride == id then paths[#paths + 1] = line end
    n = n + 1
  end
  assert(#paths > 0, "url-list.lua: no paths at offset " .. offset .. " of " .. n)
  wrap = os.getenv("BENCH_WRAP") == "1"
  first, stride_n = offset + id, stride
  count = #paths
  sent, repeats, non2xx, unavailable = 0, 0, 0, 0
end

function request()
  k = k % #paths + 1
  sent = sent + 1
  if sent > #paths and not wrap then repeats = repeats + 1 end
  return wrk.format("GET", paths[k])
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if status == 503 then unavailable = unavailable + 1 end
end

function done(summary, latency, requests)
  bench_done(summary, latency, requests)
  local next_offset, r, e, u = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    local s = math.min(t:get("sent"), t:get("count"))
    if s > 0 then
      local last = t:get("first") + (s - 1) * t:get("stride_n")
      if last + 1 > next_offset then next_offset = last + 1 end
    end
    r, e, u = r + t:get("repeats"), e + t:get("non2xx"), u + t:get("unavailable")
  end
  io.write(string.format("URLLIST %d %d %d %d\n", next_offset, r, e, u))
end
