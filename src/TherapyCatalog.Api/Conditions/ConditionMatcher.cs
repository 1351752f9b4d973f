using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Conditions;

/// <summary>A condition a query matched: how (name, code, synonym, code-prefix, text, descendant, fuzzy), by which term, through which ancestor.</summary>
public sealed record ConditionMatch(string Source, string ConditionId, int Rank, string How, string Term, string? Via);

/// <summary>A text a person typed, ready for the matcher: lower-cased, trimmed, and its ICD-10 code reading if it has one.</summary>
public sealed record ConditionQuery(string Text, string? Code);

/// <summary>
/// Finds the conditions a person means by what they typed, in PostgreSQL and through indexes. A
/// term (a condition's name or one of its synonyms, in <c>condition_terms</c>) matches when:
/// <list type="number">
/// <item>it equals the query: the name (rank 1) or a synonym, abbreviation or lay term (rank 2);</item>
/// <item>the query is an ICD-10 code equal to the condition's (rank 1) or a prefix of it (rank 2);</item>
/// <item>it holds every word of the query (full-text, English stemming; rank 3). English stop words
/// of the query may be left out ("cancer of the blood"), but its qualifiers never: a single letter,
/// a number or a roman numeral ("hemophilia A", "SMA type 2", "LAD-I") must be a word of the term,
/// which is indexed without a stop-word list (<c>catalog_terms</c>), so "hemophilia A" never
/// matches "Hemophilia B";</item>
/// <item>it holds every word once misspelt words are corrected (rank 5): a word of 4+ letters, with
/// no digit and no roman numeral, that no term uses becomes the vocabulary word closest to it,
/// proposed by trigram similarity (at least 0.45) and chosen by edit distance, through the trigram index (<c>catalog_closest_word</c>, migration 0009). Qualifiers are never corrected.</item>
/// </list>
/// A matched condition reaches its descendants (recursive CTE over <c>condition_parents</c>: a
/// condition may have several parents), ranked 4 (or 5 when the ancestor only matched fuzzily).
/// Each condition keeps its best match. Several queries (the <c>condition</c> filter and free text
/// <c>q</c>) run at once, told apart by <c>source</c>.
/// The matches (a handful of condition ids) are then bound into the therapy query as arrays:
/// from real values the planner estimates the therapies they reach, where a recursive CTE's
/// estimate (millions of rows) would talk it into scanning the big tables.
/// </summary>
public static partial class ConditionMatcher
{
    public const int MaxQueryLength = 200;

    /// <summary>
    /// A qualifier: a word that tells conditions apart and is compared exactly, never dropped as a
    /// stop word nor corrected as a typo. A single letter, a number, a roman numeral up to xxxix.
    /// </summary>
    public const string QualifierPattern = "^([a-z]|[0-9]+|x{0,3}(ix|iv|v?i{0,3}))$";

    /// <summary>
    /// What separates the words of a text: a run of characters that are not letters or digits.
    /// The same as <c>[^[:alnum:]]+</c> (PostgreSQL's <c>\w</c> is <c>[[:alnum:]_]</c>), written
    /// without a colon so that pgbench can replay the statements prepared (it reads <c>:name</c> as a variable).
    /// </summary>
    public const string WordSeparator = @"(\W|_)+";

    /// <summary>
    /// In front of a query over the condition vocabulary, in the same command, for the rest of the
    /// transaction: its generic plan. Its tables are the vocabulary, whose plan does not depend on
    /// what was typed, and planning the match took as long as running it (about 1 ms). A query
    /// whose plan does depend on its values (the page after the match) resets it first.
    /// </summary>
    public const string VocabularyPlanSql = "SET LOCAL plan_cache_mode = force_generic_plan;\n";

    /// <summary>
    /// With <see cref="VocabularyPlanSql"/>, for a query that finds terms by trigram similarity: the
    /// trigram index. The planner rates a trigram comparison as cheap as an integer one, so it reads
    /// all 577 terms and compares each (2.6 ms for autocomplete) where the index finds them in 0.4 ms.
    /// </summary>
    public const string TrigramIndexSql = "SET LOCAL enable_seqscan = off;\n";

    /// <summary>In front of the match: its generic plan.</summary>
    private const string PrepareSql = VocabularyPlanSql;

    private const string AfterMatchSql = ";\nSET LOCAL plan_cache_mode TO DEFAULT";

