using System.Net;
using System.Text.Json;
using Dapper;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Fhir;

/// <summary>The Firely SDK's FhirClient against the server: capabilities, read, search by NDC and by condition, paging to the end.</summary>
public class FhirClientTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private const string Ndc = "http://hl7.org/fhir/sid/ndc";
    private readonly HttpClient _http = api.CreateClient();

    [Fact]
    public async System.Threading.Tasks.Task FhirClient_reads_the_capability_statement()
    {
        var client = FhirKit.Client(api);

        var statement = await client.CapabilityStatementAsync();

        Assert.Equal(FHIRVersion.N4_0_1, statement!.FhirVersion);
        var medication = Assert.Single(statement.Rest.Single().Resource, r => r.Type == "MedicationKnowledge");
        Assert.Equal(
            ["read", "search-type", "history-type"],
            medication.Interaction.Select(i => Hl7.Fhir.Utility.EnumUtility.GetLiteral(i.Code!.Value)));
        Assert.Contains(medication.SearchParam, p => p.Name == "code");
        Assert.Contains(medication.SearchParam, p => p.Name == "condition");
    }

    [Fact]
    public async System.Threading.Tasks.Task FhirClient_reads_Kymriah_with_its_NDCs_version_and_names()
    {
        var (id, ndcs) = FhirKit.Kymriah();
        var client = FhirKit.Client(api);

        var kymriah = await client.ReadAsync<MedicationKnowledge>($"MedicationKnowledge/{id}");

        Assert.Equal(id, kymriah!.Id);
        Assert.Equal("Kymriah", kymriah.Code!.Text);
        Assert.Equal(ndcs.Order(), kymriah.Code.Coding.Where(c => c.System == Ndc).Select(c => c.Code).Order());
        Assert.Contains("tisagenlecleucel", kymriah.Synonym);
        Assert.Equal(MedicationKnowledge.MedicationKnowledgeStatusCodes.Active, kymriah.Status);
        Assert.Contains(kymriah.AdministrationGuidelines, g => g.Indication is CodeableConcept c && c.Coding.Any(k => k.System == "http://hl7.org/fhir/sid/icd-10-cm"));
        Assert.Contains(kymriah.MedicineClassification, m => m.Classification.Any(c => c.Coding.Any(k => k.Code == "cell-based-gene")));
        Assert.Equal("47625008", kymriah.IntendedRoute.Single().Coding.Single().Code);

        await using var db = await api.OpenDatabaseAsync();
        var version = await db.ExecuteScalarAsync<int>("SELECT version FROM therapies WHERE id = @Id", new { Id = Guid.Parse(id) });
        Assert.Equal(version.ToString(), kymriah.Meta!.VersionId);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_read_has_a_weak_ETag_and_answers_304_to_it()
    {
        var (id, _) = FhirKit.Kymriah();
        var first = await _http.GetAsync($"{FhirKit.Base}/MedicationKnowledge/{id}");
        var etag = first.Headers.ETag!;
        Assert.True(etag.IsWeak);
        Assert.Equal($"\"{FhirKit.Parse<MedicationKnowledge>(await first.Content.ReadAsStringAsync()).Meta!.VersionId}\"", etag.Tag);

        using var again = new HttpRequestMessage(HttpMethod.Get, $"{FhirKit.Base}/MedicationKnowledge/{id}");
        again.Headers.IfNoneMatch.Add(etag);
        var second = await _http.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task Errors_are_OperationOutcomes_and_a_deleted_therapy_is_410()
    {
        await using (var db = await api.OpenDatabaseAsync())
        {
            await using var tx = await db.BeginTransactionAsync();
            var zolgensma = await Sync.CatalogWriter.ReadAsync(db, "zolgensma");
            await Sync.CatalogWriter.DeleteAsync(db, tx, zolgensma.Id);
            await tx.CommitAsync();
            var gone = await _http.GetAsync($"{FhirKit.Base}/MedicationKnowledge/{zolgensma.Id}");
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
            Assert.Equal(OperationOutcome.IssueType.Deleted, FhirKit.Parse<OperationOutcome>(await gone.Content.ReadAsStringAsync()).Issue.Single().Code);
        }

        var post = await _http.PostAsync($"{FhirKit.Base}/MedicationKnowledge", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.NotEmpty(FhirKit.Parse<OperationOutcome>(await post.Content.ReadAsStringAsync()).Issue);

        foreach (var (path, status) in new[]
                 {
                     ($"MedicationKnowledge/{Guid.NewGuid()}", HttpStatusCode.NotFound),
                     ("MedicationKnowledge/kymriah", HttpStatusCode.NotFound),
                     ("Patient/1", HttpStatusCode.NotFound),
                     ("CodeSystem/nothing", HttpStatusCode.NotFound),
                     ("MedicationKnowledge?_count=lots", HttpStatusCode.BadRequest),
                     ("MedicationKnowledge?status=retired", HttpStatusCode.BadRequest),
                     ("MedicationKnowledge?_cursor=forged", HttpStatusCode.BadRequest),
                     ("MedicationKnowledge/_history?_since=yesterday", HttpStatusCode.BadRequest),
                     ("metadata?_format=xml", HttpStatusCode.NotAcceptable),
                 })
        {
            var response = await _http.GetAsync($"{FhirKit.Base}/{path}");
            Assert.True(status == response.StatusCode, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotEmpty(FhirKit.Parse<OperationOutcome>(await response.Content.ReadAsStringAsync()).Issue);
        }
    }

    [Fact]
    public async System.Threading.Tasks.Task FhirClient_finds_Kymriah_by_its_NDC_in_either_form()
    {
        var (id, ndcs) = FhirKit.Kymriah();
        var client = FhirKit.Client(api);
        var ndc = ndcs[0];
        var parts = ndc.Split('-');
        var ndc11 = $"{parts[0].PadLeft(5, '0')}{parts[1].PadLeft(4, '0')}{parts[2].PadLeft(2, '0')}";

        foreach (var code in new[] { $"{Ndc}|{ndc}", ndc, $"{Ndc}|{ndc11}" })
        {
            var found = await client.SearchAsync<MedicationKnowledge>(new SearchParams().Add("code", code));
            Assert.Equal([id], found!.Entry.Select(e => e.Resource!.Id));
            Assert.Equal(1, found.Total);
        }

        var otherSystem = await client.SearchAsync<MedicationKnowledge>(new SearchParams().Add("code", $"http://www.nlm.nih.gov/research/umls/rxnorm|{ndc}"));
        Assert.Empty(otherSystem!.Entry);
    }

    [Fact]
    public async System.Threading.Tasks.Task FhirClient_finds_by_condition_what_the_JSON_API_finds()
    {
        var (id, _) = FhirKit.Kymriah();
        var client = FhirKit.Client(api);

        var found = await client.SearchAsync<MedicationKnowledge>(new SearchParams().Add("condition", "lymphoma").LimitTo(100));
        var json = JsonDocument.Parse(await _http.GetStringAsync("/v1/therapies?condition=lymphoma&status=any&limit=100"));
        var expected = json.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).Order().ToList();

        var ids = found!.Entry.Select(e => e.Resource!.Id).Order().ToList();
        Assert.Contains(id, ids);
        Assert.True(expected.Count > 1);
        Assert.Equal(expected, ids);
    }

    [Fact]
    public async System.Threading.Tasks.Task FhirClient_pages_through_every_MedicationKnowledge()
    {
        var client = FhirKit.Client(api);
        var seen = new List<string>();
        var pages = 0;
        var bundle = await client.SearchAsync<MedicationKnowledge>(new SearchParams().LimitTo(7));
        var total = bundle!.Total;
        while (bundle is not null)
        {
            pages++;
            seen.AddRange(bundle.Entry.Select(e => e.Resource!.Id!));
            bundle = await client.ContinueAsync(bundle);
        }

        await using var db = await api.OpenDatabaseAsync();
        var live = (await db.QueryAsync<Guid>("SELECT id FROM therapies WHERE deleted_at IS NULL")).Select(g => g.ToString()).Order().ToList();
        Assert.Equal(live.Count, seen.Distinct().Count());
        Assert.Equal(live, seen.Order());
        Assert.Equal(live.Count, total);
        Assert.Equal((live.Count + 6) / 7, pages);
    }

    [Fact]
    public async System.Threading.Tasks.Task Unknown_parameters_are_ignored_and_reported_or_refused_with_strict_handling()
    {
        var lenient = FhirKit.Parse<Bundle>(await _http.GetStringAsync($"{FhirKit.Base}/MedicationKnowledge?status=active&colour=blue"));
        var self = lenient.Link.Single(l => l.Relation == "self").Url;
        Assert.Contains("status=active", self);
        Assert.DoesNotContain("colour", self);
        Assert.Contains(lenient.Entry, e => e.Search!.Mode == Bundle.SearchEntryMode.Outcome && e.Resource is OperationOutcome);

        using var strict = new HttpRequestMessage(HttpMethod.Get, $"{FhirKit.Base}/MedicationKnowledge?status=active&colour=blue");
        strict.Headers.Add("Prefer", "handling=strict");
        var refused = await _http.SendAsync(strict);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("colour", FhirKit.Parse<OperationOutcome>(await refused.Content.ReadAsStringAsync()).Issue.Single().Diagnostics!);
    }

    [Fact]
    public async System.Threading.Tasks.Task Summary_count_gives_the_total_alone()
    {
        await using var db = await api.OpenDatabaseAsync();
        var active = await db.ExecuteScalarAsync<int>("SELECT count(*) FROM therapies WHERE deleted_at IS NULL AND status = 'active'");

        var bundle = FhirKit.Parse<Bundle>(await _http.GetStringAsync($"{FhirKit.Base}/MedicationKnowledge?status=active&_summary=count"));

        Assert.Equal(active, bundle.Total);
        Assert.Empty(bundle.Entry);
    }

    [Fact]
    public async System.Threading.Tasks.Task Classification_searches_the_project_code_systems()
    {
        // Another test of this class deletes a therapy: the oracle is the data files' products still live.
        await using var db = await api.OpenDatabaseAsync();
        var live = (await db.QueryAsync<string>("SELECT slug FROM therapies WHERE deleted_at IS NULL")).ToHashSet();
        var expected = CatalogFilesModality("gene").Where(live.Contains).ToList();
        Assert.True(expected.Count > 5);
        var bundle = FhirKit.Parse<Bundle>(await _http.GetStringAsync(
            $"{FhirKit.Base}/MedicationKnowledge?classification=https://therapy-catalog.org/fhir/CodeSystem/modality|gene&_count=100"));

        Assert.Equal(expected, bundle.Entry.Select(e => ((MedicationKnowledge)e.Resource!).Extension.Single(x => x.Url!.EndsWith("/therapy-slug")).Value!.ToString()!).Order());
    }

    [Fact]
    public async System.Threading.Tasks.Task Manufacturer_id_and_lastUpdated_filter_as_the_data_files_say()
    {
        async Task<List<string>> Slugs(string query) =>
            [.. FhirKit.Parse<Bundle>(await _http.GetStringAsync($"{FhirKit.Base}/MedicationKnowledge?{query}&_count=100")).Entry
                .Where(e => e.Resource is MedicationKnowledge)
                .Select(e => ((MedicationKnowledge)e.Resource!).Extension.Single(x => x.Url!.EndsWith("/therapy-slug")).Value!.ToString()!).Order()];

        // Another test of this class deletes a therapy: the oracle is the data files' products still live.
        await using var db = await api.OpenDatabaseAsync();
        var live = (await db.QueryAsync<string>("SELECT slug FROM therapies WHERE deleted_at IS NULL")).ToHashSet();
        var products = Therapies.CatalogFiles.Products.Where(p => live.Contains(p.Slug)).ToList();
        var novartis = products.Where(p => p.Manufacturer.Contains("novartis", StringComparison.OrdinalIgnoreCase)).Select(p => p.Slug).Order().ToList();
        Assert.True(novartis.Count > 1);
        Assert.Equal(novartis, await Slugs("manufacturer=NOVARTIS"));

        var (id, _) = FhirKit.Kymriah();
        Assert.Equal(["kymriah"], await Slugs($"_id={id},{Guid.NewGuid()}"));

        var all = products.Select(p => p.Slug).Order().ToList();
        Assert.Equal(all, await Slugs("_lastUpdated=ge2000-01-01"));
        Assert.Empty(await Slugs("_lastUpdated=lt2000-01-01"));
        Assert.Equal(all, await Slugs("_lastUpdated=le2100-01-01T00:00:00Z"));
    }

    private static IEnumerable<string> CatalogFilesModality(string modality) =>
        Therapies.CatalogFiles.Products.Where(p => p.Modality == modality).Select(p => p.Slug).Order();
}
