#!/usr/bin/env bash
# Export memory and throughput benchmark (not part of `dotnet test`).
#
# Makes a private PostgreSQL cluster (db/local-postgres.sh), a database migrated by the API
# itself, and BENCH_THERAPIES synthetic therapies (default 1,000,000: copies of kymriah's stored
# document with a new id and slug, generated in SQL). Then it starts the API in Release against it
# and streams GET /v1/export to /dev/null (ndjson, ndjson+gzip, csv), reporting bytes, time,
# throughput and the API process's peak resident memory (VmHWM) next to PostgreSQL's own
# `COPY (same query) TO STDOUT` of the same rows.
#
#   tests/benchmarks/export-1m.sh            generate (first run) and measure
#   BENCH_THERAPIES=100000 tests/benchmarks/export-1m.sh
#   BENCH_KEEP=1 ...                          leave the cluster running afterwards
#
# BENCH_DIR (default /tmp/therapy-catalog-bench) holds the cluster; delete it to start over.
set -euo pipefail
# The API runs as Production, which requires a cursor key of its own.
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=${BENCH_THERAPIES:-1000000}
bench_dir=${BENCH_DIR:-/tmp/therapy-catalog-bench}
port=${BENCH_PORT:-5099}
export CATALOG_PG_DIR=$bench_dir/postgres CATALOG_PG_FAST=1

mkdir -p "$bench_dir"
chmod 755 "$bench_dir"
url=$("$repo/db/local-postgres.sh" start | tail -n 1)
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$url")
database=catalog_bench_$n
psql_db() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d "$database" -v ON_ERROR_STOP=1 -X -q "$@"; }
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$database;Timeout=30;Command Timeout=600"

echo "== building the API (Release)"
dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
api_dll=$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll

if ! psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
  echo "== migrating a new database $database"
  ConnectionStrings__Catalog=$connection dotnet "$api_dll" --migrate-only >/dev/null
  echo "== generating $n synthetic therapies"
  start=$(date +%s)
  BENCH_THERAPIES=$n "$(dirname "${BASH_SOURCE[0]}")/synthetic-copies.sh" "$pg_port" "$database"
  echo "   generated in $(( $(date +%s) - start )) s"
fi

rows=$(psql_db -tAc "SELECT count(*) FROM therapies WHERE deleted_at IS NULL")
size=$(psql_db -tAc "SELECT pg_size_pretty(pg_total_relation_size('therapy_versions'))")
echo "== $rows live therapies; therapy_versions takes $size"

# The export's own query (ExportApi.DocumentsSql), for COPY.
query="SELECT v.document::text FROM therapies t JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version WHERE t.deleted_at IS NULL ORDER BY t.id"
echo "== plan"
psql_db -c "EXPLAIN $query"

echo "== starting the API (Release) on port $port"
ConnectionStrings__Catalog=$connection Catalog__MigrateOnStartup=false ASPNETCORE_URLS=http://127.0.0.1:$port \
  Logging__LogLevel__Default=Warning dotnet "$api_dll" >"$bench_dir/api.log" 2>&1 &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true; [[ "${BENCH_KEEP:-}" == 1 ]] || "$repo/db/local-postgres.sh" stop' EXIT
for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break
  sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:$port/v1/therapies/kymriah"
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$api_pid/status"; }
echo "   API resident after start-up: $(( $(kb VmRSS) / 1024 )) MiB (peak so far $(( $(kb VmHWM) / 1024 )) MiB)"

measure() { # name, curl args...
  local name=$1; shift
  local out
  out=$(curl -fs -o /dev/null -w '%{size_download} %{time_total}' "$@")
  local bytes=${out% *} seconds=${out#* }
  printf '%-16s %12s bytes %8.1f s %10.0f rows/s %8.1f MB/s   API peak RSS %5d MiB\n' \
    "$name" "$bytes" "$seconds" "$(echo "$rows / $seconds" | bc -l)" "$(echo "$bytes / $seconds / 1000000" | bc -l)" $(( $(kb VmHWM) / 1024 ))
}

echo "== results"
measure "export ndjson" "http://127.0.0.1:$port/v1/export?format=ndjson"
measure "export ndjson.gz" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/v1/export?format=ndjson"
measure "export csv" "http://127.0.0.1:$port/v1/export?format=csv"
start=$(date +%s.%N)
bytes=$(psql_db -c "COPY ($query) TO STDOUT" | wc -c)
seconds=$(echo "$(date +%s.%N) - $start" | bc -l)
printf '%-16s %12s bytes %8.1f s %10.0f rows/s %8.1f MB/s   (psql, no API)\n' \
  "COPY TO STDOUT" "$bytes" "$seconds" "$(echo "$rows / $seconds" | bc -l)" "$(echo "$bytes / $seconds / 1000000" | bc -l)"
