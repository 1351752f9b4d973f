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
exec dotnet run --project src/TherapyCatalog.Api -c Release --no-launch-profile -- --urls "http://localhost:${PORT:-5080}"
