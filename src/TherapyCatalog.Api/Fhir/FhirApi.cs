using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>
/// The catalog as FHIR R4 (docs/fhir.md), beside the JSON API and from the same tables and change
/// log: <c>metadata</c>, MedicationKnowledge read, search and type-level history, and this
/// project's CodeSystems. Kept out of the OpenAPI document, which describes /v1 only.
/// </summary>
public static class FhirApi
{
    public const string Base = "/fhir/r4";

    public static RouteGroupBuilder MapFhir(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Base).ExcludeFromDescription();
        group.AddEndpointFilter(async (context, next) =>
            FhirResponses.CheckFormat(context.HttpContext.Request) is { } refusal ? refusal : await next(context));

        group.MapGet("/metadata", (HttpContext http) => FhirResponses.Resource(FhirCapabilities.Statement()));
        group.MapGet("/MedicationKnowledge", FhirSearch.Search);
        group.MapGet("/MedicationKnowledge/_history", FhirHistory.History);
        group.MapGet("/MedicationKnowledge/{id}", Read);
        group.MapGet("/CodeSystem/{id}", (string id) =>
            FhirTerms.All.FirstOrDefault(s => s.Id == id) is { } system
                ? FhirResponses.Resource(FhirTerms.ToResource(system))
                : FhirResponses.NotFound($"No CodeSystem has the id '{id}'. Known: {string.Join(", ", FhirTerms.All.Select(s => s.Id))}."));
        // Everything else under the base: an OperationOutcome, not the /v1 problem document.
        group.Map("/{**rest}", (string? rest) => FhirResponses.Error(
            StatusCodes.Status404NotFound, M.OperationOutcome.IssueType.NotSupported,
            $"'{rest}' is not supported here; GET {Base}/metadata lists what is."));
        return group;
    }

    private const string ReadSql = """
        SELECT t.deleted_at IS NOT NULL AS Deleted, v.document::text AS Document
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.id = @Id
        """;

    private sealed record ReadRow(bool Deleted, string Document);

    public static async Task<IResult> Read(
        string id, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, HttpContext http, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var therapyId))
        {
            return FhirResponses.NotFound($"No MedicationKnowledge has the id '{id}' (ids are the therapies' uuids).");
        }

        ReadRow? row;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            row = await db.QuerySingleOrDefaultAsync<ReadRow>(new CommandDefinition(ReadSql, new { Id = therapyId }, cancellationToken: ct));
        }

        if (row is null)
        {
            return FhirResponses.NotFound($"No MedicationKnowledge has the id '{id}'.");
        }

        if (row.Deleted)
        {
            return FhirResponses.Error(StatusCodes.Status410Gone, M.OperationOutcome.IssueType.Deleted, $"MedicationKnowledge '{id}' was deleted.");
        }

        var therapy = Parse(row.Document);
        var etag = $"W/\"{therapy.Version.ToString(CultureInfo.InvariantCulture)}\"";
        http.Response.Headers.ETag = etag;
        http.Response.Headers.LastModified = therapy.UpdatedAt.ToString("R", CultureInfo.InvariantCulture);
        return EntityTags.IfNoneMatchHits(http.Request, etag[2..])
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : FhirResponses.Resource(MedicationKnowledgeMap.From(therapy));
    }

    public static Therapy Parse(string document) => JsonSerializer.Deserialize<Therapy>(document, CatalogJson.Options)!;

    /// <summary>
    /// The absolute address of <paramref name="relative"/> (under the FHIR base) when Catalog:PublicBaseUrl is
    /// set, else <paramref name="relative"/> itself, which FHIR reads relative to the service base (never built from Host).
    /// </summary>
    public static string Link(string? publicBaseUrl, string relative) =>
        publicBaseUrl is null ? relative : publicBaseUrl.TrimEnd('/') + Base + "/" + relative;
}
