using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// How many therapies of a filtered list have each value. A count equals the length of the list
/// with the same filters plus that value's filter (<c>regulator</c>: an approval or indication by
/// it; <c>approvalYear</c>: an approval dated in that year). Values no therapy has, and null values,
/// are left out.
/// </summary>
public sealed record TherapyFacets(
    int Total,
    IReadOnlyDictionary<string, int> Modality,
    IReadOnlyDictionary<string, int> CellSource,
    IReadOnlyDictionary<string, int> Delivery,
    IReadOnlyDictionary<string, int> Mechanism,
    IReadOnlyDictionary<string, int> Vector,
    IReadOnlyDictionary<string, int> Route,
    IReadOnlyDictionary<string, int> Regulator,
    IReadOnlyDictionary<string, int> ApprovalYear);

public static class TherapyFacetsApi
{
    private static readonly TherapyFilterRequestValidator Validator = new();

    // One pass over the filtered therapies: group them by every facet column at once (one group per
    // distinct combination: a few dozen in the real and the synthetic million), then add the groups
    // up per value. A therapy's regulators and approval years are sets kept on its row
    // (0006_facets.sql), so it counts once per value.
    private const string FacetsSql = """
        facet_groups AS (
            SELECT t.modality, t.cell_source, t.delivery, t.mechanism, t.vector, t.route, t.regulators, t.approval_years,
                   count(*) AS therapies
            FROM {from}
            WHERE {where}
            GROUP BY t.modality, t.cell_source, t.delivery, t.mechanism, t.vector, t.route, t.regulators, t.approval_years
        )
        SELECT 'total' AS Facet, '' AS Value, coalesce(sum(g.therapies), 0)::int AS Count FROM facet_groups g
        UNION ALL
        SELECT v.facet, v.value, sum(g.therapies)::int
        FROM facet_groups g
        CROSS JOIN LATERAL (VALUES ('modality', g.modality), ('cellSource', g.cell_source), ('delivery', g.delivery),
                                   ('mechanism', g.mechanism), ('vector', g.vector), ('route', g.route)) AS v(facet, value)
        WHERE v.value IS NOT NULL
        GROUP BY v.facet, v.value
        UNION ALL
        SELECT 'regulator', r.regulator, sum(g.therapies)::int
        FROM facet_groups g CROSS JOIN LATERAL unnest(g.regulators) AS r(regulator)
        GROUP BY r.regulator
        UNION ALL
        SELECT 'approvalYear', y.year::text, sum(g.therapies)::int
        FROM facet_groups g CROSS JOIN LATERAL unnest(g.approval_years) AS y(year)
        GROUP BY y.year
        """;

    private sealed record FacetRow(string Facet, string Value, int Count);

    public static async Task<Results<Ok<TherapyFacets>, ValidationProblem>> GetFacets(
        [AsParameters] TherapyFilterRequest request, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, Conditions.ConditionMatchCache matcher, OpaqueCursor cursors, HttpContext http, CancellationToken ct)
    {
        var validation = Validator.Validate(request);
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.ToDictionary(), title: "Invalid facet request");
        }

        var filter = TherapyFilter.From(request);
        List<FacetRow> rows;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            var snapshot = CatalogSnapshot.Begin(db, http.Response, cursors);
            var matches = await matcher.MatchAsync(snapshot, filter.MatcherQueries, ct);
            var sql = FilteredTherapies.For(filter, matches);
            var text = (sql.With.Length == 0 ? "WITH " : sql.With.TrimEnd() + ",\n")
                       + FacetsSql.Replace("{from}", sql.From, StringComparison.Ordinal).Replace("{where}", sql.Where, StringComparison.Ordinal);
            rows = await snapshot.QueryAsync<FacetRow>(text, sql.Parameters, ct, last: true);
        }

        return TypedResults.Ok(new TherapyFacets(
            rows.Where(r => r.Facet == "total").Sum(r => r.Count),
            Counts("modality", TherapyVocabulary.Modalities),
            Counts("cellSource", TherapyVocabulary.CellSources),
            Counts("delivery", TherapyVocabulary.Deliveries),
            Counts("mechanism", TherapyVocabulary.Mechanisms),
            Counts("vector", TherapyVocabulary.Vectors),
            Counts("route", TherapyVocabulary.Routes),
            Counts("regulator", TherapyVocabulary.Regulators),
            Counts("approvalYear", null)));

        // In vocabulary order (years ascending), so the answer reads the same every time.
        Dictionary<string, int> Counts(string facet, string[]? order) => rows
            .Where(r => r.Facet == facet)
            .OrderBy(r => order is null ? 0 : Array.IndexOf(order, r.Value))
            .ThenBy(r => r.Value, StringComparer.Ordinal)
            .ToDictionary(r => r.Value, r => r.Count);
    }
}
