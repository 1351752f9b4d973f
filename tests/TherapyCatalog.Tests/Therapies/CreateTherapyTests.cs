using System.Net;
using System.Text.Json;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

public class CreateTherapyTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task Post_creates_a_therapy_with_location_etag_version_1_and_history()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"], name: "curator-1");
        var body = NewCarT();

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, Body(body)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = created.GetProperty("id").GetString();
        Assert.Equal($"/v1/therapies/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal($"\"{Guid.Parse(id!):N}-1\"", response.Headers.ETag?.ToString());
        Assert.Equal(1, created.GetProperty("version").GetInt32());
        Assert.Equal(body["slug"]!.GetValue<string>(), created.GetProperty("slug").GetString());
        // The condition's name and code come from the condition record, not the body.
        Assert.Equal("C83.3", created.GetProperty("indications")[0].GetProperty("icd10").GetString());

        var read = await _client.GetAsync($"/v1/therapies/{body["slug"]}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(await response.Content.ReadAsStringAsync(), await read.Content.ReadAsStringAsync());

        var history = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{id}/history")).RootElement.GetProperty("items");
        var only = Assert.Single(history.EnumerateArray());
        Assert.Equal("create", only.GetProperty("kind").GetString());
        Assert.Equal("curator-1", only.GetProperty("changedBy").GetString());
        await using var db = await api.OpenDatabaseAsync();
        Assert.Equal(1, await db.QuerySingleAsync<int>("SELECT count(*)::int FROM changes WHERE therapy_id = @Id", new { Id = Guid.Parse(id!) }));
    }

    [Fact]
    public async Task Post_with_a_taken_slug_returns_409_and_changes_nothing()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, Body(NewCarT(slug: "kymriah"))));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }
}
