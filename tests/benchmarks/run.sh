#!/usr/bin/env bash
# The benchmark kit (not part of `dotnet test`): one command, Release build, loopback, load from
# wrk in a second process, floors measured in the same run.
#
#   tests/benchmarks/run.sh            10 s per cell, connections 1, 16, 64
#   tests/benchmarks/run.sh --quick    3 s per cell: a smoke run
#
# It makes a private PostgreSQL cluster (db/local-postgres.sh, BENCH_DIR/postgres), a fresh
# database with the catalog plus BENCH_SYNTHETIC (10,000) synthetic therapies (so the change feed
# holds 10,000+ changes), starts the API and the HTTP floor, and measures:
#   (a) GET /v1/therapies?condition=lymphoma          API, HTTP floor, DB floor (pgbench);
#       and a second API process with its response cache off (Catalog:ResponseCache:Enabled=false)
#   (b) GET /v1/therapies/kymriah (200), and with a matching If-None-Match (304); DB floor
#   (c) GET /v1/changes?limit=100, every page of the feed in turn
#   (d) GET /v1/export (NDJSON) next to COPY (same query) TO STDOUT
#   (e) PUT /v1/therapies/{id} with If-Match, one therapy per connection
# The DB floor runs the exact statements the API sent for (a) and (b), captured from the
# server's log (log_statement=all) and replayed by pgbench -f at the same concurrency.
# Prints a Markdown table and writes it to tests/benchmarks/results/latest.md.
set -euo pipefail
# The API runs as Production, which requires a cursor key of its own.
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kit=$repo/tests/benchmarks
duration=${BENCH_SECONDS:-10}
[[ "${1:-}" == "--quick" ]] && duration=3
connections=(${BENCH_CONNECTIONS:-1 16 64})
write_connections=(${BENCH_WRITE_CONNECTIONS:-1 4})
synthetic=${BENCH_SYNTHETIC:-10000}
bench_dir=${BENCH_DIR:-/tmp/therapy-catalog-bench-kit}
api_port=${BENCH_API_PORT:-5111}
floor_port=${BENCH_FLOOR_PORT:-5112}
uncached_port=${BENCH_UNCACHED_PORT:-5113}
work=$bench_dir/work
results=$kit/results
api_key=benchmark-bootstrap-key-0123456789
export CATALOG_PG_DIR=$bench_dir/postgres CATALOG_PG_FAST=1

# --- tools
if ! command -v wrk >/dev/null; then
  echo "== installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v pgbench >/dev/null || { echo "pgbench not found (it ships with PostgreSQL: install postgresql-client)" >&2; exit 1; }

