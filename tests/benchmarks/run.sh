#!/usr/bin/env bash
# The benchmark kit (not part of `dotnet test`): one command, Release build, loopback, load from
# wrk in a second process, floors measured in the same run.
#
#   tests/benchmarks/run.sh            10 s per cell, connections 1, 16, 64
#   tests/benchmarks/run.sh --quick    3 s per cell: a smoke run
#   BENCH_ONLY=f tests/benchmarks/run.sh   only (f) and its two floors (with BENCH_CONNECTIONS=64 and
#                                      BENCH_SECONDS=10: about a minute, build and database included)
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
#   (f) distinct searches (issue 19 calls this workload (c); here (c) was already the change feed):
#       paths from distinct-searches.py (BENCH_DISTINCT, 60,000, more if a run needs them), each
#       requested once, in order, against the API as served; its HTTP floor serves one captured
#       (f) answer of the mean size of a sample; its DB floor replays, pipelined and prepared, the
#       statements the API sent for the BENCH_F_SAMPLE (100) sample requests with the values they
#       were bound to (capture-sql.py --bound: one script per statement shape, a request's values
#       picked at random per transaction). BENCH_F_LITERAL_FLOOR=1 adds a row replaying each sample
#       request as its own script, values written in (a connection's first run of a script pays
#       parse and plan: at 64 connections that is most transactions of a 10 s cell)
# The DB floor runs the exact statements the API sent for (a), (b) and (f), captured from the
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
floor_f_port=${BENCH_FLOOR_F_PORT:-5114}
only=${BENCH_ONLY:-}
[[ -z "$only" || "$only" == f ]] || { echo "BENCH_ONLY: only 'f' is known" >&2; exit 1; }
distinct_count=${BENCH_DISTINCT:-60000}
f_sample=${BENCH_F_SAMPLE:-100}
literal_floor=${BENCH_F_LITERAL_FLOOR:-0}
f_warm=${BENCH_F_WARMUP:-5}
# Once, before the first (f) cell: (f) load at the top connection count, not counted, until the
# API's tiered JIT has settled (dotnet-counters on a fresh process: 1.3-3.4 s of JIT per 5 s for the
# first ~25 s of this load, then under 0.2 s). A service runs warm; a 10 s cell on a fresh process
# measures the compiler. 0 turns it off.
f_jit_warm=${BENCH_F_JIT_WARMUP:-30}
(( f_sample >= 1 )) || { echo "BENCH_F_SAMPLE: at least 1" >&2; exit 1; }
(( literal_floor == 0 || f_sample <= 128 )) || { echo "BENCH_F_SAMPLE: at most 128 with BENCH_F_LITERAL_FLOOR=1 (pgbench takes at most 128 scripts)" >&2; exit 1; }
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

