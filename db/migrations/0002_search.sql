-- Search: condition matching (names, synonyms, words, typos, ICD-10, hierarchy), therapy filters
-- and keyset paging, each backed by an index so plans stay index-driven at a million therapies.
-- Forward-only, like 0001.

-- levenshtein(): picks the closest of the words that trigram similarity proposes for a misspelt word.
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- Every name a condition is searched by, one row per term: its name and each synonym.
-- Rebuilt from `conditions` by a trigger, so the data loader (and any hand-written SQL) keeps it true.
CREATE TABLE condition_terms (
    condition_id  text NOT NULL,
    term          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('name', 'synonym')),
    term_lower    text GENERATED ALWAYS AS (lower(term)) STORED,
    term_vector   tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, term)) STORED
);
CREATE INDEX condition_terms_term_lower_idx ON condition_terms (term_lower text_pattern_ops);
CREATE INDEX condition_terms_condition_id_idx ON condition_terms (condition_id);
CREATE INDEX condition_terms_term_trgm_idx ON condition_terms USING gin (term_lower gin_trgm_ops);
CREATE INDEX condition_terms_term_vector_idx ON condition_terms USING gin (term_vector);

-- The words of every term: the vocabulary a misspelt query word is corrected against (trigram similarity).
CREATE TABLE condition_words (
    word  text PRIMARY KEY
);
CREATE INDEX condition_words_trgm_idx ON condition_words USING gin (word gin_trgm_ops);

CREATE INDEX conditions_icd10_idx ON conditions (icd10 text_pattern_ops);

-- Conditions change rarely (data files), so the derived tables are simply rebuilt per statement.
CREATE FUNCTION condition_terms_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM condition_terms;
    INSERT INTO condition_terms (condition_id, term, kind)
    SELECT c.id, c.name, 'name' FROM conditions c
    UNION ALL
    SELECT c.id, s.synonym, 'synonym' FROM conditions c CROSS JOIN LATERAL unnest(c.synonyms) AS s(synonym);

    DELETE FROM condition_words;
    INSERT INTO condition_words (word)
    SELECT DISTINCT w.word
    FROM condition_terms t CROSS JOIN LATERAL regexp_split_to_table(t.term_lower, '[^[:alnum:]]+') AS w(word)
    WHERE w.word <> '';
    RETURN NULL;
END;
$$;

CREATE TRIGGER conditions_terms_refresh
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON conditions
FOR EACH STATEMENT EXECUTE FUNCTION condition_terms_refresh();

-- A database migrated before this script already holds conditions: derive their terms now.
INSERT INTO condition_terms (condition_id, term, kind)
SELECT c.id, c.name, 'name' FROM conditions c
UNION ALL
SELECT c.id, s.synonym, 'synonym' FROM conditions c CROSS JOIN LATERAL unnest(c.synonyms) AS s(synonym);
INSERT INTO condition_words (word)
SELECT DISTINCT w.word
FROM condition_terms t CROSS JOIN LATERAL regexp_split_to_table(t.term_lower, '[^[:alnum:]]+') AS w(word)
WHERE w.word <> '';

-- The earliest approval date of a therapy (any regulator): the `approvedOn` sort key. Kept by a
-- trigger on therapy_approvals, which every write replaces after writing the therapies row.
ALTER TABLE therapies ADD COLUMN first_approved_on date NULL;

CREATE FUNCTION therapies_first_approved_on_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    affected uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.therapy_id ELSE NEW.therapy_id END;
BEGIN
    UPDATE therapies t
    SET first_approved_on = (SELECT min(a.approved_on) FROM therapy_approvals a WHERE a.therapy_id = affected)
    WHERE t.id = affected
      AND t.first_approved_on IS DISTINCT FROM (SELECT min(a.approved_on) FROM therapy_approvals a WHERE a.therapy_id = affected);
    RETURN NULL;
END;
$$;

CREATE TRIGGER therapy_approvals_first_approved_on
AFTER INSERT OR UPDATE OR DELETE ON therapy_approvals
FOR EACH ROW EXECUTE FUNCTION therapies_first_approved_on_refresh();

UPDATE therapies t
SET first_approved_on = (SELECT min(a.approved_on) FROM therapy_approvals a WHERE a.therapy_id = t.id);

-- Keyset paging: one b-tree per sort order, ending with the id tie-breaker; only live rows.
CREATE INDEX therapies_name_keyset_idx ON therapies (lower(proprietary_name), id) WHERE deleted_at IS NULL;
CREATE INDEX therapies_approved_keyset_idx ON therapies ((coalesce(first_approved_on, 'infinity'::date)), id) WHERE deleted_at IS NULL;
CREATE INDEX therapies_approved_desc_keyset_idx ON therapies ((coalesce(first_approved_on, '-infinity'::date)) DESC, id DESC) WHERE deleted_at IS NULL;

-- Free text over names and target (`q`): whole words, and trigram similarity for misspellings.
CREATE INDEX therapies_text_idx ON therapies USING gin (
    to_tsvector('simple'::regconfig, proprietary_name || ' ' || proper_name || ' ' || coalesce(target, '')));
CREATE INDEX therapies_proprietary_name_trgm_idx ON therapies USING gin (lower(proprietary_name) gin_trgm_ops);
CREATE INDEX therapies_proper_name_trgm_idx ON therapies USING gin (lower(proper_name) gin_trgm_ops);
CREATE INDEX therapies_manufacturer_trgm_idx ON therapies USING gin (manufacturer gin_trgm_ops);
CREATE INDEX therapies_target_idx ON therapies (lower(target));

-- Filters that reach into the child tables.
-- (condition_id, therapy_id) covers the old single-column index and allows index-only scans.
CREATE INDEX therapy_indications_condition_therapy_idx ON therapy_indications (condition_id, therapy_id);
DROP INDEX therapy_indications_condition_id_idx;
CREATE INDEX therapy_indications_regulator_idx ON therapy_indications (regulator, therapy_id);
CREATE INDEX therapy_approvals_regulator_idx ON therapy_approvals (regulator, therapy_id);
CREATE INDEX therapy_approvals_approved_on_idx ON therapy_approvals (approved_on, therapy_id);
