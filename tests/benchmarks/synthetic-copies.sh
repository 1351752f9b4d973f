#!/usr/bin/env bash
# Adds BENCH_THERAPIES synthetic therapies to a migrated catalog database: copies of kymriah's
# stored document (~3.6 kB) with a new id and slug, one create change each, generated in SQL.
# Used by export-1m.sh and run.sh.
#
#   BENCH_THERAPIES=10000 tests/benchmarks/synthetic-copies.sh <pg-port> <database>
set -euo pipefail
n=${BENCH_THERAPIES:?}
psql_db() { psql -h 127.0.0.1 -p "$1" -U postgres -d "$2" -v ON_ERROR_STOP=1 -X -q; }
psql_db "$1" "$2" <<SQL
CREATE TEMP TABLE template AS
SELECT t.*, v.document::text AS document
FROM therapies t JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
WHERE t.slug = 'kymriah';

CREATE TEMP TABLE synthetic AS
SELECT md5('synthetic-' || i)::uuid AS id, 'synthetic-' || i AS slug FROM generate_series(1, $n) AS i;

INSERT INTO therapies (
    id, slug, proprietary_name, proper_name, manufacturer, modality, cell_source, delivery, mechanism, vector,
    vector_detail, target, route, administration_summary, infusion_minutes, requires_leukapheresis,
    requires_lymphodepletion, rems, list_price_amount, list_price_currency, list_price_year, list_price_source,
    status, version, created_at, updated_at)
SELECT s.id, s.slug, t.proprietary_name, t.proper_name, t.manufacturer, t.modality, t.cell_source, t.delivery,
       t.mechanism, t.vector, t.vector_detail, t.target, t.route, t.administration_summary, t.infusion_minutes,
       t.requires_leukapheresis, t.requires_lymphodepletion, t.rems, t.list_price_amount, t.list_price_currency,
       t.list_price_year, t.list_price_source, t.status, 1, t.created_at, t.updated_at
FROM synthetic s CROSS JOIN template t;

INSERT INTO therapy_versions (therapy_id, version, kind, document, changed_members, changed_by, changed_at)
SELECT s.id, 1, 'create',
       replace(replace(t.document, t.id::text, s.id::text), '"slug":"kymriah"', '"slug":"' || s.slug || '"')::json,
       '{}', 'benchmark', t.updated_at
FROM synthetic s CROSS JOIN template t;

INSERT INTO changes (therapy_id, version) SELECT id, 1 FROM synthetic;
VACUUM ANALYZE;
SQL