    /// <summary>
    /// CTEs for a <c>WITH RECURSIVE</c> list; parameters <c>@QuerySources</c>, <c>@QueryTexts</c>,
    /// <c>@QueryCodes</c> (parallel arrays). Yields <c>condition_match (source, condition_id, rank, how, term, via)</c>.
    /// </summary>
    private const string MatchCtes = $$"""
        condition_query (source, text, code) AS (
            SELECT q.source, q.text, q.code
            FROM unnest(@QuerySources::text[], @QueryTexts::text[], @QueryCodes::text[]) AS q(source, text, code)
        ),
        condition_query_word AS (
            SELECT q.source, w.word, w.ordinal
            FROM condition_query q
            CROSS JOIN LATERAL regexp_split_to_table(q.text, '{{WordSeparator}}') WITH ORDINALITY AS w(word, ordinal)
            WHERE w.word <> ''
        ),
        -- The qualifiers of each query, as a tsquery every matching term must also satisfy.
        condition_qualifier AS (
            SELECT q.source, plainto_tsquery('simple'::regconfig, string_agg(q.word, ' ' ORDER BY q.ordinal)) AS query
            FROM condition_query_word q
            WHERE q.word ~ '{{QualifierPattern}}'
            GROUP BY q.source
        ),
        -- Materialized: its columns are computed once (inlined, each use of them would look every word up again).
        condition_corrected AS MATERIALIZED (
            SELECT q.source,
                   string_agg(q.word, ' ' ORDER BY q.ordinal) AS original,
                   string_agg(coalesce(
                       (SELECT cw.word FROM condition_words cw WHERE cw.word = q.word),
                       CASE WHEN length(q.word) >= 4 AND q.word !~ '[0-9]' AND q.word !~ '{{QualifierPattern}}'
                            THEN catalog_closest_word(q.word) END,
                       q.word), ' ' ORDER BY q.ordinal) AS text
            FROM condition_query_word q
            GROUP BY q.source
        ),
        -- Every word but the stop words, and every qualifier; nothing when only stop words and qualifiers were typed.
        condition_text_query AS (
            SELECT q.source, plainto_tsquery('english'::regconfig, q.text) && coalesce(k.query, ''::tsquery) AS query, 3 AS rank, 'text' AS how
            FROM condition_query q
            LEFT JOIN condition_qualifier k ON k.source = q.source
            WHERE numnode(plainto_tsquery('english'::regconfig, q.text)) > 0
            UNION ALL
            SELECT cc.source, plainto_tsquery('english'::regconfig, cc.text) && coalesce(k.query, ''::tsquery), 5, 'fuzzy'
            FROM condition_corrected cc
            LEFT JOIN condition_qualifier k ON k.source = cc.source
            WHERE cc.text <> cc.original AND numnode(plainto_tsquery('english'::regconfig, cc.text)) > 0
        ),
        condition_seed AS (
            SELECT q.source, ct.condition_id, CASE ct.kind WHEN 'name' THEN 1 ELSE 2 END AS rank, ct.kind AS how, ct.term
            FROM condition_query q
            JOIN condition_terms ct ON ct.term_lower = q.text
            UNION ALL
            SELECT q.source, c.id, 1, 'code', c.icd10
            FROM condition_query q
            JOIN conditions c ON c.icd10 = q.code
            UNION ALL
            SELECT q.source, c.id, 2, 'code-prefix', c.icd10
            FROM condition_query q
            JOIN conditions c ON c.icd10 LIKE q.code || '%' AND c.icd10 <> q.code
            UNION ALL
            SELECT tq.source, ct.condition_id, tq.rank, tq.how, ct.term
            FROM condition_text_query tq
            JOIN condition_terms ct ON ct.term_vector @@ tq.query
        ),
        condition_reach (source, condition_id, rank, how, term, via, depth) AS (
            SELECT s.source, s.condition_id, s.rank, s.how, s.term, NULL::text, 0
            FROM condition_seed s
            UNION ALL
            SELECT r.source, p.condition_id, greatest(r.rank, 4), 'descendant', r.term, coalesce(r.via, r.condition_id), r.depth + 1
            FROM condition_reach r
            JOIN condition_parents p ON p.parent_id = r.condition_id
            WHERE r.depth < 32
        ),
        condition_match AS (
            SELECT DISTINCT ON (r.source, r.condition_id) r.source, r.condition_id, r.rank, r.how, r.term, r.via
            FROM condition_reach r
            ORDER BY r.source, r.condition_id, r.rank, r.depth, r.how, r.term
        )
        """;

