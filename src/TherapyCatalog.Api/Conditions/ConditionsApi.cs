using System.Globalization;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Conditions;

/// <summary>
/// A condition of the catalog. <c>activeTherapyCount</c> counts the active therapies indicated for
/// it or any of its descendants (a search by its name may find more: other conditions whose names share its words).
/// <c>parents</c> are the broader conditions it is a kind of (a condition may have several: CLL/SLL is a
/// leukemia and a lymphoma); <c>parent</c> is the first of them, kept for older clients.
/// <c>matchedTerm</c> (autocomplete only) is the name, synonym or code that matched <c>q</c>.
/// </summary>
public sealed record ConditionItem(
    string Id,
    string Name,
    string? Icd10,
    string[] Synonyms,
    string? Parent,
    string[] Parents,
    int ActiveTherapyCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MatchedTerm);

public sealed record ConditionList(IReadOnlyList<ConditionItem> Items);

/// <summary>
/// A condition answer as read for a limit: its items, at most <paramref name="Limit"/> (fewer: all
/// there are), and the <c>X-Catalog-Cursor</c> of its snapshot. The order is total (ties broken by
/// id), so the first n items of it are the answer for any limit n up to its own.
/// </summary>
public sealed record KeptConditions(IReadOnlyList<ConditionItem> Items, int Limit, string? Cursor)
{
    public bool Answers(int take) => take <= Limit || Items.Count < Limit;
}

public static class ConditionsApi
{
    public static readonly PageLimits Limits = new(Default: 10, Max: 100);

    /// <summary>
    /// The conditions feature's services: its data files, the matches kept per epoch, and the
    /// condition answers kept per typed text. People type the same prefixes again and again with
    /// other limits (in the kit's distinct-search workload, 65% of autocomplete texts repeat an
    /// earlier one, 5% with the same limit): an answer read for a limit serves every smaller one
    /// until something changes. At most 10,000 texts (of at most 100 conditions each).
    /// </summary>
    public static IServiceCollection AddConditions(this IServiceCollection services) =>
        services.AddSingleton<ICatalogDataSet, ConditionData>().AddSingleton<ConditionMatchCache>()
            .AddKeptReads<KeptConditions>(
                "catalog.condition_list_cache.lookups",
                "Condition lists and autocomplete texts asked for: answered from what was read since the last change (hit), or by the database (miss)",
                10_000);

    public static RouteGroupBuilder MapConditions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/conditions").WithTags("Conditions");

        group.MapGet("/", ListConditions)
            .CachedPerEpoch()
            .WithDatabaseGate()
            .WithParameterDoc("q", "A condition as typed: a prefix of a name, synonym or word, an ICD-10 code or prefix, or a misspelt name.")
            .WithMetadata(Limits)
            .WithCatalogCursorHeader()
            .WithName("ListConditions")
            .WithSummary("Conditions, or autocomplete for a typed condition")
            .WithDescription("Without `q`: conditions by name. With `q`: conditions whose name, synonym or ICD-10 code equals `q`, starts with it, has a word starting with it, or is close to it despite typos; best first. `limit` 1–100, default 10. `X-Catalog-Cursor` says which catalog state the counts reflect.");

