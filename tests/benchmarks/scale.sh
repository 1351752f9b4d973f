#!/usr/bin/env bash
# Scale benchmark (not part of `dotnet test`): the same requests at 1k, 100k and 1M therapies.
#
#   tests/benchmarks/scale.sh                 1000 100000 1000000
#   tests/benchmarks/scale.sh 1000 100000     only these sizes
#
# Per size, a database in a private cluster (BENCH_DIR/postgres, kept between runs: delete the
# folder to start over) filled by the generator of SearchQueryPlanTests (read from its source, so
# there is one generator: 20,000 conditions under 20 roots, two indications and one approval per
# therapy, 1 in 50 withdrawn), with its 1,000,000 replaced by the size. Then, one connection,
# BENCH_SECONDS (10) each: (a) condition=lymphoma, the first page by name, a deep keyset page (the
# page after row 199,900, i.e. the 10,000th page of 20, or the last full page of a smaller
# catalog, reached by walking the cursors) and the unfiltered facets. Cost = p50 latency, with
# the API's response cache off. Then (f), distinct searches: run.sh's workload (f), the same path
# file (distinct-searches.py from the data files' conditions, which every scale database holds: the
# migration loads the catalog; checksum printed), each path requested once, at 1 connection (p50 =
# the cost per search) and at BENCH_F_CONNECTIONS (64), each cell after BENCH_F_WARMUP (5) s of the
# same load, not counted. Those searches reach the catalog's therapies only, at every size, past
# 20,020 synthetic conditions and the size's synthetic therapies and indications. The synthetic
# conditions themselves make a poor vocabulary: they all share the words "synthoma", "synthetic"
# and "disorder", so nearly every search built from them is a fuzzy match over thousands of
# conditions (at 1k therapies: p50 57 ms at 1 connection, 10.7 req/s); BENCH_F_VOCABULARY=database
# builds the paths from the database's conditions all the same. BENCH_ONLY=f measures (f) alone
# (no deep-page walk).
# Export throughput and memory come from export-1m.sh (realistic 3.6 kB documents) at each size.
# Appends a Markdown table to tests/benchmarks/results/scale.md.
set -euo pipefail
# The API runs as Production, which requires a cursor key of its own.
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kit=$repo/tests/benchmarks
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000 100000 1000000)
duration=${BENCH_SECONDS:-10}
bench_dir=${BENCH_DIR:-/tmp/therapy-catalog-bench-scale}
api_port=${BENCH_API_PORT:-5121}
only=${BENCH_ONLY:-}
f_connections=${BENCH_F_CONNECTIONS:-64}
f_warm=${BENCH_F_WARMUP:-5}
export CATALOG_PG_DIR=$bench_dir/postgres CATALOG_PG_FAST=1
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$bench_dir" "$kit/results"
chmod 755 "$bench_dir"

dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
api_dll=$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll
url=$("$repo/db/local-postgres.sh" start | tail -n 1)
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$url")
pg() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

# SearchQueryPlanTests.GenerateSql, as written in the test.
generator=$(sed -n '/private const string GenerateSql = """/,/""";/p' "$repo/tests/TherapyCatalog.Tests/Therapies/SearchQueryPlanTests.cs" | sed '1d;$d')
[[ -n "$generator" ]] || { echo "scale: GenerateSql not found in SearchQueryPlanTests.cs" >&2; exit 1; }

api_pid=""
trap '[[ -n "$api_pid" ]] && kill "$api_pid" 2>/dev/null; [[ "${BENCH_KEEP:-}" == 1 ]] || "$repo/db/local-postgres.sh" stop' EXIT

measure() { # label target [wrk args]
  local label=$1 target=$2; shift 2
  local line
  line=$(cd "$kit/wrk" && wrk -t1 -c1 -d"${duration}s" --timeout 60s --latency -s get.lua "$@" "$target" | grep '^BENCH ')
  read -r _ requests micros p50 p99 errors socket <<<"$line"
  printf '| %s | %s | %s | %.2f | %.2f | %s |\n' "$n" "$label" "$(awk -v r="$requests" -v d="$micros" 'BEGIN { printf "%.1f", r / (d / 1e6) }')" \
    "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" "$((errors + socket))"
}

# measure_f <label> <connections>: wrk/url-list.lua over $paths from the offset in $bench_dir/f-offset.
measure_f() {
  local label=$1 conns=$2 threads line offset
  threads=$(( conns < 2 ? 1 : 2 ))
  offset=$(cat "$bench_dir/f-offset")
  line=$(cd "$kit/wrk" && BENCH_PATHS="$paths" BENCH_OFFSET="$offset" BENCH_THREADS="$threads" \
    wrk -t"$threads" -c"$conns" -d"${f_duration:-$duration}s" --timeout 60s --latency -s url-list.lua "$api" | grep -E '^(BENCH|URLLIST) ')
  read -r _ requests micros p50 p99 errors socket <<<"$(grep '^BENCH ' <<<"$line")"
  read -r _ next repeats non2xx _ <<<"$(grep '^URLLIST ' <<<"$line")"
  echo "$next" >"$bench_dir/f-offset"
  (( repeats == 0 )) || echo "   (f) ran out of paths at line $next: $repeats requested twice (BENCH_DISTINCT)" >&2
  (( errors > non2xx )) && non2xx=$errors
  printf '| %s | %s | %s | %.2f | %.2f | %s |\n' "$n" "$label" "$(awk -v r="$requests" -v d="$micros" 'BEGIN { printf "%.1f", r / (d / 1e6) }')" \
    "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" "$((non2xx + socket + repeats))"
  echo "$p50" >"$bench_dir/f-p50-$n-$conns"
}