    private const string MatchSql = "WITH RECURSIVE\n" + MatchCtes + """

        SELECT source AS Source, condition_id AS ConditionId, rank AS Rank, how AS How, term AS Term, via AS Via
        FROM condition_match
        ORDER BY source, rank, condition_id
        """;

    /// <summary>The conditions each query means, best match per condition, in the caller's snapshot.</summary>
    public static async Task<IReadOnlyList<ConditionMatch>> MatchAsync(
        CatalogSnapshot snapshot, IReadOnlyList<(string Source, ConditionQuery Query)> queries, CancellationToken ct)
    {
        if (queries.Count == 0)
        {
            return [];
        }

        var parameters = new
        {
            QuerySources = queries.Select(q => q.Source).ToArray(),
            QueryTexts = queries.Select(q => q.Query.Text).ToArray(),
            QueryCodes = queries.Select(q => q.Query.Code).ToArray(),
        };
        return await snapshot.QueryAsync<ConditionMatch>(PrepareSql + MatchSql + AfterMatchSql, parameters, ct);
    }

    /// <summary>
    /// "Did you mean": condition names close to a query that matched nothing, best first, at most five.
    /// Looser than the matcher: a suggestion is only offered, never applied. The snapshot's last query.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SuggestAsync(CatalogSnapshot snapshot, string text, CancellationToken ct) =>
        await snapshot.QueryAsync<string>(PrepareSuggestionsSql + SuggestionsSql, new { Text = text }, ct, last: true);

    private const string SuggestionsSql = $$"""
        WITH query_word AS (
            SELECT w.word FROM regexp_split_to_table(@Text, '{{WordSeparator}}') AS w(word) WHERE w.word <> ''
        ),
        candidate AS (
            SELECT ct.condition_id, ct.term_lower, similarity(ct.term_lower, @Text) AS score
            FROM condition_terms ct
            WHERE ct.term_lower % @Text
        )
        SELECT c.name
        FROM (
            SELECT k.condition_id, max(k.score) AS score
            FROM candidate k
            -- Every word typed must be close to some word of the term: "lung cancer" suggests nothing
            -- merely because other cancers share the word "cancer".
            WHERE NOT EXISTS (
                SELECT 1 FROM query_word q
                WHERE NOT EXISTS (
                    SELECT 1 FROM regexp_split_to_table(k.term_lower, '{{WordSeparator}}') AS tw(word)
                    WHERE similarity(tw.word, q.word) >= 0.3))
            GROUP BY k.condition_id
        ) AS s
        JOIN conditions c ON c.id = s.condition_id
        ORDER BY s.score DESC, c.name, c.id
        LIMIT 5
        """;

    /// <summary>In front of <see cref="SuggestionsSql"/>, in the same command (the transaction's last).</summary>
    private const string PrepareSuggestionsSql = "SET LOCAL pg_trgm.similarity_threshold = 0.3;\n" + TrigramIndexSql + VocabularyPlanSql;

    /// <summary>
    /// What a person typed, as the matcher compares it: NUL and control characters removed,
    /// whitespace collapsed, lower case. Null when nothing is left.
    /// </summary>
    public static ConditionQuery? Normalize(string? typed)
    {
        if (typed is null)
        {
            return null;
        }

        var text = new StringBuilder(typed.Length);
        foreach (var ch in typed)
        {
            text.Append(char.IsControl(ch) || char.IsWhiteSpace(ch) ? ' ' : ch);
        }

        var normalized = Spaces().Replace(text.ToString(), " ").Trim().ToLowerInvariant();
        if (normalized.Length == 0)
        {
            return null;
        }

        var code = normalized.ToUpperInvariant();
        return new ConditionQuery(normalized, Icd10.IsMatch(code) ? code : null);
    }

    [GeneratedRegex(" {2,}")]
    private static partial Regex Spaces();

    private static readonly Regex Icd10 = TextPattern.Whole(ConditionRecord.Icd10Pattern);
}

/// <summary>How a listed therapy matched the typed condition: built in SQL, described by this record.</summary>
public sealed record MatchedCondition(string ConditionId, string Condition, string? Icd10, string Match, string Term, string? Via);
