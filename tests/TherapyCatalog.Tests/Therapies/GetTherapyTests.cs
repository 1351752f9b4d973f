using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

public class GetTherapyTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // The members of a therapy, as API.md lists them.
    private static readonly string[] TherapyMembers =
    [
        "id", "slug", "proprietaryName", "properName", "manufacturer", "modality", "cellSource", "delivery", "mechanism",
        "vector", "vectorDetail", "target", "route", "administration", "otherNames", "indications", "approvals", "listPrice",
        "packages", "ndcs",
        "status", "sources", "version", "createdAt", "updatedAt",
    ];

    [Fact]
    public async Task Get_by_slug_returns_every_member_of_the_contract()
    {
        var response = await _client.GetAsync("/v1/therapies/kymriah");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var therapy = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(TherapyMembers.Order(), therapy.EnumerateObject().Select(m => m.Name).Order());
        Assert.Equal(
            ["infusionMinutes", "rems", "requiresLeukapheresis", "requiresLymphodepletion", "summary"],
            therapy.GetProperty("administration").EnumerateObject().Select(m => m.Name).Order());
        var indication = therapy.GetProperty("indications")[0];
        Assert.Equal(
            ["approvedOn", "condition", "conditionId", "icd10", "population", "regulator", "source", "sourceKind"],
            indication.EnumerateObject().Select(m => m.Name).Order());
        Assert.Equal(
            ["applicationNumber", "approvedOn", "regulator", "source", "sourceKind", "status"],
            therapy.GetProperty("approvals")[0].EnumerateObject().Select(m => m.Name).Order());
        Assert.Equal("kymriah", therapy.GetProperty("slug").GetString());
        Assert.Equal("tisagenlecleucel", therapy.GetProperty("properName").GetString());
        Assert.True(Guid.TryParse(therapy.GetProperty("id").GetString(), out _));
        Assert.EndsWith("Z", therapy.GetProperty("createdAt").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_by_id_returns_the_same_therapy_as_by_slug()
    {
        var bySlug = await _client.GetStringAsync("/v1/therapies/zolgensma");
        var id = JsonDocument.Parse(bySlug).RootElement.GetProperty("id").GetString();

        var byId = await _client.GetStringAsync($"/v1/therapies/{id}");

        Assert.Equal(bySlug, byId);
    }

    [Fact]
    public async Task Get_sends_an_etag_that_names_the_version()
    {
        var response = await _client.GetAsync("/v1/therapies/kymriah");

        var therapy = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var etag = Assert.Single(response.Headers.GetValues("ETag"));
        Assert.Matches("^\"[0-9a-f]{32}-[0-9]+\"$", etag);
        Assert.EndsWith($"-{therapy.GetProperty("version").GetInt32()}\"", etag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_unknown_slug_returns_404_problem()
    {
        var response = await _client.GetAsync("/v1/therapies/nope");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("nope", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_unknown_uuid_returns_404_problem()
    {
        var response = await _client.GetAsync($"/v1/therapies/{Guid.NewGuid()}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("KYMRIAH")]
    [InlineData("Kymriah")]
    public async Task Slugs_are_case_insensitive_on_reads(string slug)
    {
        var therapy = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{slug}")).RootElement;
        var history = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{slug}/history")).RootElement;

        Assert.Equal("kymriah", therapy.GetProperty("slug").GetString());
        Assert.Equal("kymriah", history.GetProperty("items")[0].GetProperty("therapy").GetProperty("slug").GetString());
    }

    [Theory]
    [InlineData("kym--riah")]
    [InlineData("Kym_riah")]
    [InlineData("%27%3B%20DROP%20TABLE%20therapies%3B--")]
    public async Task Get_with_neither_uuid_nor_slug_returns_400_problem(string idOrSlug)
    {
        var response = await _client.GetAsync($"/v1/therapies/{idOrSlug}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }
}
