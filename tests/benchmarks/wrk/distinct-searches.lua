-- Distinct searches, none answered from the response cache: each request combines a condition
-- term (as `condition` or as free text `q`), a modality filter and a page size with a counter of its own (`probe`), so every URL is
-- new and every answer comes from the database. Counts how each 503 explains itself:
-- BUSYPOOL <2xx> <503 busy> <503 unavailable> <other status>
dofile("report.lua")
local bench_done = done
local conditions = { "lymphoma", "leukemia", "myeloma", "atrophy", "dystrophy", "retinal", "hemophilia",
  "sickle", "thalassemia", "melanoma", "bladder", "prostate", "epidermolysis", "wound", "cartilage", "skin" }
local modalities = { "", "&modality=gene", "&modality=cell", "&modality=cell-based-gene" }
local threads = {}
local counter = 0

function setup(thread)
  thread:set("seed", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  counter = seed * 1000000000
  ok, busy, unavailable, other = 0, 0, 0, 0
end

function request()
  counter = counter + 1
  -- Alternately a condition search and a free-text one (names, targets, conditions, platform words).
  local member = (counter % 2 == 0) and "condition=" or "q="
  local path = "/v1/therapies?" .. member .. conditions[counter % #conditions + 1]
    .. modalities[math.floor(counter / #conditions) % #modalities + 1]
    .. "&limit=" .. (5 + counter % 20) .. "&probe=" .. counter
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif status == 503 and body:find("busy", 1, true) then
    busy = busy + 1
  elseif status == 503 then
    unavailable = unavailable + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  bench_done(summary, latency, requests)
  local o, b, u, x = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o, b, u, x = o + t:get("ok"), b + t:get("busy"), u + t:get("unavailable"), x + t:get("other")
  end
  io.write(string.format("BUSYPOOL %d %d %d %d\n", o, b, u, x))
end
