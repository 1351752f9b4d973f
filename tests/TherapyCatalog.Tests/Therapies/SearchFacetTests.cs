using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

public class SearchFacetTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // Each facet, and the list filter that selects one of its values.
    private static readonly Dictionary<string, Func<string, string>> FilterOf = new()
    {
        ["modality"] = v => $"modality={v}",
        ["cellSource"] = v => $"cellSource={v}",
        ["delivery"] = v => $"delivery={v}",
        ["mechanism"] = v => $"mechanism={v}",
        ["vector"] = v => $"vector={v}",
        ["route"] = v => $"route={v}",
        ["regulator"] = v => $"regulator={v}",
        ["approvalYear"] = v => $"approvedFrom={v}-01-01&approvedTo={v}-12-31",
    };

    [Theory]
    [InlineData("")]
    [InlineData("condition=lymphoma")]
    [InlineData("condition=cancer&regulator=EMA")]
    [InlineData("modality=cell&modality=gene")]
    [InlineData("q=cord%20blood")]
    [InlineData("status=any&approvedFrom=2015-01-01")]
    public async Task Facet_counts_equal_the_counts_of_the_corresponding_filtered_lists(string filters)
    {
        var total = await AssertCountsEqualListsAsync(_client, filters);
        Assert.True(total > 0, "the filter selects something, so the counts mean something");
    }

    /// <summary>
    /// Every count of <c>GET /v1/facets?{filters}</c> equals the length of the list with the same
    /// filters plus the value's filter, and the total the list's own length. Returns the total.
    /// </summary>
    public static async Task<int> AssertCountsEqualListsAsync(HttpClient client, string filters)
    {
        var response = await client.GetAsync($"/v1/facets?{filters}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var facets = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        var list = await SearchClient.SlugsAsync(client, filters);
        Assert.Equal(list.Length, facets.GetProperty("total").GetInt32());

        foreach (var (facet, filterOf) in FilterOf)
        {
            var counts = facets.GetProperty(facet).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            foreach (var (value, count) in counts)
            {
                // The list with the value's filter added. Where the filters already hold that facet
                // (a repeated filter would mean OR), the same set is the filtered list intersected with the value's list.
                var withValue = filters.Contains(filterOf(value).Split('=')[0] + "=", StringComparison.Ordinal)
                    ? list.Intersect(await SearchClient.SlugsAsync(client, $"status=any&{filterOf(value)}")).ToArray()
                    : await SearchClient.SlugsAsync(client, $"{filters}&{filterOf(value)}");
                Assert.True(withValue.Length == count, $"{facet}={value}: facet says {count}, the list has {withValue.Length}");
            }
        }

        return list.Length;
    }

    [Fact]
    public async Task Facets_count_each_therapy_once_per_value()
    {
        // Kymriah holds three FDA indications and two approvals; it still counts once for FDA.
        var facets = JsonDocument.Parse(await _client.GetStringAsync("/v1/facets?q=kymriah")).RootElement;

        Assert.Equal(1, facets.GetProperty("total").GetInt32());
        Assert.Equal(1, facets.GetProperty("regulator").GetProperty("FDA").GetInt32());
        Assert.Equal(1, facets.GetProperty("regulator").GetProperty("EMA").GetInt32());
        Assert.Equal(1, facets.GetProperty("modality").GetProperty("cell-based-gene").GetInt32());
        Assert.Equal(1, facets.GetProperty("approvalYear").GetProperty("2017").GetInt32());
    }

    [Fact]
    public async Task Facets_reject_invalid_filters_like_the_list()
    {
        var response = await _client.GetAsync("/v1/facets?vector=retro");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("gamma-retroviral", problem.GetProperty("errors").GetRawText(), StringComparison.Ordinal);
    }
}