        return group;
    }

    private const string ActiveTherapyCountSql = """
        (WITH RECURSIVE subtree (id) AS (
             SELECT c.id
             UNION
             SELECT p.condition_id FROM condition_parents p JOIN subtree s ON p.parent_id = s.id)
         SELECT count(DISTINCT i.therapy_id)::int
         FROM subtree s
         -- Each condition's indications through the (condition_id, therapy_id) index. OFFSET 0 keeps
         -- the planner from joining the whole table instead (its guess for a subtree is ~200
         -- conditions): at 100,000 therapies that read 200,000 indications per listed condition.
         CROSS JOIN LATERAL (SELECT i.therapy_id FROM therapy_indications i WHERE i.condition_id = s.id OFFSET 0) AS i
         JOIN therapies t ON t.id = i.therapy_id
         WHERE t.status = 'active' AND t.deleted_at IS NULL)
        """;

    private const string ParentsSql = """
        ARRAY(SELECT p.parent_id FROM condition_parents p WHERE p.condition_id = c.id ORDER BY p.ordinal)
        """;

    private const string AllSql = """
        SELECT c.id AS Id, c.name AS Name, c.icd10 AS Icd10, c.synonyms AS Synonyms, c.parent_id AS Parent,
               {parents} AS Parents, {activeTherapyCount} AS ActiveTherapyCount, NULL::text AS MatchedTerm
        FROM conditions c
        ORDER BY lower(c.name), c.id
        LIMIT @Limit
        """;

    // Trigram operators (% and <%) use the thresholds set by PrepareSql, and the GIN trigram index.
    private const string AutocompleteSql = """
        WITH candidate AS (
            SELECT ct.condition_id, ct.term,
                   CASE WHEN ct.term_lower = @Text THEN 1
                        WHEN ct.term_lower LIKE @Prefix THEN 2
                        WHEN ct.term_lower LIKE @WordPrefix OR ct.term_lower LIKE @HyphenPrefix THEN 3
                        ELSE 4 END AS rank,
                   greatest(similarity(ct.term_lower, @Text), word_similarity(@Text, ct.term_lower)) AS score,
                   similarity(ct.term_lower, @Text) AS closeness
            FROM condition_terms ct
            WHERE ct.term_lower LIKE @Prefix OR ct.term_lower LIKE @WordPrefix OR ct.term_lower LIKE @HyphenPrefix
               OR ct.term_lower % @Text OR @Text <% ct.term_lower
            UNION ALL
            SELECT c.id, c.icd10, CASE WHEN c.icd10 = @Code THEN 1 ELSE 2 END, 1, 1
            FROM conditions c
            WHERE c.icd10 LIKE @Code || '%'
        ),
        best AS (
            SELECT DISTINCT ON (condition_id) condition_id, term, rank, score, closeness
            FROM candidate
            ORDER BY condition_id, rank, score DESC, closeness DESC, term
        )
        SELECT c.id AS Id, c.name AS Name, c.icd10 AS Icd10, c.synonyms AS Synonyms, c.parent_id AS Parent,
               {parents} AS Parents, {activeTherapyCount} AS ActiveTherapyCount, b.term AS MatchedTerm
        FROM best b
        JOIN conditions c ON c.id = b.condition_id
        ORDER BY b.rank, b.score DESC, b.closeness DESC, lower(c.name), c.id
        LIMIT @Limit
        """;

    // In front of the query, in the same command, for this transaction: the trigram thresholds.
    private const string PrepareSql = """
        SET LOCAL pg_trgm.similarity_threshold = 0.4;
        SET LOCAL pg_trgm.word_similarity_threshold = 0.5;

        """ + ConditionMatcher.TrigramIndexSql + ConditionMatcher.VocabularyPlanSql;

    // The two queries, composed once.
    private static readonly string AllQuery = WithSubqueries(AllSql);
    private static readonly string AutocompleteQuery = PrepareSql + WithSubqueries(AutocompleteSql);

    private static string WithSubqueries(string sql) => sql
        .Replace("{activeTherapyCount}", ActiveTherapyCountSql, StringComparison.Ordinal)
        .Replace("{parents}", ParentsSql, StringComparison.Ordinal);

    // A class, not a record: Dapper reports text[] as System.Array, which no record constructor takes.
    private sealed class ConditionRow
    {
        public string Id { get; init; } = "";
        public string Name { get; init; } = "";
        public string? Icd10 { get; init; }
        public string[] Synonyms { get; init; } = [];
        public string? Parent { get; init; }
        public string[] Parents { get; init; } = [];
        public int ActiveTherapyCount { get; init; }
        public string? MatchedTerm { get; init; }

        public ConditionItem ToItem() => new(Id, Name, Icd10, Synonyms, Parent, Parents, ActiveTherapyCount, MatchedTerm);
    }

    /// <summary>Conditions by name, or the conditions a typed text may mean (autocomplete).</summary>
    public static async Task<Results<Ok<ConditionList>, ValidationProblem>> ListConditions(
        string? q, string? limit, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, KeptReads<KeptConditions> kept,
        OpaqueCursor cursors, HttpContext http, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var take = Limits.Take(limit, errors);

        if (q is { Length: > ConditionMatcher.MaxQueryLength })
        {
            errors["q"] = [$"'q' may be at most {ConditionMatcher.MaxQueryLength} characters long."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid condition request");
        }

        var query = ConditionMatcher.Normalize(q);
        // Without q under a key no typed text has: a normalized text is never empty.
        var answer = await kept.GetAsync(query?.Text ?? "", k => k.Answers(take), () => ReadAsync(query, take, dataSource, cursors, http, ct));
        http.Response.Headers[CatalogSnapshot.HeaderName] = answer.Cursor;
        return TypedResults.Ok(new ConditionList([.. answer.Items.Take(take)]));
    }

    private static async Task<KeptConditions> ReadAsync(
        ConditionQuery? query, int take, NpgsqlDataSource dataSource, OpaqueCursor cursors, HttpContext http, CancellationToken ct)
    {
        List<ConditionRow> rows;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            var snapshot = CatalogSnapshot.Begin(db, http.Response, cursors);
            if (query is null)
            {
                rows = await snapshot.QueryAsync<ConditionRow>(
                    AllQuery, new { Limit = take }, ct, last: true);
            }
            else
            {
                var like = CatalogDatabase.EscapeLike(query.Text);
                rows = await snapshot.QueryAsync<ConditionRow>(
                    AutocompleteQuery,
                    new
                    {
                        query.Text,
                        query.Code,
                        Prefix = like + "%",
                        WordPrefix = "% " + like + "%",
                        HyphenPrefix = "%-" + like + "%",
                        Limit = take,
                    }, ct, last: true);
            }
        }

        return new KeptConditions([.. rows.Select(r => r.ToItem())], take, http.Response.Headers[CatalogSnapshot.HeaderName]);
    }
}
