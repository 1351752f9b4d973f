#!/usr/bin/env bash
# Old path against new (not part of `dotnet test`): the same search requests through the API built
# from OLD_REV and the API built from the working tree, both on one database, and every answer
# compared byte for byte (status, body, ETag, X-Catalog-Cursor). Exits 1 on the first difference
# count above zero.
#
#   tests/benchmarks/differential.sh              OLD_REV = c311c95 (before issue 19's search changes)
#   tests/benchmarks/differential.sh <rev>        any other revision
#   DIFF_DISTINCT=5000 tests/benchmarks/differential.sh   how many workload (f) paths (default 3000)
#
# The requests: every typed condition of the table-driven search tests (SearchConditionQueryTests:
# the rows of its table and its InlineData), each as `condition=`, as free text `q=`, with a
# modality, sorted by name, with `limit=1` and the page after it (the cursor from the answer,
# the same in both: one cursor key), as facets and as autocomplete; then the first DIFF_DISTINCT
# paths of workload (f) (distinct-searches.py), each path once. Both APIs run as served (the
# response cache on: no path is asked twice, so no answer comes from it, while the new API's kept
# condition matches serve every text asked before).
set -euo pipefail
export Catalog__CursorKey=${Catalog__CursorKey:-$(head -c 32 /dev/urandom | base64)}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kit=$repo/tests/benchmarks
old_rev=${1:-c311c95}
work=$(mktemp -d /tmp/therapy-catalog-differential-XXXXXX)
chmod 755 "$work"
export CATALOG_PG_DIR=$work/postgres CATALOG_PG_FAST=1
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$repo/db/local-postgres.sh" destroy >/dev/null 2>&1 || true
  git -C "$repo" worktree remove --force "$work/old" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building $old_rev and the working tree (Release)"
git -C "$repo" worktree add --detach -q "$work/old" "$old_rev"
dotnet build "$work/old/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null
dotnet build "$repo/src/TherapyCatalog.Api" -c Release -v quiet -nologo >/dev/null

url=$("$repo/db/local-postgres.sh" start | tail -n 1)
ConnectionStrings__Catalog="$url" dotnet "$repo/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll" --migrate-only >/dev/null

start() { # start <tree> <port>
  ConnectionStrings__Catalog="$url" Catalog__MigrateOnStartup=false \
    Catalog__RateLimits__ReadsPerMinute=100000000 Logging__LogLevel__Default=Warning \
    dotnet "$1/src/TherapyCatalog.Api/bin/Release/net10.0/TherapyCatalog.Api.dll" --urls "http://127.0.0.1:$2" >>"$work/api-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$2/health/ready" && return; sleep 0.25; done
  echo "the API in $1 did not start; see $work/api-$2.log" >&2; exit 1
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
old_port=$(port); start "$work/old" "$old_port"
new_port=$(port); start "$repo" "$new_port"

python3 "$kit/distinct-searches.py" --count "${DIFF_DISTINCT:-3000}" >"$work/distinct.txt"
python3 - "$repo/tests/TherapyCatalog.Tests/Therapies/SearchConditionQueryTests.cs" "$work/distinct.txt" "$old_port" "$new_port" <<'PY'
import http.client, json, re, sys, urllib.parse
source, distinct, old_port, new_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text = open(source, encoding="utf-8").read()
typed = re.findall(r'^\s*\{ "[^"]*", "((?:[^"\\]|\\.)*)"', text, re.M) + re.findall(r'\[InlineData\("((?:[^"\\]|\\.)*)"', text)
typed = list(dict.fromkeys(json.loads('"' + t + '"') for t in typed))
paths = []
for t in typed:
    e = urllib.parse.quote(t)
    paths += [f"/v1/therapies?condition={e}", f"/v1/therapies?q={e}", f"/v1/therapies?condition={e}&modality=gene",
              f"/v1/therapies?condition={e}&sort=name", f"/v1/therapies?condition={e}&status=any&limit=1",
              f"/v1/facets?condition={e}", f"/v1/conditions?q={e}", f"/v1/conditions?q={e[:3]}&limit=20"]
paths += [f"/v1/therapies?q={e}&condition=lymphoma" for e in ("kite", "novartis", "car-t")]
paths += ["/v1/therapies", "/v1/therapies?sort=-approvedOn&limit=100", "/v1/facets", "/v1/conditions"]
paths += [p.strip() for p in open(distinct, encoding="utf-8") if p.strip()]
paths = list(dict.fromkeys(paths))
old, new = http.client.HTTPConnection("127.0.0.1", old_port), http.client.HTTPConnection("127.0.0.1", new_port)

def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    return (r.status, r.getheader("ETag"), r.getheader("X-Catalog-Cursor"), body, r.getheader("Link"))

compared = same = 0
statuses, differing = {}, []
queue = list(paths)
while queue:
    path = queue.pop(0)
    a, b = get(old, path), get(new, path)
    compared += 1
    statuses[a[0]] = statuses.get(a[0], 0) + 1
    if a[:4] == b[:4]:
        same += 1
        # Follow one next page of each limit=1 request: the cursor is the same in both answers.
        if "limit=1" in path and a[4] and "cursor=" not in path:
            queue.append(a[4].split(">")[0].lstrip("<"))
    else:
        differing.append((path, a, b))
print(f"{compared} requests ({len(typed)} typed conditions of the table-driven tests, x8, their second pages, "
      f"and {sum(1 for _ in open(distinct))} workload (f) paths); statuses of the old API: {dict(sorted(statuses.items()))}")
print(f"identical (status, ETag, X-Catalog-Cursor, body bytes): {same}; different: {len(differing)}")
for path, a, b in differing[:5]:
    print(f"  {path}\n    old: {a[0]} {a[3][:300]!r}\n    new: {b[0]} {b[3][:300]!r}")
sys.exit(1 if differing else 0)
PY