api_pid="" uncached_pid="" floor_pid="" floor_f_pid=""
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
cleanup() {
  [[ -n "$api_pid" ]] && kill "$api_pid" 2>/dev/null || true
  [[ -n "$uncached_pid" ]] && kill "$uncached_pid" 2>/dev/null || true
  [[ -n "$floor_pid" ]] && kill "$floor_pid" 2>/dev/null || true
  if [[ -n "$floor_f_pid" ]]; then kill "$floor_f_pid" 2>/dev/null || true; fi
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

# --- (f)'s paths: the first f_sample are the sample (answers for the HTTP floor's size, SQL for
# the DB floor, taken from an API with the cache off); the measured cells start after them.
paths=$work/distinct.txt
python3 "$kit/distinct-searches.py" --count "$distinct_count" >"$paths"
echo "$f_sample" >"$work/f-offset"
# ensure_paths <lines>: the path file holds at least that many (the generator's first lines do not
# depend on the count, so this only appends).
ensure_paths() {
  if (( $(wc -l <"$paths") < $1 )); then
    python3 "$kit/distinct-searches.py" --count "$1" >"$paths.new" && mv "$paths.new" "$paths"
  fi
}

# --- capture the exact SQL of (a), (b) and the (f) sample for pgbench: log every statement of
# one request each
echo "== capturing the SQL of (a), (b) and (f) ($f_sample requests)"
pg -d postgres -c "ALTER DATABASE $database SET log_statement = 'all'"
start_api "$api_port" Catalog__ResponseCache__Enabled=false # every request reaches the database
api_pid=$started
# warm-up: Npgsql's type loading and a first search are not part of a captured request
curl -fs -o /dev/null "$api$get_path"; curl -fs -o /dev/null "$api$list_path"; curl -fs -o /dev/null "$api/v1/conditions?q=lym"
log=$CATALOG_PG_DIR/data/server.log
mark() { pg -d "$database" -c "SELECT 'bench-mark-$1'" >/dev/null; }
mark a-start; curl -fs -o "$work/list.json" "$api$list_path"; mark a-end
mark b-start; curl -fs -o /dev/null "$api$get_path"; mark b-end
mkdir -p "$work/f-answers" "$work/f-sql"
for i in $(seq 1 "$f_sample"); do
  path=$(sed -n "${i}p" "$paths")
  mark "f$i-start"
  status=$(curl -s -o "$work/f-answers/$i.json" -w '%{http_code}' "$api$path")
  mark "f$i-end"
  [[ "$status" == 2* ]] || { echo "(f) sample $i answered $status: $path" >&2; exit 1; }
done
pg -d postgres -c "ALTER DATABASE $database RESET log_statement"
python3 "$kit/capture-sql.py" "$log" bench-mark-a-start bench-mark-a-end >"$work/db-floor-a.sql"
python3 "$kit/capture-sql.py" "$log" bench-mark-b-start bench-mark-b-end >"$work/db-floor-b.sql"
# (f): the sample's statements with their bound values, one script per statement shape, weighted
# by its number of requests; the values go into bench_floor_<shape> tables.
python3 "$kit/capture-sql.py" --bound "$log" bench-mark-f "$f_sample" "$work/f-bound"
PGOPTIONS="-c client_min_messages=warning" pg -d "$database" -f "$work/f-bound/params.sql"
f_scripts=()
while read -r shape weight; do f_scripts+=(-f "$work/f-bound/shape-$shape.sql@$weight"); done <"$work/f-bound/weights"
f_shapes=$(wc -l <"$work/f-bound/weights")
f_statements=0
while read -r shape weight; do
  f_statements=$(( f_statements + weight * $(grep -c ';$' "$work/f-bound/shape-$shape.sql") ))
done <"$work/f-bound/weights"
# and, if asked for, one script per request with its values written in
f_literal_scripts=()
if (( literal_floor )); then
  for i in $(seq 1 "$f_sample"); do
    python3 "$kit/capture-sql.py" --pipeline "$log" "bench-mark-f$i-start" "bench-mark-f$i-end" >"$work/f-sql/$i.sql"
    f_literal_scripts+=(-f "$work/f-sql/$i.sql@1")
  done
fi
# Npgsql's pool reset (DISCARD ALL, sent ahead of a returned connection's next command) is the
# pool's cost, not the request's SQL (the service turns it off: No Reset On Close). The (a) and
# (b) floors stay in pgbench's simple-protocol mode, as in the earlier runs they are compared with.
sed -i '/^DISCARD ALL;$/d' "$work/db-floor-a.sql" "$work/db-floor-b.sql"
stop "$api_pid" # its pooled connections would keep logging
# The HTTP floor of (f): the sample answer whose size is nearest the sample's mean.
read -r f_mean f_median f_file f_size < <(wc -c "$work"/f-answers/*.json | grep -v ' total$' | sort -n | awk '
  { size[NR] = $1; file[NR] = $2; sum += $1 }
  END { mean = sum / NR; best = 1
        for (i = 1; i <= NR; i++) if ((size[i] - mean)^2 < (size[best] - mean)^2) best = i
        printf "%.0f %d %s %d\n", mean, size[int((NR + 1) / 2)], file[best], size[best] }')

start_api "$api_port"
api_pid=$started
# The HttpFloor takes an ETag after the body file: without one, its command line reads the
# file's path as a setting's name and --urls as its value.
dotnet "$floor_dll" "$f_file" '"floor-f"' --urls "http://127.0.0.1:$floor_f_port" >"$work/floor-f.log" 2>&1 &
floor_f_pid=$!
for _ in $(seq 1 60); do curl -fs -o /dev/null "http://127.0.0.1:$floor_f_port/" && break; sleep 0.25; done
if [[ -z "$only" ]]; then
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
fi

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
# run_wrk_list <label> <connections> <threads> <target> [env...]: wrk/url-list.lua over the (f)
# paths from the offset in $work/f-offset, which it moves past the lines this cell asked for. A
# cell that ran out of paths (repeats) gets a longer file and runs again, once.
run_wrk_list() {
  local label=$1 conns=$2 threads=$3 target=$4; shift 4
  local out offset rps rate room
  for _ in 1 2; do
    offset=$(cat "$work/f-offset")
    # room for four times the fastest (f) cell so far (1,000 req/s before any), at least 20,000 paths
    rate=$(cat "$work/f-rate" 2>/dev/null || echo 1000)
    room=$(( rate * duration * 4 > 20000 ? rate * duration * 4 : 20000 ))
    ensure_paths $(( offset + room ))
    out=$(cd "$kit/wrk" && env "$@" BENCH_PATHS="$paths" BENCH_OFFSET="$offset" BENCH_THREADS="$threads" \
      wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s url-list.lua "$target")
    read -r _ requests micros p50 p99 status_errors socket_errors <<<"$(grep '^BENCH ' <<<"$out")"
    read -r _ next_offset repeats non2xx n503 <<<"$(grep '^URLLIST ' <<<"$out")"
    [[ "${*}" == *BENCH_WRAP=1* ]] || echo "$next_offset" >"$work/f-offset"
    (( repeats == 0 )) && break
    echo "   $label, $conns connections: ran out of paths at line $next_offset ($repeats repeats); again with more" >&2
    echo $(( (requests * 1000000 / micros) * 2 )) >"$work/f-rate"
  done
  rps=$(awk -v r="$requests" -v d="$micros" 'BEGIN { x = r / (d / 1e6); printf (x < 100 ? "%.2f" : "%.0f"), x }')
  if [[ "${*}" != *BENCH_WRAP=1* ]] && (( ${rps%.*} > $(cat "$work/f-rate" 2>/dev/null || echo 0) )); then echo "${rps%.*}" >"$work/f-rate"; fi
  (( status_errors > non2xx )) && non2xx=$status_errors
  printf '%s|%s|%s|%.2f|%.2f|%s\n' "$label" "$conns" "$rps" "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" \
    "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" "$((non2xx + socket_errors + repeats))"
  (( n503 == 0 )) || echo "   $label, $conns connections: $n503 answers were 503" >&2
  (( repeats == 0 )) || echo "   $label, $conns connections: $repeats paths requested twice (counted as errors)" >&2
}
# pgbench <label> <mode> <warm-up seconds> <connections> <script args...>
# With a warm-up, pgbench runs that much longer and only the transactions that ended in the last
# $duration seconds count (tps and latencies from its per-transaction log): new connections first
# load their catalog caches, and -M prepared plans each statement on its first executions.
run_pgbench() {
  local label=$1 mode=$2 warm=$3 conns=$4 out; shift 4
  # The API's connections run with jit=off (CatalogDatabase); so does the floor. A client that
  # hits an SQL error aborts (pgbench exits 2): counted as errors with the failed transactions.
  out=$(PGOPTIONS="-c jit=off" pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M "$mode" -c "$conns" -j "$(( conns < 2 ? 1 : 2 ))" \
    -T "$(( duration + warm ))" "$@" --log --log-prefix="$work/pgbench" "$database" 2>&1) || true
  local tps p50 p99
  tps=$(awk '/^tps = / { printf "%.0f", $3 }' <<<"$out")
  if (( warm > 0 )); then
    # log lines: client transaction latency-us script epoch-s epoch-us (the time it ended)
    tps=$(cat "$work"/pgbench.* | awk -v warm="$warm" -v d="$duration" '
      { end = $5 + $6 / 1e6; e[NR] = end; if (NR == 1 || end - $3 / 1e6 < t0) t0 = end - $3 / 1e6 }
      END { for (i = 1; i <= NR; i++) if (e[i] >= t0 + warm) n++; printf "%.0f", n / d }')
  fi
  read -r p50 p99 < <(cat "$work"/pgbench.* | awk -v warm="$warm" '
      { end = $5 + $6 / 1e6; e[NR] = end; l[NR] = $3; if (NR == 1 || end - $3 / 1e6 < t0) t0 = end - $3 / 1e6 }
      END { for (i = 1; i <= NR; i++) if (e[i] >= t0 + warm) print l[i] }' | sort -n | awk '{ a[NR] = $1 } END {
    i = int(NR * 0.5); if (i < 1) i = 1; j = int(NR * 0.99); if (j < 1) j = 1
    printf "%.2f %.2f\n", a[i] / 1000, a[j] / 1000 }')
  rm -f "$work"/pgbench.*
  local failed aborted
  failed=$(awk '/^number of failed transactions/ { print $5; exit }' <<<"$out")
  aborted=$(grep -c 'aborted in command' <<<"$out" || true)
  (( aborted == 0 )) || grep -m 3 'aborted in command' <<<"$out" >&2
  printf '%s|%s|%s|%s|%s|%s\n' "$label" "$conns" "${tps:-0}" "$p50" "$p99" "$(( ${failed:-0} + aborted ))"
}

if (( f_jit_warm > 0 )); then
  echo "== warming the API up: $f_jit_warm s of (f) at ${connections[-1]} connections, not counted (BENCH_F_JIT_WARMUP)"
  duration=$f_jit_warm run_wrk_list "(f) JIT warm-up" "${connections[-1]}" 2 "$api" >/dev/null
fi
load_measure=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== measuring ($duration s per cell; load average $(cut -d' ' -f1-3 /proc/loadavg))"
for c in "${connections[@]}"; do
  t=$(( c < 2 ? 1 : 2 ))
  if [[ -z "$only" ]]; then
    rows+=("$(run_wrk "(a) API list condition=lymphoma" "$c" "$t" get.lua "$api$list_path")")
    rows+=("$(run_wrk "(a) HTTP floor (same bytes from memory)" "$c" "$t" get.lua "http://127.0.0.1:$floor_port$list_path")")
    rows+=("$(run_pgbench "(a) DB floor (pgbench, same SQL)" simple 0 "$c" -f "$work/db-floor-a.sql")")
    rows+=("$(run_wrk "(a) API list, response cache off" "$c" "$t" get.lua "http://127.0.0.1:$uncached_port$list_path")")
    rows+=("$(run_wrk "(b) API get by slug, 200" "$c" "$t" get.lua "$api$get_path")")
    rows+=("$(run_wrk "(b) API get by slug, If-None-Match: 304" "$c" "$t" if-none-match.lua "$api$get_path" BENCH_ETAG="$etag")")
    rows+=("$(run_wrk "(b) HTTP floor, If-None-Match: 304" "$c" "$t" if-none-match.lua "http://127.0.0.1:$floor_port$get_path" BENCH_ETAG="${floor_etag:-\"floor\"}")")
    rows+=("$(run_pgbench "(b) DB floor (pgbench, same SQL)" simple 0 "$c" -f "$work/db-floor-b.sql")")
    rows+=("$(run_wrk "(c) API changes, limit=100, $pages pages in turn" "$c" "$t" changes.lua "$api" BENCH_CURSORS="$work/cursors.txt")")
  fi
  # the same load for f_warm seconds first, not counted: the pool's new connections, like pgbench's,
  # start with cold caches and unprepared statements
  if (( f_warm > 0 )); then duration=$f_warm run_wrk_list "(f) warm-up" "$c" "$t" "$api" >/dev/null; fi
  rows+=("$(run_wrk_list "(f) API distinct searches (each path once)" "$c" "$t" "$api")")
  rows+=("$(run_wrk_list "(f) HTTP floor (one answer of the mean size, $f_size B)" "$c" "$t" "http://127.0.0.1:$floor_f_port" BENCH_WRAP=1)")
  rows+=("$(run_pgbench "(f) DB floor (pgbench -M prepared, the sample's SQL and values)" prepared "$f_warm" "$c" "${f_scripts[@]}")")
  if (( literal_floor )); then
    rows+=("$(run_pgbench "(f) DB floor, a script per request, values written in" prepared "$f_warm" "$c" "${f_literal_scripts[@]}")")
  fi
done
copy_per_s=0
if [[ -z "$only" ]]; then
rows+=("$(run_wrk "(d) API export NDJSON ($therapies therapies)" 1 1 get.lua "$api/v1/export?format=ndjson")")
for c in "${write_connections[@]}"; do
  rows+=("$(run_wrk "(e) API PUT with If-Match" "$c" "$c" put.lua "$api" BENCH_IDS="$work/ids.txt" BENCH_BODIES="$work/bodies" BENCH_API_KEY="$api_key")")
done

# COPY of the export's rows, timed like one export.
query="SELECT v.document::text FROM therapies t JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version WHERE t.deleted_at IS NULL ORDER BY t.id"
copy_start=$(date +%s.%N)
for _ in 1 2 3; do pg -d "$database" -c "COPY ($query) TO STDOUT" >/dev/null; done
copy_per_s=$(awk -v s="$copy_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", 3 / (e - s) }')
fi
api_peak=$(( $(peak_kb "$api_pid") / 1024 ))
floor_peak=$(( $(peak_kb "${floor_pid:-$floor_f_pid}") / 1024 ))

# --- the table
{
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), ${duration} s per cell, on $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo));"
  echo "PostgreSQL $(pg -d postgres -tAc 'SHOW server_version' | cut -d' ' -f1) (fsync off), .NET $(dotnet --version), wrk and pgbench on the same machine."
  echo "Catalog: $therapies live therapies, $changes changes. API peak RSS (VmHWM) over the whole run: **$api_peak MiB**; HTTP floor: $floor_peak MiB."
  echo "Load average at the start: $load_start; before measuring: $load_measure; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "(f): $(( $(cat "$work/f-offset") - f_sample )) distinct paths used (lines $((f_sample + 1))-$(cat "$work/f-offset") of $(wc -l <"$paths"), distinct-searches.py), none twice;"
  echo "its HTTP floor serves the sample answer nearest the mean size of the $f_sample sample answers (mean $f_mean B, median $f_median B: $f_size B);"
  echo "its DB floor replays the $f_statements statements the API sent for those $f_sample requests, with the values they were bound to:"
  echo "$f_shapes pgbench scripts (one per statement shape, weighted by its requests), each transaction a primary-key read of one request's values (\\gset), then its statements in one pipeline;"
  echo "it runs $f_warm s longer than a cell and counts the transactions of the last $duration s only; each (f) API cell follows $f_warm s of the same load, not counted (BENCH_F_WARMUP), and the first one $f_jit_warm s of it at ${connections[-1]} connections (BENCH_F_JIT_WARMUP)."
  echo
  echo "| workload | conns | req/s | p50 ms | p99 ms | errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
  [[ -n "$only" ]] || echo "| (d) COPY (same query) TO STDOUT, psql | 1 | $copy_per_s | | | |"
  echo
  echo "Targets (from this run):"
  printf '%s\n' "${rows[@]}" | awk -F'|' -v copy="$copy_per_s" -v top="${connections[-1]}" '
    $2 == top && $1 ~ /^\(a\) API list condition/ { a = $3; a99 = $5 }
    $2 == top && $1 ~ /^\(a\) API list, response cache off/ { aoff = $3; aoff99 = $5 }
    $2 == top && $1 ~ /^\(a\) DB floor/ { adb = $3 }
    $2 == top && $1 ~ /^\(a\) HTTP floor/ { http = $3 }
    $2 == top && $1 ~ /^\(b\) API .*304/ { b = $3 }
    $2 == top && $1 ~ /^\(b\) HTTP floor/ { b304 = $3 }
    $2 == top && $1 ~ /^\(f\) API/ { f = $3; f99 = $5; ferr = $6 }
    $2 == top && $1 ~ /^\(f\) HTTP floor/ { fhttp = $3 }
    $2 == top && $1 ~ /^\(f\) DB floor \(/ { fdb = $3; fdberr = $6 }
    $1 ~ /^\(d\) API export/ { d = $3 }
    function verdict(ok) { return ok ? "met" : "missed" }
    END {
      printf "- (f) at %s connections: %s req/s = %.2f x issue 19'"'"'s 740 req/s (target >= 4: %s)\n", top, f, f / 740, verdict(f >= 4 * 740)
      if (fhttp > 0) printf "- (f) at %s connections: %.3f of its HTTP floor (target >= 0.08: %s)\n", top, f / fhttp, verdict(f >= 0.08 * fhttp)
      printf "- (f) at %s connections: p99 %.1f ms (target <= 60 ms: %s); %d errors (target 0: %s)\n", top, f99, verdict(f99 <= 60), ferr, verdict(ferr == 0)
      if (fdb > 0) printf "- (f) at %s connections: %.2f of its DB floor (target >= 0.7: %s); the floor had %d failed or aborted\n", top, f / fdb, verdict(f >= 0.7 * fdb), fdberr
      if (adb > 0) printf "- (a) at %s connections: %.0f%% of the DB floor (target >= 70%%: %s); p99 %.1f ms (target <= 25 ms: %s)\n", top, 100 * a / adb, verdict(a >= 0.7 * adb), a99, verdict(a99 <= 25)
      if (adb > 0 && aoff > 0) printf "- (a) with the response cache off, at %s connections: %.0f%% of the DB floor (target >= 70%%: %s); p99 %.1f ms (target <= 25 ms: %s)\n", top, 100 * aoff / adb, verdict(aoff >= 0.7 * adb), aoff99, verdict(aoff99 <= 25)
      if (http > 0) printf "- (b) 304 at %s connections: %.0f%% of the HTTP floor serving (a)'"'"'s bytes, %.0f%% of the floor'"'"'s own 304 (target >= 50%%: %s)\n", top, 100 * b / http, 100 * b / b304, verdict(b >= 0.5 * http)
      if (copy > 0) printf "- (d) export: %.0f%% of COPY'"'"'s throughput (target >= 50%%: %s)\n", 100 * d / copy, verdict(d >= 0.5 * copy)
    }'
} >"$results/${BENCH_RESULT:-latest}.md"
cat "$results/${BENCH_RESULT:-latest}.md"
