using System.Net;
using Dapper;
using Hl7.Fhir.Model;
using TherapyCatalog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Fhir;

/// <summary>
/// Every resource the FHIR endpoint serves, for the whole catalog, parses strictly with the Firely
/// SDK and validates against the R4 base profiles (Firely.Fhir.Validation) with no error.
/// </summary>
public class FhirValidationTests(CatalogApiFactory api, ITestOutputHelper output) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private async Task<T> GetAsync<T>(string path) where T : Resource
    {
        var response = await _client.GetAsync(FhirKit.Base + path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        return FhirKit.Parse<T>(body);
    }

    [Fact]
    public async System.Threading.Tasks.Task Every_served_resource_parses_strictly_and_validates_against_R4_with_no_error()
    {
        List<Guid> ids;
        await using (var db = await api.OpenDatabaseAsync())
        {
            ids = [.. await db.QueryAsync<Guid>("SELECT id FROM therapies WHERE deleted_at IS NULL ORDER BY id")];
        }

        var resources = new List<(string What, Resource Resource)>
        {
            ("metadata", await GetAsync<CapabilityStatement>("/metadata")),
        };
        foreach (var id in new[] { "modality", "cell-source", "delivery", "mechanism", "vector", "classification-type" })
        {
            resources.Add(($"CodeSystem/{id}", await GetAsync<CodeSystem>($"/CodeSystem/{id}")));
        }

        foreach (var id in ids)
        {
            resources.Add(($"MedicationKnowledge/{id}", await GetAsync<MedicationKnowledge>($"/MedicationKnowledge/{id}")));
        }

        resources.Add(("search page", await GetAsync<Bundle>("/MedicationKnowledge?_count=100&status=active,inactive")));
        resources.Add(("search with an ignored parameter", await GetAsync<Bundle>("/MedicationKnowledge?condition=lymphoma&unknown=1")));
        resources.Add(("search count", await GetAsync<Bundle>("/MedicationKnowledge?_summary=count")));
        resources.Add(("history page", await GetAsync<Bundle>("/MedicationKnowledge/_history?_count=50")));

        var errors = resources.SelectMany(r => FhirKit.Errors(r.Resource).Select(e => $"{r.What}: {e}")).ToList();
        var medicationKnowledge = resources.Count(r => r.Resource is MedicationKnowledge);
        output.WriteLine($"{resources.Count} resources validated ({medicationKnowledge} MedicationKnowledge, one per live therapy); {errors.Count} errors");
        Assert.Equal(ids.Count, medicationKnowledge);
        Assert.True(ids.Count >= 80, $"only {ids.Count} therapies");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async System.Threading.Tasks.Task The_validator_finds_the_errors_of_a_broken_resource()
    {
        // The check above can fail: the same validator reports a served resource once it is broken.
        var (id, _) = FhirKit.Kymriah();
        var resource = await GetAsync<MedicationKnowledge>($"/MedicationKnowledge/{id}");
        Assert.Empty(FhirKit.Errors(resource));

        resource.Cost.Add(new MedicationKnowledge.CostComponent()); // cost.type and cost.cost are 1..1

        resource.MedicineClassification.Add(new MedicationKnowledge.MedicineClassificationComponent()); // type is 1..1

        Assert.True(FhirKit.Errors(resource).Count >= 2, string.Join("\n", FhirKit.Errors(resource)));
    }
}