mkdir -p "$bench_dir" "$work" "$results"
chmod 755 "$bench_dir"
rm -rf "${work:?}"/*

echo "== building Release (API, HTTP floor)"
dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
dotnet build "$repo/tests/TherapyCatalog.Benchmarks/HttpFloor" -c Release -v quiet -nologo >/dev/null
api_dll=$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll
floor_dll=$repo/tests/TherapyCatalog.Benchmarks/HttpFloor/bin/Release/net10.0/HttpFloor.dll

# --- database
url=$("$repo/db/local-postgres.sh" start | tail -n 1)
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$url")
database=catalog_kit
pg() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
pg -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$database;Timeout=30;Command Timeout=600"
echo "== migrating, loading the catalog and $synthetic synthetic therapies"
ConnectionStrings__Catalog=$connection dotnet "$api_dll" --migrate-only >/dev/null
BENCH_THERAPIES=$synthetic "$kit/synthetic-copies.sh" "$pg_port" "$database"
therapies=$(pg -d "$database" -tAc "SELECT count(*) FROM therapies WHERE deleted_at IS NULL")
changes=$(pg -d "$database" -tAc "SELECT count(*) FROM changes")

api_pid="" uncached_pid="" floor_pid=""
cleanup() {
  [[ -n "$api_pid" ]] && kill "$api_pid" 2>/dev/null || true
  [[ -n "$uncached_pid" ]] && kill "$uncached_pid" 2>/dev/null || true
  [[ -n "$floor_pid" ]] && kill "$floor_pid" 2>/dev/null || true
  [[ "${BENCH_KEEP:-}" == 1 ]] || "$repo/db/local-postgres.sh" stop
}
trap cleanup EXIT

# start_api <port> [VAR=value ...]: an API process with these extra settings; its pid in $started.
start_api() {
  local port=$1; shift
  env "$@" ConnectionStrings__Catalog="$connection" Catalog__MigrateOnStartup=false \
    Catalog__RateLimits__ReadsPerMinute=100000000 Catalog__RateLimits__WritesPerMinute=100000000 \
    Catalog__BootstrapApiKey=$api_key Logging__LogLevel__Default=Warning \
    dotnet "$api_dll" --urls "http://127.0.0.1:$port" >>"$work/api-$port.log" 2>&1 &
  started=$!
  for _ in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/health/live" && return
    sleep 0.25
  done
  echo "the API did not start; see $work/api-$port.log" >&2; exit 1
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

api=http://127.0.0.1:$api_port
list_path="/v1/therapies?condition=lymphoma"
get_path="/v1/therapies/kymriah"

# --- capture the exact SQL of (a) and (b) for pgbench: log every statement of one request each
echo "== capturing the SQL of (a) and (b)"
pg -d postgres -c "ALTER DATABASE $database SET log_statement = 'all'"
start_api "$api_port" Catalog__ResponseCache__Enabled=false # every request reaches the database
api_pid=$started
curl -fs -o /dev/null "$api$get_path" # warm-up: Npgsql's type loading is not part of a request
log=$CATALOG_PG_DIR/data/server.log
mark() { pg -d "$database" -c "SELECT 'bench-mark-$1'" >/dev/null; }
mark a-start; curl -fs -o "$work/list.json" "$api$list_path"; mark a-end
mark b-start; curl -fs -o /dev/null "$api$get_path"; mark b-end
pg -d postgres -c "ALTER DATABASE $database RESET log_statement"
python3 "$kit/capture-sql.py" "$log" bench-mark-a-start bench-mark-a-end >"$work/db-floor-a.sql"
python3 "$kit/capture-sql.py" "$log" bench-mark-b-start bench-mark-b-end >"$work/db-floor-b.sql"
# Npgsql's pool reset (DISCARD ALL, sent ahead of a returned connection's next command) is the
# pool's cost, not the request's SQL. pgbench runs the scripts in simple-protocol mode: in
# extended mode it reads `[:alnum:]` in the matcher's regular expressions as a variable.
sed -i '/^DISCARD ALL;$/d' "$work/db-floor-a.sql" "$work/db-floor-b.sql"
stop "$api_pid" # its pooled connections would keep logging

start_api "$api_port"
api_pid=$started
# A second API process with the response cache off, for (a) answered from the database every time.
start_api "$uncached_port" Catalog__ResponseCache__Enabled=false
uncached_pid=$started
floor_etag=$(curl -fs -D - -o /dev/null "$api$list_path" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')
etag=$(curl -fs -D - -o /dev/null "$api$get_path" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')
dotnet "$floor_dll" "$work/list.json" "${floor_etag:-\"floor\"}" --urls "http://127.0.0.1:$floor_port" >"$work/floor.log" 2>&1 &
floor_pid=$!
for _ in $(seq 1 60); do curl -fs -o /dev/null "http://127.0.0.1:$floor_port/" && break; sleep 0.25; done

# Change-feed cursors: walk the feed once with limit=100, keep every `after`.
: >"$work/cursors.txt"
after=""
while true; do
  echo "$after" >>"$work/cursors.txt"
  page=$(curl -fs "$api/v1/changes?limit=100${after:+&after=$after}")
  [[ $(jq '.changes | length' <<<"$page") -lt 100 ]] && break
  after=$(jq -r '.nextCursor' <<<"$page")
done
pages=$(wc -l <"$work/cursors.txt")

# Write bodies: the therapy's own document as TherapyInput, and the same with another summary.
mkdir -p "$work/bodies"
pg -d "$database" -tAc "SELECT id FROM therapies WHERE slug LIKE 'synthetic-%' ORDER BY slug LIMIT 64" >"$work/ids.txt"
while read -r id; do
  curl -fs "$api/v1/therapies/$id" | jq -c 'del(.id, .version, .createdAt, .updatedAt)
      | .indications |= map({conditionId, population, regulator, approvedOn})' >"$work/bodies/$id.a.json"
  jq -c '.administration.summary = ((.administration.summary // "") + " (benchmark)")' \
    "$work/bodies/$id.a.json" >"$work/bodies/$id.b.json"
done <"$work/ids.txt"

# --- measuring
rows=()
peak_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
# wrk <label> <floor-ratio-key> <connections> <threads> <script> <url> [env...]
run_wrk() {
  local label=$1 conns=$2 threads=$3 script=$4 target=$5; shift 5
  local line
  line=$(cd "$kit/wrk" && env "$@" wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$script" "$target" | grep '^BENCH ')
  read -r _ requests micros p50 p99 status_errors socket_errors <<<"$line"
  local rps
  rps=$(awk -v r="$requests" -v d="$micros" 'BEGIN { x = r / (d / 1e6); printf (x < 100 ? "%.2f" : "%.0f"), x }')
  printf '%s|%s|%s|%.2f|%.2f|%s\n' "$label" "$conns" "$rps" "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" \
    "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" "$((status_errors + socket_errors))"
}
# pgbench <label> <script> <connections>
run_pgbench() {
  local label=$1 script=$2 conns=$3 out
  # The API's connections run with jit=off (CatalogDatabase); so does the floor.
  out=$(PGOPTIONS="-c jit=off" pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M simple -c "$conns" -j "$(( conns < 2 ? 1 : 2 ))" \
    -T "$duration" -f "$script" --log --log-prefix="$work/pgbench" "$database" 2>&1)
  local tps p50 p99
  tps=$(awk '/^tps = / { printf "%.0f", $3 }' <<<"$out")
  read -r p50 p99 < <(cat "$work"/pgbench.* | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END {
    i = int(NR * 0.5); if (i < 1) i = 1; j = int(NR * 0.99); if (j < 1) j = 1
    printf "%.2f %.2f\n", a[i] / 1000, a[j] / 1000 }')
  rm -f "$work"/pgbench.*
  printf '%s|%s|%s|%s|%s|%s\n' "$label" "$conns" "$tps" "$p50" "$p99" "$(awk '/number of failed transactions/ { print $5 }' <<<"$out")"
}

echo "== measuring ($duration s per cell)"
for c in "${connections[@]}"; do
  t=$(( c < 2 ? 1 : 2 ))
  rows+=("$(run_wrk "(a) API list condition=lymphoma" "$c" "$t" get.lua "$api$list_path")")
  rows+=("$(run_wrk "(a) HTTP floor (same bytes from memory)" "$c" "$t" get.lua "http://127.0.0.1:$floor_port$list_path")")
  rows+=("$(run_pgbench "(a) DB floor (pgbench, same SQL)" "$work/db-floor-a.sql" "$c")")
  rows+=("$(run_wrk "(a) API list, response cache off" "$c" "$t" get.lua "http://127.0.0.1:$uncached_port$list_path")")
  rows+=("$(run_wrk "(b) API get by slug, 200" "$c" "$t" get.lua "$api$get_path")")
  rows+=("$(run_wrk "(b) API get by slug, If-None-Match: 304" "$c" "$t" if-none-match.lua "$api$get_path" BENCH_ETAG="$etag")")
  rows+=("$(run_wrk "(b) HTTP floor, If-None-Match: 304" "$c" "$t" if-none-match.lua "http://127.0.0.1:$floor_port$get_path" BENCH_ETAG="${floor_etag:-\"floor\"}")")
  rows+=("$(run_pgbench "(b) DB floor (pgbench, same SQL)" "$work/db-floor-b.sql" "$c")")
  rows+=("$(run_wrk "(c) API changes, limit=100, $pages pages in turn" "$c" "$t" changes.lua "$api" BENCH_CURSORS="$work/cursors.txt")")
done
rows+=("$(run_wrk "(d) API export NDJSON ($therapies therapies)" 1 1 get.lua "$api/v1/export?format=ndjson")")
for c in "${write_connections[@]}"; do
  rows+=("$(run_wrk "(e) API PUT with If-Match" "$c" "$c" put.lua "$api" BENCH_IDS="$work/ids.txt" BENCH_BODIES="$work/bodies" BENCH_API_KEY="$api_key")")
done
api_peak=$(( $(peak_kb "$api_pid") / 1024 ))
floor_peak=$(( $(peak_kb "$floor_pid") / 1024 ))

# COPY of the export's rows, timed like one export.
query="SELECT v.document::text FROM therapies t JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version WHERE t.deleted_at IS NULL ORDER BY t.id"
copy_start=$(date +%s.%N)
for _ in 1 2 3; do pg -d "$database" -c "COPY ($query) TO STDOUT" >/dev/null; done
copy_per_s=$(awk -v s="$copy_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", 3 / (e - s) }')

# --- the table
{
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), ${duration} s per cell, on $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo));"
  echo "PostgreSQL $(pg -d postgres -tAc 'SHOW server_version' | cut -d' ' -f1) (fsync off), .NET $(dotnet --version), wrk and pgbench on the same machine."
  echo "Catalog: $therapies live therapies, $changes changes. API peak RSS (VmHWM) over the whole run: **$api_peak MiB**; HTTP floor: $floor_peak MiB."
  echo
  echo "| workload | conns | req/s | p50 ms | p99 ms | errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
  echo "| (d) COPY (same query) TO STDOUT, psql | 1 | $copy_per_s | | | |"
  echo
  echo "Targets (from this run):"
  printf '%s\n' "${rows[@]}" | awk -F'|' -v copy="$copy_per_s" -v top="${connections[-1]}" '
    $2 == top && $1 ~ /^\(a\) API list condition/ { a = $3; a99 = $5 }
    $2 == top && $1 ~ /^\(a\) API list, response cache off/ { aoff = $3; aoff99 = $5 }
    $2 == top && $1 ~ /^\(a\) DB floor/ { adb = $3 }
    $2 == top && $1 ~ /^\(a\) HTTP floor/ { http = $3 }
    $2 == top && $1 ~ /^\(b\) API .*304/ { b = $3 }
    $2 == top && $1 ~ /^\(b\) HTTP floor/ { b304 = $3 }
    $1 ~ /^\(d\) API export/ { d = $3 }
    function verdict(ok) { return ok ? "met" : "missed" }
    END {
      if (adb > 0) printf "- (a) at %s connections: %.0f%% of the DB floor (target >= 70%%: %s); p99 %.1f ms (target <= 25 ms: %s)\n", top, 100 * a / adb, verdict(a >= 0.7 * adb), a99, verdict(a99 <= 25)
      if (adb > 0 && aoff > 0) printf "- (a) with the response cache off, at %s connections: %.0f%% of the DB floor (target >= 70%%: %s); p99 %.1f ms (target <= 25 ms: %s)\n", top, 100 * aoff / adb, verdict(aoff >= 0.7 * adb), aoff99, verdict(aoff99 <= 25)
      if (http > 0) printf "- (b) 304 at %s connections: %.0f%% of the HTTP floor serving (a)'"'"'s bytes, %.0f%% of the floor'"'"'s own 304 (target >= 50%%: %s)\n", top, 100 * b / http, 100 * b / b304, verdict(b >= 0.5 * http)
      if (copy > 0) printf "- (d) export: %.0f%% of COPY'"'"'s throughput (target >= 50%%: %s)\n", 100 * d / copy, verdict(d >= 0.5 * copy)
    }'
} >"$results/latest.md"
cat "$results/latest.md"
