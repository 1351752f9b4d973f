using System.Net;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;
using TherapyCatalog.Client;
using TherapyCatalog.Client.Models;
using TherapyCatalog.Client.V1.Export;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// A formulary team's .NET integration: the Kiota client generated at build time from the committed
/// document (tests/TherapyCatalog.GeneratedClient, Kiota pinned in .config/dotnet-tools.json) drives
/// every user flow against the real API, with no hand-written request. Headers the document declares
/// as parameters (If-Match, If-None-Match, Idempotency-Key) go through Kiota's request configuration,
/// which is how Kiota exposes header parameters; response headers (ETag, X-Catalog-Cursor) through its
/// headers-inspection option.
/// </summary>
public class GeneratedCSharpClientTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private static readonly string[] SmaCondition = ["spinal-muscular-atrophy"];

    /// <summary>
    /// The generated client over the in-process server, with Kiota's own middleware (header inspection,
    /// retry, redirect ...) in front of it. https: Kiota's API-key provider sends keys over TLS only, and
    /// the in-process server does not mind the scheme.
    /// </summary>
    private CatalogClient Catalog(string? apiKey = null)
    {
        var http = api.CreateDefaultClient(new Uri("https://localhost/"), [.. KiotaClientFactory.CreateDefaultHandlers()]);
        IAuthenticationProvider authentication = apiKey is null
            ? new AnonymousAuthenticationProvider()
            : new ApiKeyAuthenticationProvider(apiKey, "X-Api-Key", ApiKeyAuthenticationProvider.KeyLocation.Header);
        return new CatalogClient(new HttpClientRequestAdapter(authentication, httpClient: http) { BaseUrl = "https://localhost" });
    }

    private static HeadersInspectionHandlerOption ResponseHeaders() => new() { InspectResponseHeaders = true };

    /// <summary>The call's answer; a problem answer fails the test with what the service said.</summary>
    private static async Task<T> Answer<T>(Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (Problem problem)
        {
            throw new Xunit.Sdk.XunitException($"The service answered {problem.ResponseStatusCode}: {await KiotaJsonSerializer.SerializeAsStringAsync(problem)}");
        }
    }

    private static string Header(HeadersInspectionHandlerOption inspected, string name) =>
        Assert.Single(Assert.Contains(name, inspected.ResponseHeaders));

    [Fact]
    public async Task Search_by_condition_pages_with_next_cursor_to_every_sma_therapy()
    {
        var catalog = Catalog();
        var slugs = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await catalog.V1.Therapies.GetAsync(request =>
            {
                request.QueryParameters.Condition = "SMA";
                request.QueryParameters.Limit = 1;
                request.QueryParameters.Cursor = cursor;
            });
            Assert.NotNull(page?.Items);
            pages++;
            // A list item is the generated Therapy model itself (the document's items are $ref Therapy), not a look-alike type.
            List<Therapy> items = page.Items;
            foreach (var item in items)
            {
                slugs.Add(item.Slug!);
                Assert.Contains(item.MatchedConditions ?? [], m => m.ConditionId == "spinal-muscular-atrophy");
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null && pages < 50);

        Assert.Null(cursor);
        Assert.Equal(CatalogFiles.IndicatedFor(SmaCondition), slugs.Order(StringComparer.Ordinal));
        Assert.True(pages >= 2, $"one therapy a page should take several pages, took {pages}");
        Assert.Equal(slugs.Count, pages);
    }

    [Fact]
    public async Task A_read_with_if_none_match_of_the_current_etag_is_not_modified()
    {
        var catalog = Catalog();
        var first = ResponseHeaders();
        var therapy = await catalog.V1.Therapies["zolgensma"].GetAsync(request => request.Options.Add(first));
        Assert.Equal("zolgensma", therapy?.Slug);
        Assert.Equal(Therapy_vector.Aav, therapy!.Vector);
        var etag = Header(first, "ETag");

        // What a Kiota caller sees for 304: no therapy (nothing new), the same ETag.
        var again = ResponseHeaders();
        var notModified = await catalog.V1.Therapies["zolgensma"].GetAsync(request =>
        {
            request.Headers.Add("If-None-Match", etag);
            request.Options.Add(again);
        });
        Assert.Null(notModified);
        Assert.Equal(etag, Header(again, "ETag"));

        // And the status itself, through Kiota's native response handler.
        var native = new NativeResponseHandler();
        await catalog.V1.Therapies["zolgensma"].GetAsync(request =>
        {
            request.Headers.Add("If-None-Match", etag);
            request.Options.Add(new ResponseHandlerOption { ResponseHandler = native });
        });
        Assert.Equal(HttpStatusCode.NotModified, Assert.IsType<HttpResponseMessage>(native.Value).StatusCode);

        // Another ETag is not a match: the therapy is answered again.
        var changed = await catalog.V1.Therapies["zolgensma"].GetAsync(request => request.Headers.Add("If-None-Match", "\"not-this-one\""));
        Assert.Equal(therapy.Id, changed?.Id);
    }

    [Fact]
    public async Task Export_then_create_patch_clear_refuse_a_stale_write_delete_and_follow_the_change_feed_to_the_end()
    {
        var reader = Catalog();
        var writer = Catalog(await TestApiKeys.CreateAsync(api, ["catalog:write"]));

        // Export: every therapy of the data files, one generated Therapy per NDJSON line.
        var exportHeaders = ResponseHeaders();
        var exported = new List<Therapy>();
        await using (var stream = await reader.V1.Export.GetAsync(request =>
        {
            request.QueryParameters.Format = GetFormatQueryParameterType.Ndjson;
            request.Options.Add(exportHeaders);
        }))
        {
            Assert.NotNull(stream);
            using var lines = new StreamReader(stream);
            while (await lines.ReadLineAsync() is { } line)
            {
                if (line.Length > 0)
                {
                    exported.Add(await KiotaJsonSerializer.DeserializeAsync(line, Therapy.CreateFromDiscriminatorValue) ?? throw new InvalidDataException(line));
                }
            }
        }

        Assert.Equal(CatalogFiles.Products.Select(p => p.Slug).Order(StringComparer.Ordinal), exported.Select(t => t.Slug!).Order(StringComparer.Ordinal));
        Assert.All(exported, t => Assert.True(t.Id is not null && t.Version >= 1));
        var exportCursor = Header(exportHeaders, "X-Catalog-Cursor");

        // Create with an Idempotency-Key; the retry with the same key and body gets the first answer again.
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var input = NewTherapy(suffix);
        var idempotencyKey = $"kiota-create-{suffix}";
        var createdHeaders = ResponseHeaders();
        var created = await Answer(writer.V1.Therapies.PostAsync(input, request =>
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            request.Options.Add(createdHeaders);
        }));
        Assert.NotNull(created?.Id);
        Assert.Equal(1, created.Version);
        var id = created.Id.Value.ToString();
        var createdTag = Header(createdHeaders, "ETag");

        // A new model of the same body: a serialized backing-store model sends only what changed since.
        var replayed = await Answer(writer.V1.Therapies.PostAsync(NewTherapy(suffix), request => request.Headers.Add("Idempotency-Key", idempotencyKey)));
        Assert.Equal(created.Id, replayed?.Id);
        Assert.Equal(1, replayed!.Version);

        // A partial merge patch with If-Match: one member changes, the rest stays.
        var patchedHeaders = ResponseHeaders();
        var patched = await writer.V1.Therapies[id].PatchAsync(new TherapyPatch { VectorDetail = "VSV-G pseudotyped lentivirus" }, request =>
        {
            request.Headers.Add("If-Match", createdTag);
            request.Options.Add(patchedHeaders);
        });
        Assert.Equal("VSV-G pseudotyped lentivirus", patched?.VectorDetail);
        Assert.Equal(2, patched!.Version);
        Assert.Equal("CD19", patched.Target);
        Assert.Equal(400000d, patched.ListPrice?.Amount);
        var patchedTag = Header(patchedHeaders, "ETag");

        // Clearing a member: null set on the generated model (its backing store sends it as null).
        var clearedHeaders = ResponseHeaders();
        var cleared = await writer.V1.Therapies[id].PatchAsync(new TherapyPatch { ListPrice = null }, request =>
        {
            request.Headers.Add("If-Match", patchedTag);
            request.Options.Add(clearedHeaders);
        });
        Assert.Null(cleared?.ListPrice);
        Assert.Equal(3, cleared!.Version);
        Assert.Equal("VSV-G pseudotyped lentivirus", cleared.VectorDetail);
        var currentTag = Header(clearedHeaders, "ETag");

        // A stale If-Match: 412, as the generated Problem, and nothing changes.
        var stale = await Assert.ThrowsAsync<Problem>(() => writer.V1.Therapies[id].PatchAsync(new TherapyPatch { Target = "BCMA" },
            request => request.Headers.Add("If-Match", createdTag)));
        Assert.Equal(412, stale.ResponseStatusCode);
        Assert.Equal(412, stale.Status);
        var unchanged = await reader.V1.Therapies[id].GetAsync();
        Assert.Equal(("CD19", 3), (unchanged?.Target, unchanged!.Version ?? 0));

        // Delete with If-Match; the therapy is then not found.
        await writer.V1.Therapies[id].DeleteAsync(request => request.Headers.Add("If-Match", currentTag));
        var gone = await Assert.ThrowsAsync<Problem>(() => reader.V1.Therapies[id].GetAsync());
        Assert.Equal(404, gone.Status);

        // The change feed from the export's cursor: exactly these writes, in order, the last a tombstone.
        // The feed hands out a change once no older transaction can still commit; other test classes'
        // transactions on the shared cluster can hold that back, so each page long-polls (wait) for it.
        (ChangeItem_kind?, int?)[] written = [(ChangeItem_kind.Upsert, 1), (ChangeItem_kind.Upsert, 2), (ChangeItem_kind.Upsert, 3), (ChangeItem_kind.Delete, 4)];
        var changes = new List<ChangeItem>();
        var cursor = exportCursor;
        for (var pages = 0; changes.Count < written.Length; pages++)
        {
            Assert.True(pages < 100, "the change feed should hand out the four writes");
            var page = await reader.V1.Changes.GetAsync(request =>
            {
                request.QueryParameters.After = cursor;
                request.QueryParameters.Limit = 2;
                request.QueryParameters.Wait = 30;
            });
            Assert.NotNull(page?.Changes);
            Assert.NotNull(page.NextCursor);
            Assert.NotEmpty(page.Changes);
            changes.AddRange(page.Changes);
            cursor = page.NextCursor;
        }

        Assert.Equal(written, changes.Select(c => (c.Kind, c.Version)));
        Assert.All(changes, c => Assert.Equal(created.Id, c.TherapyId));
        Assert.Equal("VSV-G pseudotyped lentivirus", changes[1].Therapy?.VectorDetail);
        Assert.Null(changes[2].Therapy?.ListPrice);
        Assert.Null(changes[3].Therapy);
    }

    private static TherapyInput NewTherapy(string suffix) => new()
    {
        Slug = $"kiota-client-{suffix}",
        ProprietaryName = $"Kiotacel {suffix}",
        ProperName = "kiotacabtagene autoleucel",
        Manufacturer = "Generated Client Therapeutics",
        Modality = TherapyInput_modality.CellBasedGene,
        CellSource = TherapyInput_cellSource.Autologous,
        Delivery = TherapyInput_delivery.ExVivo,
        Mechanism = TherapyInput_mechanism.Introduce,
        Vector = TherapyInput_vector.Lentiviral,
        Target = "CD19",
        Route = TherapyInput_route.Intravenous,
        Administration = new Administration
        {
            Summary = "single intravenous infusion", InfusionMinutes = 30,
            RequiresLeukapheresis = true, RequiresLymphodepletion = true, Rems = false,
        },
        Indications =
        [
            new IndicationInput
            {
                ConditionId = "large-b-cell-lymphoma", Population = "adults with relapsed or refractory LBCL",
                Regulator = IndicationInput_regulator.FDA, ApprovedOn = new Date(2024, 1, 15),
            },
        ],
        Approvals = [new Approval { Regulator = Approval_regulator.FDA, ApprovedOn = new Date(2024, 1, 15), Status = Approval_status.Approved }],
        ListPrice = new ListPrice { Amount = 400000, Currency = "USD", Year = 2024, Source = "https://example.org/price" },
        Ndcs = [],
        Status = TherapyInput_status.Active,
        Sources = ["https://example.org/label"],
    };
}
