#!/usr/bin/env bash
# Memory under a stream of made-up API keys (issue 18): the API (Release, Production) on a private
# PostgreSQL; wrk sends writes with a new random key each, in rounds, and the API's resident memory
# is read after each round. Bookkeeping that grew per key would show as RSS rising round after round.
# Not part of `dotnet test`. Usage: tests/benchmarks/made-up-keys.sh [rounds] (default 6 × 10 s).
set -euo pipefail
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rounds=${1:-6}
bench_dir=${BENCH_DIR:-/tmp/therapy-catalog-bench-keys}
port=${BENCH_PORT:-5098}
export CATALOG_PG_DIR=$bench_dir/postgres CATALOG_PG_FAST=1
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

mkdir -p "$bench_dir" && chmod 755 "$bench_dir"
url=$("$repo/db/local-postgres.sh" start | tail -n 1)
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$url")
psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -q -c "DROP DATABASE IF EXISTS catalog_keys" -c "CREATE DATABASE catalog_keys"
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=catalog_keys"

dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
api_dll=$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll
ConnectionStrings__Catalog=$connection ASPNETCORE_URLS=http://127.0.0.1:$port Logging__LogLevel__Default=Warning \
  dotnet "$api_dll" >"$bench_dir/api.log" 2>&1 &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true; "$repo/db/local-postgres.sh" stop >/dev/null' EXIT
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
rss() { awk '$1 == "VmRSS:" { printf "%d", $2 / 1024 }' "/proc/$api_pid/status"; }

echo "round  requests  (a probe after it)          API RSS (MiB)"
echo "start         0                           $(rss)"
total=0
for round in $(seq 1 "$rounds"); do
  out=$(wrk -t2 -c16 -d10s -s "$repo/tests/benchmarks/wrk/made-up-keys.lua" "http://127.0.0.1:$port" 2>&1)
  n=$(awk '/^requests/ { print $2 }' <<<"$out")
  total=$((total + n))
  codes=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "X-Api-Key: tc_probe_$RANDOM" "http://127.0.0.1:$port/v1/therapies/00000000-0000-0000-0000-00000000dead")
  printf '%-6s %8d  (next answer: %s)          %s\n' "$round" "$total" "$codes" "$(rss)"
done
