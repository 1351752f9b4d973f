using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TherapyCatalog.Api.Sync;

/// <summary>Formulary sync: a snapshot to start from (export) and a gap-free change feed to follow.</summary>
public static class SyncApi
{
    public static IServiceCollection AddSync(this IServiceCollection services)
    {
        services.AddSingleton<ChangeSignal>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeSignal>());
        // A feed entry's document is written through as raw JSON; the contract shows it as a Therapy.
        services.Configure<SwaggerGenOptions>(options => options.MapType<TherapyDocument>(() => new OpenApiSchemaReference("Therapy")));
        return services;
    }

    public static RouteGroupBuilder MapSync(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Sync");

        group.MapGet("/changes", ChangesApi.GetChanges)
            .WithName("GetChanges")
            .WithSummary("Follow every change to the catalog, in order")
            .WithDescription(
                "Upserts and tombstones after `after` (a cursor from this feed or an export's `X-Catalog-Cursor`; omitted = from the beginning), " +
                "in transaction order, gap-free under concurrent writers. `limit` 1-1000 (default 100). `wait` (0-30 s) long-polls: " +
                "an empty page is held until a change arrives or the time is up. `nextCursor` is the cursor to ask from next, also for an empty page. " +
                "Apply a change only when its `version` is greater than the version you hold for that therapy. " +
                "400 for a cursor this service did not make; 410 for one it no longer recognises: re-export.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status410Gone);

        group.MapGet("/export", ExportApi.GetExport)
            .WithName("ExportCatalog")
            .WithSummary("Stream the whole catalog, with the feed cursor to continue from")
            .WithDescription(
                "`format=ndjson` (default: one therapy document per line) or `csv` (one row per therapy, arrays flattened: see README). " +
                "Streamed from one database snapshot; gzip when Accept-Encoding allows. `X-Catalog-Cursor` is the change-feed position " +
                "of that snapshot: follow GET /v1/changes?after={it} to stay in step.")
            .Produces<string>(StatusCodes.Status200OK, ExportApi.NdjsonContentType, ExportApi.CsvContentType);

        return group;
    }
}
