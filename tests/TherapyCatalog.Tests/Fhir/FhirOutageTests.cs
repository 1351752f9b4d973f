using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Fhir;

/// <summary>A FHIR client meets an outage as an OperationOutcome (503 with Retry-After), as the JSON API's clients meet a problem document.</summary>
public class FhirOutageTests(LinkedCatalogApiFactory api) : IClassFixture<LinkedCatalogApiFactory>
{
    [Fact]
    public async Task Without_the_database_a_read_is_a_503_operation_outcome_and_recovers()
    {
        var client = api.CreateClient();
        var path = $"{FhirKit.Base}/MedicationKnowledge?_count=1";
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);

        api.Link.Cut();
        HttpResponseMessage during;
        try
        {
            during = await client.GetAsync(path);
        }
        finally
        {
            api.Link.Restore();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.NotNull(during.Headers.RetryAfter);
        var outcome = JsonDocument.Parse(await during.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("OperationOutcome", outcome.GetProperty("resourceType").GetString());
        Assert.Equal("transient", outcome.GetProperty("issue")[0].GetProperty("code").GetString());
        Assert.Contains("cannot be reached", outcome.GetProperty("issue")[0].GetProperty("diagnostics").GetString(), StringComparison.Ordinal);

        var recovered = false;
        for (var attempt = 0; attempt < 20 && !recovered; attempt++)
        {
            recovered = (await client.GetAsync(path)).StatusCode == HttpStatusCode.OK;
            if (!recovered)
            {
                await Task.Delay(250);
            }
        }

        Assert.True(recovered, "FHIR reads work again once the database is back");
    }
}
