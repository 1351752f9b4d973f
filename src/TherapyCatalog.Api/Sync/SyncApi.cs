using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Api.Sync;

/// <summary>Formulary sync: a snapshot to start from (export) and a gap-free change feed to follow.</summary>
public static class SyncApi
{
    public static IServiceCollection AddSync(this IServiceCollection services)
    {
        services.Configure<SwaggerGenOptions>(options =>
        {
            // A feed entry's document is written through as raw JSON; the contract shows it as a Therapy.
            options.MapType<TherapyDocument>(() => new OpenApiSchemaReference(nameof(Therapy)));
            options.SchemaFilter<ChangeItemExample>();
        });
        services.AddSingleton<ChangeFeedLag>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeFeedLag>());
        return services;
    }

    public static RouteGroupBuilder MapSync(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Sync");

        group.MapGet("/changes", ChangesApi.GetChanges)
            .WithParameterDoc("after", "A `cursor` from the feed or an export's `X-Catalog-Cursor`; none to start from the beginning.")
            .WithMetadata(ChangesApi.Limits)
            .WithParameterDoc(
                "wait", $"Long poll: with no new change, wait up to this many seconds (0–{ChangesApi.MaxWaitSeconds}) for one.",
                range: (0, ChangesApi.MaxWaitSeconds))
            .WithName("GetChanges")
            .WithSummary("Follow every change to the catalog, in order")
            .WithDescription(
                "Upserts and tombstones after `after` (a cursor from this feed or an export's `X-Catalog-Cursor`; omitted = from the beginning), " +
                $"in transaction order, gap-free under concurrent writers. `limit` 1-{ChangesApi.Limits.Max} (default {ChangesApi.Limits.Default}). `wait` (0-{ChangesApi.MaxWaitSeconds} s) long-polls: " +
                "an empty page is held until a change arrives or the time is up. `nextCursor` is the cursor to ask from next, also for an empty page. " +
                "Apply a change only when its `version` is greater than the version you hold for that therapy. " +
                "400 for a cursor this service did not make; 410 for one it no longer recognises: re-export.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status410Gone);

        group.MapGet("/export", ExportApi.GetExport)
            .WithParameterDoc("format", values: ExportApi.Formats)
            .WithCatalogCursorHeader()
            .WithOpenApiDoc(DescribeExport)
            .WithName("ExportCatalog")
            .WithSummary("Stream the whole catalog, with the feed cursor to continue from")
            .WithDescription(
                "`format=ndjson` (default: one therapy document per line) or `csv` (one row per therapy, arrays flattened: see README). " +
                "Streamed from one database snapshot; gzip when Accept-Encoding allows. `X-Catalog-Cursor` is the change-feed position " +
                "of that snapshot: follow GET /v1/changes?after={it} to stay in step.")
            .Produces<string>(StatusCodes.Status200OK, ExportApi.NdjsonContentType, ExportApi.CsvContentType);

        return group;
    }

    /// <summary>
    /// An NDJSON export is a sequence of therapy documents, one per line. OpenAPI 3.1 has no schema
    /// for a sequence (3.2's <c>itemSchema</c> is that), and a media type that is not JSON is
    /// described as text: so the body is a string, its description says each line is a
    /// <c>Therapy</c>, <c>x-itemSchema</c> gives the line's schema as 3.2 would (a <c>$ref</c>
    /// to <c>Therapy</c>), and the example is two real lines. A validating proxy (Prism) checks the
    /// body as text, which a real export is, instead of as one Therapy object, which it is not.
    /// </summary>
    private static readonly string[] ExampleLines = ["kymriah", "zolgensma"];

    private static void DescribeExport(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse answer && answer.Content is { } content)
        {
            content[ExportApi.NdjsonContentType] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Newline-delimited JSON: each line is one `Therapy` document (#/components/schemas/Therapy, see `x-itemSchema`), ending in a line feed.",
                },
                Example = JsonValue.Create(string.Concat(ExampleLines.Select(slug => TherapyExamples.Therapy(slug).ToJsonString() + "\n"))),
                Extensions = new Dictionary<string, IOpenApiExtension>
                {
                    ["x-itemSchema"] = new JsonNodeExtension(new JsonObject { ["$ref"] = "#/components/schemas/" + nameof(Therapy) }),
                },
            };
            answer.Description = "The catalog, streamed: NDJSON has one Therapy document per line (`x-itemSchema`); CSV has one row per therapy with arrays flattened as README describes.";
        }
    }

    /// <summary>A change-feed entry's kinds as an enum, and a real entry: the version-1 upsert of a catalog product.</summary>
    private sealed class ChangeItemExample : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (context.Type == typeof(ChangeItem) && schema is OpenApiSchema target)
            {
                if (target.Properties is { } properties && properties.TryGetValue("kind", out var member) && member is OpenApiSchema kind)
                {
                    kind.Enum = [.. ChangeItem.Kinds.Select(k => (JsonNode)JsonValue.Create(k)!)];
                }

                target.Example = new JsonObject
                {
                    ["cursor"] = "YzE6NzkzOjUzSeKjRNNEFL0R3btrisPi5w",
                    ["kind"] = ChangeItem.Upsert,
                    ["therapyId"] = TherapyExamples.Therapy("zolgensma")["id"]!.DeepClone(),
                    ["version"] = 1,
                    ["changedAt"] = "2026-11-25T16:13:23.074237Z",
                    ["therapy"] = TherapyExamples.Therapy("zolgensma"),
                };
            }
        }
    }
}
