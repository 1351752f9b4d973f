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

    private const string FacetsSql = """
        filtered AS MATERIALIZED (
            SELECT t.id, t.modality, t.cell_source, t.delivery, t.mechanism, t.vector, t.route
            FROM {from}
            WHERE {where}
        )
        SELECT 'total' AS Facet, '' AS Value, count(*)::int AS Count FROM filtered
        UNION ALL
        SELECT 'modality', f.modality, count(*)::int FROM filtered f GROUP BY f.modality
        UNION ALL
        SELECT 'cellSource', f.cell_source, count(*)::int FROM filtered f WHERE f.cell_source IS NOT NULL GROUP BY f.cell_source
        UNION ALL
        SELECT 'delivery', f.delivery, count(*)::int FROM filtered f WHERE f.delivery IS NOT NULL GROUP BY f.delivery
        UNION ALL
        SELECT 'mechanism', f.mechanism, count(*)::int FROM filtered f WHERE f.mechanism IS NOT NULL GROUP BY f.mechanism
        UNION ALL
        SELECT 'vector', f.vector, count(*)::int FROM filtered f WHERE f.vector IS NOT NULL GROUP BY f.vector
        UNION ALL
        SELECT 'route', f.route, count(*)::int FROM filtered f GROUP BY f.route
        UNION ALL
        SELECT 'regulator', r.regulator, count(*)::int
        FROM filtered f
        CROSS JOIN LATERAL (SELECT a.regulator FROM therapy_approvals a WHERE a.therapy_id = f.id
                            UNION
                            SELECT i.regulator FROM therapy_indications i WHERE i.therapy_id = f.id) AS r
        GROUP BY r.regulator
        UNION ALL
        SELECT 'approvalYear', y.year, count(*)::int
        FROM filtered f
        CROSS JOIN LATERAL (SELECT DISTINCT extract(year FROM a.approved_on)::int::text AS year
                            FROM therapy_approvals a
                            WHERE a.therapy_id = f.id AND a.approved_on IS NOT NULL) AS y
        GROUP BY y.year
        """;

    private sealed record FacetRow(string Facet, string Value, int Count);

    public static async Task<Results<Ok<TherapyFacets>, ValidationProblem>> GetFacets(
        [AsParameters] TherapyFilterRequest request, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, OpaqueCursor cursors, HttpContext http, CancellationToken ct)
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
            await using var tx = await CatalogSnapshot.BeginAsync(db, http.Response, cursors, ct);
            var matches = await Conditions.ConditionMatcher.MatchAsync(db, tx, filter.MatcherQueries, ct);
            var sql = FilteredTherapies.For(filter, matches);
            var text = (sql.With.Length == 0 ? "WITH " : sql.With.TrimEnd() + ",\n")
                       + FacetsSql.Replace("{from}", sql.From, StringComparison.Ordinal).Replace("{where}", sql.Where, StringComparison.Ordinal);
            rows = [.. await db.QueryAsync<FacetRow>(new CommandDefinition(text, sql.Parameters, tx, cancellationToken: ct))];
            await tx.CommitAsync(ct);
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
