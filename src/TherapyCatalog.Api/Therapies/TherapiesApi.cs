using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Swashbuckle.AspNetCore.SwaggerGen;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

public static partial class TherapiesApi
{
    public static RouteGroupBuilder MapTherapies(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/therapies").WithTags("Therapies");

        group.MapGet("/", TherapyListApi.ListTherapies)
            .CachedPerEpoch()
            .WithDatabaseGate()
            .WithFilterDocs()
            .WithParameterDoc("sort", values: TherapyListApi.Sorts)
            .WithParameterDoc("cursor", "The `nextCursor` of the previous page, as given (opaque and tamper-evident; the same filters and sort must be sent).")
            .WithMetadata(TherapyListApi.Limits)
            .WithResponseHeader("Link", "`<next page URL>; rel=\"next\"` while more items remain.", StatusCodes.Status200OK)
            .WithCatalogCursorHeader()
            .WithName("ListTherapies")
            .WithSummary("List and search therapies")
            .WithDescription("Filters combine with AND; a repeated filter means OR within it. `condition` matches names, synonyms, abbreviations, lay terms, misspellings and ICD-10 codes or prefixes, and reaches subtypes through the hierarchy (`match: descendant`, `via` the broader condition); qualifiers (a letter, a type number, a roman numeral: `hemophilia A`, `SMA type 2`, `LAD-I`) are compared exactly and never corrected. `q` is free text over names, brands, target, manufacturer, vector detail, platform and modality words (`CAR-T`, `AAV`, `gene therapy`) and conditions; an exact name ranks first. Each item then carries `matchedConditions`. `sort`: relevance (default with `condition` or `q`), name (default otherwise), approvedOn, -approvedOn (earliest approval). Keyset paging: `limit` 1–100 (default 20), `cursor` from `nextCursor` or the `Link: rel=\"next\"` header. `X-Catalog-Cursor` is the change-feed position the answer reflects.");

        group.MapGet("/{idOrSlug}", GetTherapy)
            .CachedPerEpoch()
            .WithIdOrSlugDoc()
            .WithHeaderParameter("If-None-Match", "The ETag of the copy you hold: the answer is 304 while it is current.", "\"f1cceb6809f44a049f9b9f059e2cee76-1\"")
            .WithResponseHeader("ETag", ETagDescription, StatusCodes.Status200OK, StatusCodes.Status304NotModified)
            .WithName("GetTherapy")
            .WithSummary("Get one therapy by id or slug")
            .WithDescription("Returns the current version of a therapy, with its `ETag`. `idOrSlug` is the therapy's uuid or its slug (e.g. `kymriah`; case-insensitive, so `KYMRIAH` reads the same therapy). With `If-None-Match` naming the current ETag the answer is 304.")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/{idOrSlug}/history", TherapyHistoryApi.GetHistory)
            .WithIdOrSlugDoc()
            .WithName("GetTherapyHistory")
            .WithSummary("Every version of a therapy")
            .WithDescription("Oldest first: each version's representation, what kind of change made it (create, update, delete), when, by which API key, and which members changed. A deleted therapy's history stays readable by id.")
            .Produces<TherapyHistory>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        var writes = group.MapGroup("").RequireAuthorization(ApiKeyAuthentication.WritePolicy).RequireCors(Cors.WritePolicy)
            .WithParameterDoc(
                "idOrSlug", "The therapy's id (uuid). Writes do not take a slug: a slug can pass to another therapy, an id never does.",
                example: () => TherapyExamples.Therapy("kymriah")["id"]!.DeepClone())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem();

        writes.MapPost("/", TherapyWriteApi.CreateTherapy)
            .WithName("CreateTherapy")
            .WithSummary("Create a therapy")
            .WithDescription("Creates a therapy and answers 201 with `Location` and `ETag`. A duplicate slug is a 409. With `Idempotency-Key`, a retry with the same body within 24 hours replays the first answer (status, headers, body); the same key with another body is a 422.")
            .Accepts<TherapyInput>(JsonBody.Json)
            .Produces<Therapy>(StatusCodes.Status201Created)
            .WithHeaderParameter(IdempotentRequest.Header, "Any unique string (at most 200 characters): a retry with the same key and body within 24 hours gets the first answer again.", "3f1c2a9e-create-zolgensma")
            .WithResponseHeader("ETag", ETagDescription, StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        writes.MapPut("/{idOrSlug}", TherapyWriteApi.ReplaceTherapy)
            .WithIfMatchDoc()
            .WithName("ReplaceTherapy")
            .WithSummary("Replace a therapy")
            .WithDescription("Replaces every writable member. `If-Match` is honoured: a stale ETag answers 412 and changes nothing. An unchanged body keeps the version.")
            .Accepts<TherapyInput>(JsonBody.Json)
            .Produces<Therapy>()
            .WithResponseHeader("ETag", ETagDescription, StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        writes.MapPatch("/{idOrSlug}", TherapyWriteApi.PatchTherapy)
            .WithIfMatchDoc()
            .WithName("PatchTherapy")
            .WithSummary("Change some members of a therapy (JSON Merge Patch)")
            .WithDescription("An RFC 7396 merge patch (`application/merge-patch+json`) over the writable members; the result must be a valid therapy. `If-Match` is honoured.")
            .Accepts<TherapyInput>(JsonBody.MergePatch)
            .WithOpenApiDoc(TherapyPatchSchema.Describe)
            .Produces<Therapy>()
            .WithResponseHeader("ETag", ETagDescription, StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        writes.MapDelete("/{idOrSlug}", TherapyWriteApi.DeleteTherapy)
            .WithIfMatchDoc()
            .WithName("DeleteTherapy")
            .WithSummary("Delete a therapy (soft)")
            .WithDescription("Marks the therapy deleted: it leaves reads and lists, its slug becomes free, its history stays, and the change feed carries a tombstone. `If-Match` is honoured.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        app.MapGet("/v1/facets", TherapyFacetsApi.GetFacets)
            .CachedPerEpoch()
            .WithDatabaseGate()
            .WithFilterDocs()
            .WithCatalogCursorHeader()
            .WithTags("Therapies")
            .WithName("GetFacets")
            .WithSummary("Counts of the filtered therapies by modality, cell source, delivery, mechanism, vector, route, regulator and approval year")
            .WithDescription("Takes the filters of `GET /v1/therapies`. Each count equals the length of that list with the value's filter added. `X-Catalog-Cursor` is the change-feed position the answer reflects.");

        return group;
    }

    private const string ETagDescription = "The version's entity tag, `\"<id>-<version>\"`; send it in If-None-Match (reads) or If-Match (writes).";

    private static RouteHandlerBuilder WithIfMatchDoc(this RouteHandlerBuilder builder) =>
        builder.WithHeaderParameter("If-Match", "The ETag you read: a stale one is answered 412 and changes nothing. Without it the write is unconditional.",
            "\"f1cceb6809f44a049f9b9f059e2cee76-1\"");

    private static RouteHandlerBuilder WithIdOrSlugDoc(this RouteHandlerBuilder builder) =>
        builder.WithParameterDoc("idOrSlug", "The therapy's uuid or slug, e.g. `kymriah` (any case).", example: () => JsonValue.Create("kymriah"));

    /// <summary>The therapies feature's services: its validator, ETag cache, kept first pages, data files and OpenAPI examples.</summary>
    public static IServiceCollection AddTherapies(this IServiceCollection services)
    {
        services.AddSingleton<IValidator<TherapyInput>, TherapyInputValidator>();
        services.AddSingleton<TherapyETags>();
        services.AddKeptReads<TherapyListApi.KeptPage>(
            "catalog.therapy_page_cache.lookups",
            "First pages of therapy lists and searches asked for: answered from a page read since the last change for the same filters and sort (hit), or by the database (miss)",
            TherapyListApi.KeptPage.MaxEntries, page => page.Bytes, TherapyListApi.KeptPage.MaxBytes);
        services.AddSingleton<ICatalogDataSet, TherapyData>();
        services.Configure<SwaggerGenOptions>(options =>
        {
            options.SchemaFilter<TherapySchemaExamples>();
            options.SchemaFilter<TherapyVocabularySchemas>();
            options.SchemaFilter<TherapyLimitSchemas>();
        });
        return services;
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

    public static async Task<Results<Ok<Therapy>, StatusCodeHttpResult, ProblemHttpResult>> GetTherapy(
        string idOrSlug, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, NpgsqlDataSource primary,
        TherapyETags etags, HttpContext http, CancellationToken ct)
    {
        var byId = Guid.TryParse(idOrSlug, out var id);
        var slug = byId ? null : ReadSlug(idOrSlug);
        if (!byId && slug is null)
        {
            return InvalidIdOrSlug();
        }

        // A matching If-None-Match is answered from the ETags this process knows to be current (see TherapyETags).
        var key = byId ? id.ToString() : slug!;
        if (http.Request.Headers.IfNoneMatch.Count > 0 && etags.Current(key) is { } known && EntityTags.IfNoneMatchHits(http.Request, known))
        {
            http.Response.Headers.ETag = known;
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        var epoch = etags.BeforeRead();
        string? document;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            document = byId
                ? await db.QuerySingleOrDefaultAsync<string>(new CommandDefinition(GetByIdSql, new { Id = id }, cancellationToken: ct))
                : await db.QuerySingleOrDefaultAsync<string>(new CommandDefinition(GetBySlugSql, new { Slug = key }, cancellationToken: ct));
        }

        if (document is null)
        {
            return NotFound(idOrSlug);
        }

        var therapy = JsonSerializer.Deserialize<Therapy>(document, CatalogJson.Options)!;
        var etag = ETag(therapy);
        // Only a read from the primary may vouch for an ETag: a replica can still return a version
        // older than a change whose notification has already arrived.
        if (ReferenceEquals(dataSource, primary))
        {
            etags.Store(key, epoch, etag);
        }
        http.Response.Headers.ETag = etag;
        return EntityTags.IfNoneMatchHits(http.Request, etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(therapy);
    }

    /// <summary>The entity tag of a therapy version. It carries the id, so two therapies that took turns at one slug never share one.</summary>
    public static string ETag(Therapy therapy) => $"\"{therapy.Id:N}-{therapy.Version}\"";

    public static ProblemHttpResult NotFound(string idOrSlug) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, title: "Therapy not found", detail: $"No therapy has the id or slug '{idOrSlug}'.");

    /// <summary>Writes address a therapy by its uuid: a slug can pass to another therapy, an id never does.</summary>
    public static ProblemHttpResult WritesNeedTheId(string idOrSlug) => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Writes need the therapy's id",
        detail: $"'{idOrSlug}' is not a uuid. Read the therapy (GET /v1/therapies/{{idOrSlug}}) for its id, and write to /v1/therapies/{{id}}.");

    public static bool IsSlug(string value) => value.Length <= 100 && Slug.IsMatch(value);

    /// <summary>
    /// The slug a read means: slugs are stored lower-case, and a reader who types <c>KYMRIAH</c> means
    /// <c>kymriah</c>. Null when even lower-cased it is no slug. Writes take the uuid, never a slug.
    /// </summary>
    public static string? ReadSlug(string value) =>
        value.ToLowerInvariant() is var lower && IsSlug(lower) ? lower : null;

    public static ProblemHttpResult InvalidIdOrSlug() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid therapy id or slug",
        detail: "A therapy is addressed by its uuid or by its slug: lower-case words joined by hyphens, e.g. 'kymriah'.");

    private static readonly Regex Slug = TextPattern.Whole(TherapyVocabulary.SlugPattern);
}
