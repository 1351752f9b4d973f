#!/usr/bin/env bash
# Soak test (not part of `dotnet test`): SOAK_SECONDS (default 600) of mixed load against the API
# in Release on a private PostgreSQL cluster, then the API's resident memory (VmRSS) and its open
# database connections (pg_stat_activity, application_name 'therapy-catalog') at the start and the
# end of the load, and again once the load has stopped. Both should be flat: memory and
# connections must not grow with the number of requests served.
#
#   tests/benchmarks/soak.sh                       10 minutes
#   SOAK_SECONDS=180 tests/benchmarks/soak.sh      3 minutes
#   SOAK_READERS=6 SOAK_WRITERS=2 ...              concurrent client loops (curl, one request at a time each)
#
# The load: readers cycle through get-by-slug, history, list and search, facets, conditions,
# the change feed and a small export; writers create a therapy, patch it a few times and delete it.
set -euo pipefail
# The API runs as Production, which requires a cursor key of its own.
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${SOAK_SECONDS:-600}
readers=${SOAK_READERS:-6}
writers=${SOAK_WRITERS:-2}
warmup=${SOAK_WARMUP_SECONDS:-20}
work=$(mktemp -d /tmp/therapy-catalog-soak-XXXXXX)
chmod 755 "$work"
export CATALOG_PG_DIR=$work/postgres CATALOG_PG_FAST=1
api_pid=""
loops=()

cleanup() {
  for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "$api_pid" ]]; then kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi
  "$repo/db/local-postgres.sh" destroy || true
  rm -rf "$work"
}
trap cleanup EXIT

url=$("$repo/db/local-postgres.sh" start | tail -n 1)
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$url")
psql_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
[[ -x "$psql_bin" ]] || psql_bin=psql
connections() {
  "$psql_bin" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -tAc \
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'therapy-catalog'"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$api_pid/status"; }

echo "== building the API (Release)"
dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
api_dll=$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
admin_key=soak-bootstrap-key-$(date +%s)-$RANDOM

ConnectionStrings__Catalog=$url Catalog__BootstrapApiKey=$admin_key \
  Catalog__RateLimits__ReadsPerMinute=100000000 Catalog__RateLimits__WritesPerMinute=100000000 \
  Logging__LogLevel__Default=Warning \
  dotnet "$api_dll" --urls "$base" >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 120); do
  curl -fs "$base/health/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "$base/health/ready" >/dev/null || { echo "the API did not start:"; tail -n 30 "$work/api.log"; exit 1; }

read_loop() {
  local out=$1 paths=(
    "/v1/therapies/kymriah" "/v1/therapies/kymriah/history" "/v1/therapies?limit=20" "/v1/therapies?condition=lymphoma"
    "/v1/therapies?q=car-t&modality=cell-based-gene" "/v1/facets" "/v1/conditions?q=leuk" "/v1/changes?limit=100"
    "/v1/therapies?condition=lymphona&sort=name" "/v1/export?format=csv")
  local i=0
  while :; do
    curl -s -o /dev/null -w '%{http_code}\n' "$base${paths[i % ${#paths[@]}]}" >>"$out" || echo 000 >>"$out"
    i=$((i + 1))
  done
}

write_loop() {
  local out=$1 n=0
  while :; do
    n=$((n + 1))
    local slug="soak-$BASHPID-$n"
    local body
    body=$(printf '{"slug":"%s","proprietaryName":"Soakcel %s","properName":"soakcabtagene autoleucel","manufacturer":"Soak Therapeutics","modality":"cell-based-gene","cellSource":"autologous","delivery":"ex-vivo","mechanism":"introduce","vector":"lentiviral","vectorDetail":null,"target":"CD19","route":"intravenous","administration":{"summary":"single infusion","infusionMinutes":30,"requiresLeukapheresis":true,"requiresLymphodepletion":true,"rems":false},"indications":[{"conditionId":"large-b-cell-lymphoma","population":"adults","regulator":"FDA","approvedOn":"2024-01-15"}],"approvals":[{"regulator":"FDA","applicationNumber":null,"approvedOn":"2024-01-15","status":"approved"}],"listPrice":null,"ndcs":[],"status":"active","sources":["https://example.org/label"]}' "$slug" "$n")
    local created id
    created=$(curl -s -w '\n%{http_code}' -X POST "$base/v1/therapies" -H "X-Api-Key: $admin_key" -H 'Content-Type: application/json' -d "$body" || true)
    echo "${created##*$'\n'}" >>"$out"
    id=$(sed -nE 's/^\{"id":"([0-9a-f-]{36})".*/\1/p' <<<"${created%$'\n'*}")
    [[ -n "$id" ]] || continue
    for m in 1 2 3; do
      curl -s -o /dev/null -w '%{http_code}\n' -X PATCH "$base/v1/therapies/$id" -H "X-Api-Key: $admin_key" \
        -H 'Content-Type: application/merge-patch+json' -d "{\"manufacturer\":\"Soak Therapeutics $m\"}" >>"$out" || echo 000 >>"$out"
    done
    curl -s -o /dev/null -w '%{http_code}\n' -X DELETE "$base/v1/therapies/$id" -H "X-Api-Key: $admin_key" >>"$out" || echo 000 >>"$out"
  done
}

echo "== load: $readers readers, $writers writers; ${warmup} s warm-up, then ${seconds} s measured (API pid $api_pid, PostgreSQL port $pg_port)"
for r in $(seq 1 "$readers"); do read_loop "$work/codes.read.$r" & loops+=($!); done
for w in $(seq 1 "$writers"); do write_loop "$work/codes.write.$w" & loops+=($!); done
sleep "$warmup"

start_rss=$(rss_kib); start_conn=$(connections); start_requests=$(cat "$work"/codes.* | wc -l)
printf '%8s %10s %12s %9s\n' seconds rss_MiB connections requests
printf '%8d %10.1f %12d %9d\n' 0 "$(bc -l <<<"$start_rss/1024")" "$start_conn" 0
elapsed=0
step=$(( seconds < 60 ? seconds : 60 ))
while (( elapsed < seconds )); do
  sleep "$step"; elapsed=$((elapsed + step))
  printf '%8d %10.1f %12d %9d\n' "$elapsed" "$(bc -l <<<"$(rss_kib)/1024")" "$(connections)" $(( $(cat "$work"/codes.* | wc -l) - start_requests ))
done
end_rss=$(rss_kib); end_conn=$(connections); end_requests=$(cat "$work"/codes.* | wc -l)
peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$api_pid/status")

for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${loops[@]}" 2>/dev/null || true
loops=()
sleep 5
idle_rss=$(rss_kib); idle_conn=$(connections)

served=$((end_requests - start_requests))
echo
echo "== result (${seconds} s measured, $readers readers + $writers writers)"
echo "requests in the measured window: $served ($(( served / seconds )) per second)"
echo "answers by status (whole run, warm-up included):"
cat "$work"/codes.* | sort | uniq -c | sort -rn | awk '{ printf "  %s x %s\n", $2, $1 }'
printf 'RSS:         start %.1f MiB, end %.1f MiB (%+.1f%%), after the load %.1f MiB, peak %.1f MiB\n' \
  "$(bc -l <<<"$start_rss/1024")" "$(bc -l <<<"$end_rss/1024")" "$(bc -l <<<"($end_rss-$start_rss)*100/$start_rss")" \
  "$(bc -l <<<"$idle_rss/1024")" "$(bc -l <<<"$peak_kib/1024")"
echo "connections: start $start_conn, end $end_conn, after the load $idle_conn"
