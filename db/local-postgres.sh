#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests, made from the machine's own PostgreSQL
# binaries: no Docker, no system service, no password. It listens on 127.0.0.1 only.
#
#   db/local-postgres.sh start   create (first time) and start the cluster; idempotent
#   db/local-postgres.sh url     print the Npgsql connection string
#   db/local-postgres.sh stop    stop it (data kept)
#   db/local-postgres.sh status  exit 0 when running
#   db/local-postgres.sh destroy stop it and delete its folder (throwaway test clusters)
#
# CATALOG_PG_DIR  where the cluster lives (default: <repo>/.local/postgres, git-ignored)
# CATALOG_PG_BIN  the folder with initdb and pg_ctl (default: found on the machine)
# CATALOG_PG_FAST=1  no fsync: for throwaway test clusters only
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${CATALOG_PG_DIR:-$repo/.local/postgres}
database=therapy_catalog

find_bin() {
  if [[ -n "${CATALOG_PG_BIN:-}" ]]; then echo "$CATALOG_PG_BIN"; return; fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  echo "local-postgres: no PostgreSQL binaries found (install the 'postgresql' package, or set CATALOG_PG_BIN)" >&2
  exit 1
}

# PostgreSQL refuses to run as root: as root, run its binaries as the 'postgres' user.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  local offset=$((RANDOM % 100))
  for p in $(seq $((54320 + offset)) 54520) $(seq 54320 $((54320 + offset))); do
    if ! port_in_use "$p"; then echo "$p"; return; fi
  done
  echo "local-postgres: no free port in 54320-54520" >&2
  exit 1
}

running() { [[ -f "$dir/data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

url() {
  echo "Host=127.0.0.1;Port=$(cat "$dir/port");Username=postgres;Database=$database"
}

start() {
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || { echo "local-postgres: running as root needs a 'postgres' user" >&2; exit 1; }
    chown postgres "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "local-postgres: user 'postgres' cannot reach $dir (a parent folder is private); set CATALOG_PG_DIR" >&2
      exit 1
    fi
  fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if running; then return; fi
  # Keep the port across restarts so a running API's connection string stays right, unless
  # something else took it meanwhile. Clusters starting at the same moment may pick the same free
  # port; the loser tries another.
  local extra="" attempt
  [[ "${CATALOG_PG_FAST:-}" == "1" ]] && extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  for attempt in 1 2 3 4 5; do
    if [[ ! -f "$dir/port" ]] || port_in_use "$(cat "$dir/port")"; then free_port >"$dir/port"; fi
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $(cat "$dir/port") -k $dir -c max_connections=200 $extra" start >/dev/null; then
      return
    fi
    rm -f "$dir/port"
    sleep "0.$((RANDOM % 9 + 1))"
  done
  tail -n 20 "$dir/data/server.log" >&2
  exit 1
}

stop() {
  if running; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi
}

bin=$(find_bin)
case "${1:-}" in
  start) start; url ;;
  stop) stop ;;
  url) url ;;
  status) running ;;
  destroy) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|url|status|destroy" >&2; exit 2 ;;
esac
