#!/usr/bin/env bash
# "A busy pool is not an outage" (not part of `dotnet test`): BUSY_CONNECTIONS (64) wrk connections
# of distinct searches (wrk/distinct-searches.lua: every URL new, so every answer comes from the
# database) for BUSY_SECONDS (60) against the API in Release, with the connection string as an
# operator would write it (no Timeout: the service's own defaults apply), on a private PostgreSQL
# cluster that stays up throughout. Counts the answers: 2xx, 503 "busy" (the pool stayed full past
# Catalog:Database:PoolWaitSeconds), 503 "unavailable" (claims the database cannot be reached),
# other. With a healthy database the third must be 0; the script exits 1 otherwise.
#
#   tests/benchmarks/busy-pool.sh
#   BUSY_SECONDS=20 BUSY_CONNECTIONS=128 tests/benchmarks/busy-pool.sh
#   BUSY_API_ENV="Catalog__Database__PoolWaitSeconds=1" tests/benchmarks/busy-pool.sh   extra API settings
#   BUSY_POOL_SIZE=4 ...   a pool smaller than the load (Maximum Pool Size), to see busy answers
set -euo pipefail
# The API runs as Production, which requires a cursor key of its own.
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kit=$repo/tests/benchmarks
seconds=${BUSY_SECONDS:-60}
conns=${BUSY_CONNECTIONS:-64}
work=$(mktemp -d /tmp/therapy-catalog-busy-XXXXXX)
chmod 755 "$work"
export CATALOG_PG_DIR=$work/postgres CATALOG_PG_FAST=1
api_pid=""

cleanup() {
  if [[ -n "$api_pid" ]]; then kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi
  "$repo/db/local-postgres.sh" destroy >/dev/null || true
  [[ "${BUSY_KEEP:-}" == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }

echo "== building the API (Release)"
dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
api_dll=$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll

url=$("$repo/db/local-postgres.sh" start | tail -n 1)
[[ -n "${BUSY_POOL_SIZE:-}" ]] && url="$url;Maximum Pool Size=$BUSY_POOL_SIZE"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

# shellcheck disable=SC2086 # BUSY_API_ENV is a list of VAR=value words
env ${BUSY_API_ENV:-} ConnectionStrings__Catalog="$url" \
  Catalog__RateLimits__ReadsPerMinute=100000000 Catalog__RateLimits__WritesPerMinute=100000000 \
  Logging__LogLevel__Default=Warning \
  dotnet "$api_dll" --urls "$base" >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 240); do
  curl -fs -o /dev/null "$base/health/ready" && break
  sleep 0.5
done
curl -fs -o /dev/null "$base/health/ready" || { echo "the API did not start:" >&2; tail -20 "$work/api.log" >&2; exit 1; }

echo "== $conns connections of distinct searches for $seconds s, pool ${BUSY_POOL_SIZE:-100 (default)}, ${BUSY_API_ENV:-default settings} (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
out=$(cd "$kit/wrk" && wrk -t2 -c"$conns" -d"${seconds}s" --timeout 30s --latency -s distinct-searches.lua "$base")
grep -q '^BUSYPOOL ' <<<"$out" || { echo "wrk failed:" >&2; echo "$out" >&2; exit 1; }
read -r _ requests micros p50 p99 _ socket_errors <<<"$(grep '^BENCH ' <<<"$out")"
read -r _ ok busy unavailable other <<<"$(grep '^BUSYPOOL ' <<<"$out")"
logged_busy=$(grep -c "Database busy" "$work/api.log" || true)
logged_unavailable=$(grep -c "Database unavailable" "$work/api.log" || true)

printf '\n| connections | seconds | requests | req/s | p50 ms | p99 ms | 2xx | 503 busy | 503 unavailable | other | socket errors |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$conns" "$seconds" "$requests" \
  "$(awk -v r="$requests" -v d="$micros" 'BEGIN { printf "%.0f", r / (d / 1e6) }')" \
  "$(awk -v x="$p50" 'BEGIN { printf "%.1f", x / 1000 }')" "$(awk -v x="$p99" 'BEGIN { printf "%.1f", x / 1000 }')" \
  "$ok" "$busy" "$unavailable" "$other" "$socket_errors"
echo
echo "API log: $logged_busy 'Database busy' warnings, $logged_unavailable 'Database unavailable' warnings; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ "$unavailable" -ne 0 ]]; then
  echo "FAIL: $unavailable answers claimed the database is unavailable while it was up" >&2
  grep -m 5 "Database unavailable" -A 3 "$work/api.log" >&2 || true
  exit 1
fi
