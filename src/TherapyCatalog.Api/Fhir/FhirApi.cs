using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>
/// The catalog as FHIR R4 (docs/fhir.md), beside the JSON API and from the same tables and change
/// log: <c>metadata</c>, MedicationKnowledge read, search and type-level history, and this
/// project's CodeSystems. Not in the OpenAPI document, which describes /v1 only.
/// </summary>
public static class FhirApi
{
    public const string Base = "/fhir/r4";

    /// <summary>
    /// The FHIR base as a branch of the pipeline with its own small dispatcher rather than routed
    /// endpoints: the endpoint table (and so the OpenAPI document and its tests) stays the /v1 API's,
    /// and everything under the base, an unknown address or method too, answers an OperationOutcome.
    /// </summary>
    public static IApplicationBuilder UseFhir(this IApplicationBuilder app) =>
        app.Map(Base, branch => branch.Run(async http =>
        {
            IResult result;
            try
            {
                result = await DispatchAsync(http);
            }
            catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
            {
                // A failure is an OperationOutcome here too: a busy or unreachable database is the JSON
                // API's 503 (same classification, log, metrics and Retry-After), anything else a 500.
                var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FhirApi));
                if (Problems.DatabaseFailure(http, e, logger) is { } detail)
                {
                    result = FhirResponses.Error(StatusCodes.Status503ServiceUnavailable, M.OperationOutcome.IssueType.Transient, detail);
                }
                else
                {
                    logger.LogError(e, "Unhandled exception answering {Method} {Path}", http.Request.Method, http.Request.Path);
                    result = FhirResponses.Error(StatusCodes.Status500InternalServerError, M.OperationOutcome.IssueType.Exception,
                        $"The service failed to answer. The failure is logged under trace id {System.Diagnostics.Activity.Current?.Id ?? http.TraceIdentifier}.");
                }
            }

            await result.ExecuteAsync(http);
        }));

    private static async Task<IResult> DispatchAsync(HttpContext http)
    {
        if (FhirResponses.CheckFormat(http.Request) is { } refusal)
        {
            return refusal;
        }

        var segments = (http.Request.Path.Value ?? "").Trim('/').Split('/');
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            http.Response.Headers.Allow = "GET, HEAD";
            return FhirResponses.Error(StatusCodes.Status405MethodNotAllowed, M.OperationOutcome.IssueType.NotSupported,
                $"This server is read-only: {http.Request.Method} is not supported. GET {Base}/metadata lists what is.");
        }

        var services = http.RequestServices;
        var ct = http.RequestAborted;
        NpgsqlDataSource Reads() => services.GetRequiredKeyedService<NpgsqlDataSource>(CatalogDatabase.Reads);
        var cursors = services.GetRequiredService<OpaqueCursor>();
        var options = services.GetRequiredService<IOptions<CatalogOptions>>();
        return segments switch
        {
            ["metadata"] => FhirResponses.Resource(FhirCapabilities.Statement()),
            ["MedicationKnowledge"] => await FhirSearch.Search(Reads(), services.GetRequiredService<ConditionMatchCache>(), cursors, options, http, ct),
            ["MedicationKnowledge", "_history"] => await FhirHistory.History(services.GetRequiredService<NpgsqlDataSource>(), cursors, options, http, ct),
            ["MedicationKnowledge", var id] => await Read(id, Reads(), http, ct),
            ["CodeSystem", var id] => FhirTerms.All.FirstOrDefault(s => s.Id == id) is { } system
                ? FhirResponses.Resource(FhirTerms.ToResource(system))
                : FhirResponses.NotFound($"No CodeSystem has the id '{id}'. Known: {string.Join(", ", FhirTerms.All.Select(s => s.Id))}."),
            _ => FhirResponses.Error(StatusCodes.Status404NotFound, M.OperationOutcome.IssueType.NotSupported,
                $"'{string.Join('/', segments)}' is not supported here; GET {Base}/metadata lists what is."),
        };
    }

    private const string ReadSql = """
        SELECT t.deleted_at IS NOT NULL AS Deleted, v.document::text AS Document
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.id = @Id
        """;

    private sealed record ReadRow(bool Deleted, string Document);

    public static async Task<IResult> Read(string id, NpgsqlDataSource dataSource, HttpContext http, CancellationToken ct)
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
