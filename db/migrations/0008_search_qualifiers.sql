-- Search a clinician can trust: the qualifiers of a condition name stay significant, a condition
-- may have several parents, and free text reaches manufacturers and vector details. Forward-only.

-- Condition terms keep every word. The english configuration drops stop words, among them "a"
-- and "i", so "Hemophilia A" was indexed as 'hemophilia' alone and matched "hemophilia B" queries.
-- catalog_terms stems like english (snowball) but has no stop-word list: "Hemophilia A" is
-- 'hemophilia' & 'a', "LAD-I" keeps its 'i'. (Numbers were never stop words: the parser keeps them.)
CREATE TEXT SEARCH DICTIONARY catalog_english_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION catalog_terms (COPY = english);
ALTER TEXT SEARCH CONFIGURATION catalog_terms ALTER MAPPING REPLACE english_stem WITH catalog_english_stem;

DROP INDEX condition_terms_term_vector_idx;
ALTER TABLE condition_terms DROP COLUMN term_vector;
ALTER TABLE condition_terms
    ADD COLUMN term_vector tsvector GENERATED ALWAYS AS (to_tsvector('catalog_terms'::regconfig, term)) STORED;
CREATE INDEX condition_terms_term_vector_idx ON condition_terms USING gin (term_vector);

-- Several parents per condition (a DAG): small lymphocytic lymphoma is a lymphoma, chronic
-- lymphocytic leukemia a leukemia, and CLL/SLL is one condition. conditions.parent_id stays, as
-- the first parent, for readers of the older shape; the hierarchy is this table.
CREATE TABLE condition_parents (
    condition_id  text NOT NULL REFERENCES conditions (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    parent_id     text NOT NULL REFERENCES conditions (id) DEFERRABLE INITIALLY DEFERRED,
    ordinal       integer NOT NULL CHECK (ordinal >= 0),
    PRIMARY KEY (condition_id, parent_id),
    UNIQUE (condition_id, ordinal),
    CHECK (condition_id <> parent_id)
);
CREATE INDEX condition_parents_parent_idx ON condition_parents (parent_id, condition_id);

INSERT INTO condition_parents (condition_id, parent_id, ordinal)
SELECT id, parent_id, 0 FROM conditions WHERE parent_id IS NOT NULL;

-- The hierarchy decides what a query reaches, like the condition records themselves (0005).
CREATE TRIGGER condition_parents_notify
AFTER INSERT OR UPDATE OR DELETE ON condition_parents
FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_changes();

-- Free text (`q`) over the words of names, target, manufacturer and vector detail ("novartis",
-- "kite", "oncolytic", "lentiviral"): one GIN index over the one expression the query uses.
CREATE INDEX therapies_free_text_idx ON therapies USING gin (to_tsvector('simple'::regconfig,
    proprietary_name || ' ' || proper_name || ' ' || coalesce(target, '') || ' ' || manufacturer || ' ' || coalesce(vector_detail, '')));
DROP INDEX therapies_text_idx;
