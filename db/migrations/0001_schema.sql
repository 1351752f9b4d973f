-- The catalog's schema. Forward-only: once applied, this file is never edited; changes are new files.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Conditions: what a therapy is indicated for, with the names people search by and a hierarchy
-- (large B-cell lymphoma -> lymphoma -> blood cancer) so a broader term reaches its subtypes.
CREATE TABLE conditions (
    id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    icd10      text NULL CHECK (icd10 ~ '^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$'),
    synonyms   text[] NOT NULL DEFAULT '{}',
    -- Deferred, so a data file may list a child before its parent.
    parent_id  text NULL REFERENCES conditions (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX conditions_name_key ON conditions (lower(name));
CREATE INDEX conditions_parent_id_idx ON conditions (parent_id);

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- SHA-256 of the key. Keys are 256-bit random strings, so a fast hash is safe; the key
    -- itself is shown once, at minting, and never stored.
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    scopes      text[] NOT NULL CHECK (scopes <@ ARRAY['catalog:write', 'catalog:admin']::text[]),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz NULL
);

CREATE TABLE therapies (
    id                        uuid PRIMARY KEY,
    slug                      text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    proprietary_name          text NOT NULL CHECK (length(proprietary_name) BETWEEN 1 AND 200),
    proper_name               text NOT NULL CHECK (length(proper_name) BETWEEN 1 AND 300),
    manufacturer              text NOT NULL CHECK (length(manufacturer) BETWEEN 1 AND 300),
    modality                  text NOT NULL CHECK (modality IN ('cell', 'gene', 'cell-based-gene')),
    cell_source               text NULL CHECK (cell_source IN ('autologous', 'allogeneic')),
    delivery                  text NULL CHECK (delivery IN ('in-vivo', 'ex-vivo')),
    mechanism                 text NULL CHECK (mechanism IN ('replace', 'inactivate', 'introduce', 'edit')),
    vector                    text NULL CHECK (vector IN ('aav', 'lentiviral', 'gamma-retroviral', 'adenoviral', 'hsv-1', 'plasmid', 'crispr-cas9', 'other')),
    vector_detail             text NULL,
    target                    text NULL,
    route                     text NOT NULL CHECK (route IN ('intravenous', 'subretinal', 'intravitreal', 'intralesional', 'intradermal', 'intravesical', 'intrathecal', 'intraputaminal', 'intraportal', 'topical', 'oral-mucosal', 'implantation', 'other')),
    administration_summary    text NULL,
    infusion_minutes          integer NULL CHECK (infusion_minutes > 0),
    requires_leukapheresis    boolean NOT NULL,
    requires_lymphodepletion  boolean NOT NULL,
    rems                      boolean NOT NULL,
    list_price_amount         numeric(14, 2) NULL CHECK (list_price_amount >= 0),
    list_price_currency       text NULL CHECK (list_price_currency ~ '^[A-Z]{3}$'),
    list_price_year           integer NULL CHECK (list_price_year BETWEEN 1990 AND 2100),
    list_price_source         text NULL CHECK (list_price_source ~ '^https?://'),
    status                    text NOT NULL CHECK (status IN ('active', 'withdrawn')),
    version                   integer NOT NULL CHECK (version >= 1),
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    deleted_at                timestamptz NULL,
    CHECK ((list_price_amount IS NULL) = (list_price_currency IS NULL)),
    -- The domain's rules, as the seed texts explain them.
    CHECK (modality <> 'cell-based-gene' OR (cell_source IS NOT NULL AND delivery = 'ex-vivo')),
    CHECK (modality <> 'cell' OR (cell_source IS NOT NULL AND vector IS NULL))
);
-- A deleted therapy gives its slug back.
CREATE UNIQUE INDEX therapies_slug_key ON therapies (slug) WHERE deleted_at IS NULL;

CREATE TABLE therapy_indications (
    therapy_id    uuid NOT NULL REFERENCES therapies (id) ON DELETE CASCADE,
    ordinal       integer NOT NULL,
    condition_id  text NOT NULL REFERENCES conditions (id),
    population    text NULL,
    regulator     text NOT NULL CHECK (regulator IN ('FDA', 'EMA', 'MHRA', 'NMPA', 'PMDA', 'HEALTH-CANADA', 'TGA', 'SWISSMEDIC', 'MFDS')),
    approved_on   date NULL,
    PRIMARY KEY (therapy_id, ordinal)
);
CREATE INDEX therapy_indications_condition_id_idx ON therapy_indications (condition_id);

CREATE TABLE therapy_approvals (
    therapy_id          uuid NOT NULL REFERENCES therapies (id) ON DELETE CASCADE,
    ordinal             integer NOT NULL,
    regulator           text NOT NULL CHECK (regulator IN ('FDA', 'EMA', 'MHRA', 'NMPA', 'PMDA', 'HEALTH-CANADA', 'TGA', 'SWISSMEDIC', 'MFDS')),
    application_number  text NULL,
    approved_on         date NULL,
    status              text NOT NULL CHECK (status IN ('approved', 'withdrawn', 'suspended')),
    PRIMARY KEY (therapy_id, ordinal)
);

CREATE TABLE therapy_ndcs (
    therapy_id  uuid NOT NULL REFERENCES therapies (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    ndc         text NOT NULL CHECK (ndc ~ '^[0-9]{4,5}-[0-9]{3,4}-[0-9]{1,2}$'),
    PRIMARY KEY (therapy_id, ordinal)
);
CREATE INDEX therapy_ndcs_ndc_idx ON therapy_ndcs (ndc);

CREATE TABLE therapy_sources (
    therapy_id  uuid NOT NULL REFERENCES therapies (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    url         text NOT NULL CHECK (url ~ '^https?://[^\s]+$'),
    PRIMARY KEY (therapy_id, ordinal)
);

-- Every version of every therapy: the representation clients saw, what changed, who and when.
-- The current representation is the row at therapies.version.
CREATE TABLE therapy_versions (
    therapy_id       uuid NOT NULL REFERENCES therapies (id),
    version          integer NOT NULL CHECK (version >= 1),
    kind             text NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    document         json NOT NULL,
    changed_members  text[] NOT NULL,
    changed_by       text NOT NULL,
    api_key_id       uuid NULL REFERENCES api_keys (id),
    changed_at       timestamptz NOT NULL,
    PRIMARY KEY (therapy_id, version)
);

-- The change log the sync feed reads, one row per therapy version, written in the same
-- transaction as the version. Ordered by the writing transaction's id (xid8) and a sequence:
-- the feed hands out only rows of transactions older than every transaction still running
-- (pg_snapshot_xmin), so a transaction that commits late can never land behind a cursor.
CREATE TABLE changes (
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    therapy_id  uuid NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (txid, seq),
    FOREIGN KEY (therapy_id, version) REFERENCES therapy_versions (therapy_id, version)
);

-- Which data file (db/data) was last applied, by content hash: a file is applied again only when it changes.
CREATE TABLE seed_journal (
    name        text PRIMARY KEY,
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
