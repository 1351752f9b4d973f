-- Writes with a new made-up API key each (tests/benchmarks/made-up-keys.sh): DELETE of a therapy
-- that does not exist, so nothing could change even if a key were accepted.
local counter = 0
request = function()
  counter = counter + 1
  local key = string.format("tc_madeup_%08x%08x%d", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), counter)
  return wrk.format("DELETE", "/v1/therapies/00000000-0000-0000-0000-00000000dead", { ["X-Api-Key"] = key })
end

done = function(summary)
  io.write(string.format("requests %d\n", summary.requests))
end
