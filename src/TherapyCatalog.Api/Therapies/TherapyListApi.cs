using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>A page of therapies. <c>suggestions</c> appears only when a query matched nothing and close condition names exist.</summary>
public sealed record TherapyPage(
    IReadOnlyList<JsonObject> Items,
    string? NextCursor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Suggestions);

/// <summary>
/// <c>GET /v1/therapies</c>: filters, condition matching, relevance, keyset paging. A page is
/// read after the last row of the previous one, by the sort key and the id (never by offset), so
/// rows inserted or deleted between pages neither shift nor repeat the rest.
/// </summary>
public static class TherapyListApi
{
    public static readonly PageLimits Limits = new(Default: 20, Max: 100);
    public static readonly string[] Sorts = ["relevance", "name", "approvedOn", "-approvedOn"];

    private static readonly TherapyFilterRequestValidator Validator = new();

    private const string SelectSql = """
        SELECT t.id AS Id, {rank} AS Rank, lower(t.proprietary_name) AS SortName, {date}::text AS SortDate,
               v.document::text AS Document, {matched} AS MatchedConditions
        FROM {from}
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE {where}{after}
        ORDER BY {orderBy}
        LIMIT @Take
        """;

    // Which conditions a listed therapy was matched by, and how: its best match per condition.
    private const string MatchedConditionsSql = """
        (SELECT json_agg(json_build_object(
                    'conditionId', b.condition_id, 'condition', c.name, 'icd10', c.icd10,
                    'match', b.how, 'term', b.term, 'via', b.via) ORDER BY b.rank, b.condition_id)
         FROM (SELECT DISTINCT ON (m.condition_id) m.condition_id, m.rank, m.how, m.term, m.via
               FROM condition_match m
               WHERE EXISTS (SELECT 1 FROM therapy_indications i WHERE i.therapy_id = t.id AND i.condition_id = m.condition_id)
               ORDER BY m.condition_id, m.rank, m.how, m.term) AS b
         JOIN conditions c ON c.id = b.condition_id)::text
        """;

    private const string NoMatchedConditions = "NULL::text";
    private const string Name = "lower(t.proprietary_name)";
    private const string DateAscending = "coalesce(t.first_approved_on, 'infinity'::date)";
    private const string DateDescending = "coalesce(t.first_approved_on, '-infinity'::date)";

    // Per sort: the date key, ORDER BY, and the keyset condition "after the cursor's row".
    private static readonly Dictionary<string, (string Date, string OrderBy, string After)> SortSql = new()
    {
        ["relevance"] = (DateAscending, "{rank}, " + Name + ", t.id", "\n  AND ({rank}, " + Name + ", t.id) > (@AfterRank, @AfterName, @AfterId)"),
        ["name"] = (DateAscending, Name + ", t.id", "\n  AND (" + Name + ", t.id) > (@AfterName, @AfterId)"),
        ["approvedOn"] = (DateAscending, DateAscending + ", t.id", "\n  AND (" + DateAscending + ", t.id) > (@AfterDate::date, @AfterId)"),
        ["-approvedOn"] = (DateDescending, DateDescending + " DESC, t.id DESC", "\n  AND (" + DateDescending + ", t.id) < (@AfterDate::date, @AfterId)"),
    };

    // Short member names keep the cursor well inside OpaqueCursor's 1024 characters, even for a 200-character name.

    /// <summary>Where a page ended: the sort key of its last row, for the query (sort and filter) it belongs to.</summary>
    internal sealed record PagePosition(
        [property: JsonPropertyName("s")] string Sort,
        [property: JsonPropertyName("f")] string Filter,
        [property: JsonPropertyName("r")] int Rank,
        [property: JsonPropertyName("n")] string Name,
        [property: JsonPropertyName("d")] string Date,
        [property: JsonPropertyName("i")] Guid Id);

    public sealed record Row(Guid Id, int Rank, string SortName, string SortDate, string Document, string? MatchedConditions);

