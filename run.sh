#!/usr/bin/env bash
# Runs the service on http://localhost:5080 (PORT to change it) with Swagger UI at /swagger.
# Without ConnectionStrings__Catalog it starts a private local PostgreSQL (db/local-postgres.sh,
# data under .local/, git-ignored); the service migrates and loads the catalog data itself.
set -euo pipefail
cd "$(dirname "$0")"
if [[ -z "${ConnectionStrings__Catalog:-}" ]]; then
  ConnectionStrings__Catalog=$(db/local-postgres.sh start)
  export ConnectionStrings__Catalog
fi
# The service runs as Production, which needs a cursor-signing key of its own: made once, kept with the local data.
if [[ -z "${Catalog__CursorKey:-}" ]]; then
  mkdir -p .local
  [[ -s .local/cursor-key ]] || (umask 077 && head -c 32 /dev/urandom | base64 > .local/cursor-key)
  Catalog__CursorKey=$(cat .local/cursor-key)
  export Catalog__CursorKey
fi
exec dotnet run --project src/TherapyCatalog.Api -c Release --no-launch-profile -- --urls "http://localhost:${PORT:-5080}"
