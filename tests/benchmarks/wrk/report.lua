-- Shared by every wrk script: one machine-readable line for run.sh to put in the table.
-- BENCH <requests> <duration µs> <p50 µs> <p99 µs> <non-2xx/3xx> <socket errors>
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