    /// <summary>
    /// A page as read for a limit: its rows (up to <paramref name="Limit"/> + 1: one more shows a
    /// next page), the suggestions, and the <c>X-Catalog-Cursor</c> of its snapshot. The order is
    /// total (ties broken by id), so its first n rows are the page for any limit n up to its own,
    /// and for any limit at all when it holds every row there is. At most 10,000 pages are kept, and
    /// at most 128 MB of their documents (as .NET strings: two bytes a character).
    /// </summary>
    public sealed record KeptPage(IReadOnlyList<Row> Rows, int Limit, IReadOnlyList<string>? Suggestions, string? Cursor)
    {
        public const int MaxEntries = 10_000;

        public const long MaxBytes = 128L * 1024 * 1024;

        public bool Answers(int take) => take <= Limit || Rows.Count <= Limit;

        public long Bytes => 2L * Rows.Sum(r => (long)r.Document.Length + (r.MatchedConditions?.Length ?? 0));
    }

    public static async Task<Results<Ok<TherapyPage>, ValidationProblem>> ListTherapies(
        [AsParameters] TherapyFilterRequest request, string? sort, string? limit, string? cursor,
        [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, ConditionMatchCache matcher, OpaqueCursor cursors, IOptions<CatalogOptions> options, KeptReads<KeptPage> kept,
        HttpContext http, CancellationToken ct)
    {
        var errors = Validator.Validate(request).ToDictionary();
        var take = Limits.Take(limit, errors);

        var sortName = sort is null ? null : Sorts.FirstOrDefault(s => s.Equals(sort, StringComparison.OrdinalIgnoreCase));
        if (sort is not null && sortName is null)
        {
            errors["sort"] = [$"'sort' must be one of: {string.Join(", ", Sorts)}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid list request");
        }

        var filter = TherapyFilter.From(request);
        sortName ??= filter.Matches ? "relevance" : "name";
        var fingerprint = filter.Fingerprint();
        PagePosition? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            after = DecodePosition(cursors, cursor);
            if (after is null || after.Sort != sortName || after.Filter != fingerprint)
            {
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]>
                    {
                        ["cursor"] = [after is null
                            ? "'cursor' is not a cursor this service handed out (or it was altered)."
                            : "'cursor' belongs to a different query: repeat the filters and sort of the request that returned it."],
                    },
                    title: "Invalid cursor");
            }
        }

        // A first page is kept per filter and sort, whatever its limit: a read for one limit answers every smaller one.
        var read = after is null
            ? await kept.GetAsync(sortName + "\u001f" + fingerprint, k => k.Answers(take), () => ReadAsync(filter, sortName, null, take, dataSource, matcher, cursors, http, ct))
            : await ReadAsync(filter, sortName, after, take, dataSource, matcher, cursors, http, ct);
        http.Response.Headers[CatalogSnapshot.HeaderName] = read.Cursor;
        var page = read.Rows.Take(take).ToList();
        string? next = null;
        if (read.Rows.Count > take)
        {
            var last = page[^1];
            next = cursors.Encode("p1:" + JsonSerializer.Serialize(
                new PagePosition(sortName, fingerprint, last.Rank, last.SortName, last.SortDate, last.Id)));
            http.Response.Headers.Link = $"<{NextPageUrl(http.Request, options.Value.PublicBaseUrl, next)}>; rel=\"next\"";
        }

        var items = page.Select(row =>
        {
            var item = JsonNode.Parse(row.Document)!.AsObject();
            if (filter.Matches)
            {
                item["matchedConditions"] = row.MatchedConditions is null ? new JsonArray() : JsonNode.Parse(row.MatchedConditions);
            }

            return item;
        }).ToList();
        return TypedResults.Ok(new TherapyPage(items, next, read.Suggestions));
    }

    /// <summary>The rows of a page (<paramref name="take"/> + 1 at most) in one snapshot, with the suggestions when nothing matched.</summary>
    private static async Task<KeptPage> ReadAsync(
        TherapyFilter filter, string sortName, PagePosition? after, int take,
        NpgsqlDataSource dataSource, ConditionMatchCache matcher, OpaqueCursor cursors, HttpContext http, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        var snapshot = CatalogSnapshot.Begin(db, http.Response, cursors);
        var matches = await matcher.MatchAsync(snapshot, filter.MatcherQueries, ct);
        var (text, parameters) = PageQuery(filter, matches, sortName, after, take);
        // "Did you mean": only when the typed condition matched no condition at all (not when other
        // filters emptied the list). Otherwise the page is the snapshot's last query.
        var typedSource = filter.Condition is not null ? "condition" : "q";
        var unmatched = after is null && (filter.Condition ?? filter.Q) is not null && !matches.Any(m => m.Source == typedSource);
        var rows = await snapshot.QueryAsync<Row>(text, parameters, ct, last: !unmatched);
        IReadOnlyList<string>? suggestions = null;
        if (unmatched && rows.Count == 0)
        {
            var close = await ConditionMatcher.SuggestAsync(snapshot, (filter.Condition ?? filter.Q)!.Text, ct);
            suggestions = close.Count > 0 ? close : null;
        }

        await snapshot.CommitAsync(ct);
        return new KeptPage(rows, take, suggestions, http.Response.Headers[CatalogSnapshot.HeaderName]);
    }

    /// <summary>The SQL and parameters of one page: <paramref name="take"/> + 1 rows after <paramref name="after"/>, so a further page shows.</summary>
    internal static (string Sql, DynamicParameters Parameters) PageQuery(
        TherapyFilter filter, IReadOnlyList<ConditionMatch> matches, string sortName, PagePosition? after, int take)
    {
        var sql = FilteredTherapies.For(filter, matches);
        // Without a query every rank is equal: relevance is the name order, and its index serves it.
        var (date, orderBy, afterSql) = SortSql[!filter.Matches && sortName == "relevance" ? "name" : sortName];
        var parameters = sql.Parameters;
        parameters.Add("Take", take + 1);
        if (after is not null)
        {
            parameters.Add("AfterRank", after.Rank);
            parameters.Add("AfterName", after.Name);
            parameters.Add("AfterDate", after.Date);
            parameters.Add("AfterId", after.Id);
        }

        // Fixed fragments only; every value is a bound parameter.
        var text = sql.With + SelectSql
            .Replace("{matched}", filter.Matches ? MatchedConditionsSql : NoMatchedConditions, StringComparison.Ordinal)
            .Replace("{from}", sql.From, StringComparison.Ordinal)
            .Replace("{where}", sql.Where, StringComparison.Ordinal)
            .Replace("{after}", after is null ? "" : afterSql, StringComparison.Ordinal)
            .Replace("{orderBy}", orderBy, StringComparison.Ordinal)
            .Replace("{date}", date, StringComparison.Ordinal)
            .Replace("{rank}", sql.Rank, StringComparison.Ordinal);
        return (text, parameters);
    }

    private static PagePosition? DecodePosition(OpaqueCursor cursors, string cursor)
    {
        var payload = cursors.Decode(cursor);
        if (payload is null || !payload.StartsWith("p1:", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<PagePosition>(payload[3..]) is { } position && IsPlausible(position) ? position : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // InvalidOperationException: an unpaired surrogate escape
        {
            return null;
        }
    }

    /// <summary>
    /// Field by field, a position this service could have written: a signed cursor is trusted not
    /// to be forged, but a leaked or default key must still not get a NUL (22021) or a non-date
    /// (22007) into a query. Its sort and filter are compared with the request's afterwards.
    /// </summary>
    private static bool IsPlausible(PagePosition position) =>
        position is { Sort: not null, Filter: not null, Name: not null, Date: not null }
        && Sorts.Contains(position.Sort, StringComparer.Ordinal)
        && position.Name.Length <= 1000 && !position.Name.Contains('\0', StringComparison.Ordinal)
        && (position.Date is "infinity" or "-infinity"
            || DateOnly.TryParseExact(position.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _));

    /// <summary>The next page's address: absolute from <c>Catalog:PublicBaseUrl</c>, else relative (never from the request's Host header).</summary>
    private static string NextPageUrl(HttpRequest request, string? publicBaseUrl, string next)
    {
        var query = new QueryBuilder(request.Query
            .Where(p => !p.Key.Equals("cursor", StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))))
        {
            { "cursor", next },
        };
        var relative = (request.PathBase + request.Path).ToUriComponent() + query.ToQueryString().ToUriComponent();
        return publicBaseUrl is null ? relative : publicBaseUrl.TrimEnd('/') + relative;
    }
}
