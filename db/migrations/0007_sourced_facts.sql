-- Every fact carries its source (issue: the catalog complete and current). Forward-only, like 0001.
--
-- * Each approval, indication, package and list price has its own source URL and what kind of
--   document it is (the regulator's own page or letter, the label, the company, or a press report).
-- * Packages: an NDC with its 11-digit billing form and the label's description (therapy_ndcs
--   grows into them; `ndcs` stays the list of their codes).
-- * Other names: regional brands, former brands, code names, searchable like the product's own.
-- * The regulator vocabulary grows to the regulators whose approvals the catalog holds.

ALTER TABLE therapy_approvals
    ADD COLUMN source text NULL CHECK (source ~ '^https?://[^\s]+$'),
    ADD COLUMN source_kind text NULL CHECK (source_kind IN ('regulator', 'label', 'company', 'press'));

ALTER TABLE therapy_indications
    ADD COLUMN source text NULL CHECK (source ~ '^https?://[^\s]+$'),
    ADD COLUMN source_kind text NULL CHECK (source_kind IN ('regulator', 'label', 'company', 'press'));

ALTER TABLE therapies
    ADD COLUMN list_price_source_kind text NULL CHECK (list_price_source_kind IN ('regulator', 'label', 'company', 'press'));

ALTER TABLE therapy_ndcs
    ADD COLUMN ndc11 text NULL CHECK (ndc11 ~ '^[0-9]{5}-[0-9]{4}-[0-9]{2}$'),
    ADD COLUMN description text NULL CHECK (length(description) <= 1000),
    ADD COLUMN source text NULL CHECK (source ~ '^https?://[^\s]+$'),
    ADD COLUMN source_kind text NULL CHECK (source_kind IN ('regulator', 'label', 'company', 'press'));
CREATE INDEX therapy_ndcs_ndc11_idx ON therapy_ndcs (ndc11);

CREATE TABLE therapy_other_names (
    therapy_id  uuid NOT NULL REFERENCES therapies (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('brand', 'former-brand', 'code', 'nonproprietary')),
    regulator   text NULL,
    PRIMARY KEY (therapy_id, ordinal)
);
CREATE INDEX therapy_other_names_name_idx ON therapy_other_names (lower(name), therapy_id);
CREATE INDEX therapy_other_names_name_trgm_idx ON therapy_other_names USING gin (lower(name) gin_trgm_ops);
CREATE INDEX therapy_other_names_text_idx ON therapy_other_names USING gin (to_tsvector('simple'::regconfig, name));

-- One list of regulators for every table that names one.
CREATE FUNCTION catalog_regulator(regulator text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT regulator IN ('FDA', 'EMA', 'MHRA', 'NMPA', 'PMDA', 'MFDS', 'CDSCO', 'HEALTH-CANADA', 'TGA', 'SWISSMEDIC',
                         'MINZDRAV', 'MOH-UKRAINE')
$$;

ALTER TABLE therapy_approvals DROP CONSTRAINT therapy_approvals_regulator_check,
    ADD CONSTRAINT therapy_approvals_regulator_check CHECK (catalog_regulator(regulator));
ALTER TABLE therapy_indications DROP CONSTRAINT therapy_indications_regulator_check,
    ADD CONSTRAINT therapy_indications_regulator_check CHECK (catalog_regulator(regulator));
ALTER TABLE therapy_other_names
    ADD CONSTRAINT therapy_other_names_regulator_check CHECK (regulator IS NULL OR catalog_regulator(regulator));
