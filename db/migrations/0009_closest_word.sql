-- The matcher's typo correction through the trigram index. Forward-only.
--
-- A misspelt word becomes the vocabulary word closest to it: proposed by trigram similarity (%),
-- chosen by edit distance. Inside the match the planner read all ~520 words and compared each
-- (0.3-0.6 ms per misspelt word, a third of the whole match), because it rates a trigram
-- comparison as cheap as an integer one; the GIN index finds the few candidates in 0.03-0.1 ms.
-- A function can carry its own planner settings, for its query alone (set for the whole match,
-- they slowed its other parts a hundredfold), and PL/pgSQL keeps its plan for the connection.
CREATE FUNCTION catalog_closest_word(typed text) RETURNS text
    LANGUAGE plpgsql STABLE STRICT
    SET pg_trgm.similarity_threshold = 0.45
    SET enable_seqscan = off
    SET enable_indexscan = off
    SET enable_indexonlyscan = off
    SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN (SELECT cw.word FROM condition_words cw
            WHERE cw.word % typed
            ORDER BY levenshtein(cw.word, typed), similarity(cw.word, typed) DESC, cw.word
            LIMIT 1);
END
$$;
