using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

public static partial class TherapiesApi
{
    public static RouteGroupBuilder MapTherapies(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/therapies").WithTags("Therapies");

        group.MapGet("/", TherapyListApi.ListTherapies)
            .WithName("ListTherapies")
            .WithSummary("List and search therapies")
            .WithDescription("Filters combine with AND; a repeated filter means OR within it. `condition` matches names, synonyms, abbreviations, lay terms, misspellings and ICD-10 codes or prefixes, and reaches subtypes; each item then carries `matchedConditions`. `sort`: relevance (default with `condition` or `q`), name (default otherwise), approvedOn, -approvedOn (earliest approval). Keyset paging: `limit` 1–100 (default 20), `cursor` from `nextCursor` or the `Link: rel=\"next\"` header. `X-Catalog-Cursor` is the change-feed position the answer reflects.");

        group.MapGet("/{idOrSlug}", GetTherapy)
            .WithName("GetTherapy")
            .WithSummary("Get one therapy by id or slug")
            .WithDescription("Returns the current version of a therapy. `idOrSlug` is the therapy's uuid or its slug (e.g. `kymriah`).");

        app.MapGet("/v1/facets", TherapyFacetsApi.GetFacets)
            .WithTags("Therapies")
            .WithName("GetFacets")
            .WithSummary("Counts of the filtered therapies by modality, cell source, delivery, mechanism, vector, route, regulator and approval year")
            .WithDescription("Takes the filters of `GET /v1/therapies`. Each count equals the length of that list with the value's filter added. `X-Catalog-Cursor` is the change-feed position the answer reflects.");

        return group;
    }

    private const string GetByIdSql = """
        SELECT v.document::text
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.id = @Id AND t.deleted_at IS NULL
        """;

    private const string GetBySlugSql = """
        SELECT v.document::text
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.slug = @Slug AND t.deleted_at IS NULL
        """;

    public static async Task<Results<Ok<Therapy>, ProblemHttpResult>> GetTherapy(
        string idOrSlug, NpgsqlDataSource dataSource, HttpContext http, CancellationToken ct)
    {
        string? document;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            if (Guid.TryParse(idOrSlug, out var id))
            {
                document = await db.QuerySingleOrDefaultAsync<string>(new CommandDefinition(GetByIdSql, new { Id = id }, cancellationToken: ct));
            }
            else if (idOrSlug.Length <= 100 && Slug().IsMatch(idOrSlug))
            {
                document = await db.QuerySingleOrDefaultAsync<string>(new CommandDefinition(GetBySlugSql, new { Slug = idOrSlug }, cancellationToken: ct));
            }
            else
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Invalid therapy id or slug",
                    detail: "A therapy is addressed by its uuid or by its slug: lower-case words joined by hyphens, e.g. 'kymriah'.");
            }
        }

        if (document is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Therapy not found",
                detail: $"No therapy has the id or slug '{idOrSlug}'.");
        }

        var therapy = JsonSerializer.Deserialize<Therapy>(document, CatalogJson.Options)!;
        http.Response.Headers.ETag = ETag(therapy);
        return TypedResults.Ok(therapy);
    }

    /// <summary>The entity tag of a therapy version. It carries the id, so two therapies that took turns at one slug never share one.</summary>
    public static string ETag(Therapy therapy) => $"\"{therapy.Id:N}-{therapy.Version}\"";

    [GeneratedRegex(TherapyVocabulary.SlugPattern)]
    private static partial Regex Slug();
}