table=$kit/results/scale.md
rm -f "$bench_dir"/f-p50-*
{
  echo
  echo "Scale run $(date -u '+%Y-%m-%d %H:%M UTC'), ${duration} s per cell, 1 connection unless said, $(nproc) shared cores (load average $(cut -d' ' -f1-3 /proc/loadavg))."
  echo
  echo "| therapies | request | req/s | p50 ms | p99 ms | errors |"
  echo "|---:|---|---:|---:|---:|---:|"
} >>"$table"

for n in "${sizes[@]}"; do
  database=catalog_scale_$n
  connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$database;Timeout=30;Command Timeout=600"
  fresh=0
  if ! pg -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    pg -d postgres -c "CREATE DATABASE $database"
    fresh=1
  fi
  # A database kept from an earlier run is brought to this build's schema too (a no-op when it is).
  ConnectionStrings__Catalog=$connection dotnet "$api_dll" --migrate-only >/dev/null
  if (( fresh )); then
    echo "== $n: generating"
    start=$(date +%s)
    pg -d "$database" <<<"${generator//1000000/$n}"
    pg -d "$database" -c "VACUUM ANALYZE"
    echo "   generated in $(( $(date +%s) - start )) s"
  fi

  # The response cache off: the cost measured at each size is the database work, which the cache
  # would do once per 10 s cell and then hide.
  ConnectionStrings__Catalog=$connection Catalog__MigrateOnStartup=false Logging__LogLevel__Default=Warning \
    Catalog__RateLimits__ReadsPerMinute=100000000 Catalog__ResponseCache__Enabled=false \
    dotnet "$api_dll" --urls "http://127.0.0.1:$api_port" >"$bench_dir/api.log" 2>&1 &
  api_pid=$!
  api=http://127.0.0.1:$api_port
  for _ in $(seq 1 120); do curl -fs -o /dev/null "$api/health/live" && break; sleep 0.25; done

  # (f)'s paths from this database's conditions (or the data files').
  if [[ "${BENCH_F_VOCABULARY:-data}" == database ]]; then
    vocabulary=$bench_dir/conditions-$n.json vocabulary_label="the database's"
    pg -d "$database" -tAc "SELECT json_agg(json_build_object('name', name, 'synonyms', synonyms, 'icd10', icd10) ORDER BY id) FROM conditions" >"$vocabulary"
  else
    vocabulary=$repo/db/data/conditions vocabulary_label="data files'"
  fi
  paths=$bench_dir/paths-$n.txt
  python3 "$kit/distinct-searches.py" --conditions "$vocabulary" --count "${BENCH_DISTINCT:-60000}" >"$paths"
  echo 0 >"$bench_dir/f-offset"
  echo "== $n: (f) paths from $(basename "$vocabulary"): $(wc -l <"$paths") lines, md5 $(md5sum <"$paths" | cut -c1-12)"

  if [[ "$only" != f ]]; then
  # Walk to the deep page: limit=100 pages up to row 199,900 (or the last full page).
  # (the list shows active therapies only: 1 in 50 synthetic ones is withdrawn)
  active=$(pg -d "$database" -tAc "SELECT count(*) FROM therapies WHERE deleted_at IS NULL AND status = 'active'")
  target_row=$(( active - 100 < 199900 ? (active - 100) / 100 * 100 : 199900 ))
  cursor="" row=0
  while (( row < target_row )); do
    cursor=$(curl -fs "$api/v1/therapies?limit=100${cursor:+&cursor=$cursor}" | jq -r '.nextCursor')
    row=$((row + 100))
  done
  echo "== $n: measuring (deep page after row $row)"
  {
    measure "(a) condition=lymphoma" "$api/v1/therapies?condition=lymphoma"
    measure "first page, by name" "$api/v1/therapies?limit=20"
    measure "deep page (after row $row), by name" "$api/v1/therapies?limit=20&cursor=$cursor"
    measure "facets, unfiltered" "$api/v1/facets"
  } | tee -a "$table"
  fi
  echo "== $n: measuring (f) (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  f_duration=$f_warm measure_f warm-up 1 >/dev/null
  measure_f "(f) distinct searches ($vocabulary_label vocabulary), each path once" 1 | tee -a "$table"
  if (( f_connections > 1 )); then
    f_duration=$f_warm measure_f warm-up "$f_connections" >/dev/null
    measure_f "(f) distinct searches ($vocabulary_label vocabulary), each path once, $f_connections connections" "$f_connections" | tee -a "$table"
  fi
  kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; api_pid=""
done

# (f)'s cost per search (p50 at 1 connection), largest size over smallest; target <= 2x from 1k to 1M.
small=${sizes[0]} large=${sizes[-1]}
if (( ${#sizes[@]} > 1 )) && [[ -f "$bench_dir/f-p50-$small-1" && -f "$bench_dir/f-p50-$large-1" ]]; then
  awk -v a="$(cat "$bench_dir/f-p50-$small-1")" -v b="$(cat "$bench_dir/f-p50-$large-1")" -v s="$small" -v l="$large" 'BEGIN {
    printf "\n(f) cost per search (p50, 1 connection): %.2f ms at %s, %.2f ms at %s therapies: %.2fx (target <= 2x from 1k to 1M: %s)\n",
      a / 1000, s, b / 1000, l, b / a, (b <= 2 * a ? "met" : "missed") }' | tee -a "$table"
fi

if [[ "${BENCH_EXPORT:-1}" == 1 ]]; then
  for n in "${sizes[@]}"; do
    echo "== export at $n therapies (export-1m.sh)"
    { echo; echo "Export, $n synthetic therapies + the catalog (export-1m.sh):"; echo '```'; } >>"$table"
    BENCH_THERAPIES=$n "$kit/export-1m.sh" 2>&1 | sed -n '/== results/,$p' | tee -a "$table"
    echo '```' >>"$table"
  done
fi
