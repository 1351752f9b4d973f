using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TherapyCatalog.Tests.Infrastructure;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

public class UpdateTherapyTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private async Task<(string Key, string Id, string ETag, JsonObject Body)> CreateAsync()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"], name: "curator-2");
        var body = NewCarT();
        var (id, etag) = await TherapyBodies.CreateAsync(_client, key, body);
        return (key, id, etag, body);
    }

    [Fact]
    public async Task Put_replaces_the_therapy_and_history_names_the_changed_members()
    {
        var (key, id, etag, body) = await CreateAsync();
        body["target"] = "CD22";
        body["manufacturer"] = "Other Therapeutics";

        var response = await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(body), ifMatch: etag));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var therapy = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, therapy.GetProperty("version").GetInt32());
        Assert.Equal("CD22", therapy.GetProperty("target").GetString());
        Assert.Equal($"\"{Guid.Parse(id):N}-2\"", response.Headers.ETag?.ToString());
        var history = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{id}/history")).RootElement.GetProperty("items");
        Assert.Equal(2, history.GetArrayLength());
        Assert.Equal(["manufacturer", "target"], history[1].GetProperty("changedMembers").EnumerateArray().Select(m => m.GetString()).Order());
    }

    [Fact]
    public async Task Put_with_stale_etag_returns_412_and_changes_nothing()
    {
        var (key, id, _, body) = await CreateAsync();
        body["target"] = "CD22";
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(body), ifMatch: $"\"{Guid.Parse(id):N}-7\""));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }

    [Fact]
    public async Task Put_of_an_unknown_therapy_returns_404()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);

        var response = await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{Guid.NewGuid()}", key, Body(NewCarT())));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Patch_changes_only_the_members_it_names()
    {
        var (key, id, etag, body) = await CreateAsync();
        var patch = new JsonObject { ["target"] = "BCMA", ["administration"] = new JsonObject { ["infusionMinutes"] = 45 } };

        var response = await _client.SendAsync(Request(HttpMethod.Patch, $"/v1/therapies/{id}", key, Body(patch, "application/merge-patch+json"), ifMatch: etag));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var therapy = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("BCMA", therapy.GetProperty("target").GetString());
        Assert.Equal(45, therapy.GetProperty("administration").GetProperty("infusionMinutes").GetInt32());
        Assert.True(therapy.GetProperty("administration").GetProperty("requiresLeukapheresis").GetBoolean());
        Assert.Equal(body["proprietaryName"]!.GetValue<string>(), therapy.GetProperty("proprietaryName").GetString());
        Assert.Equal(2, therapy.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Patch_that_breaks_a_domain_rule_returns_400_and_changes_nothing()
    {
        var (key, id, _, _) = await CreateAsync();
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Patch, $"/v1/therapies/{id}", key,
            Body(new JsonObject { ["delivery"] = "in-vivo" }, "application/merge-patch+json")));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("delivery", out _));
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }

    [Fact]
    public async Task Patch_sent_as_plain_json_returns_415()
    {
        var (key, id, _, _) = await CreateAsync();

        var response = await _client.SendAsync(Request(HttpMethod.Patch, $"/v1/therapies/{id}", key, Body(new JsonObject { ["target"] = "X" })));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Delete_hides_the_therapy_and_leaves_a_tombstone_in_the_history()
    {
        var (key, id, etag, _) = await CreateAsync();

        var response = await _client.SendAsync(Request(HttpMethod.Delete, $"/v1/therapies/{id}", key, ifMatch: etag));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await ProblemAssert.IsProblemAsync(await _client.GetAsync($"/v1/therapies/{id}"), HttpStatusCode.NotFound);
        var history = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{id}/history")).RootElement.GetProperty("items");
        Assert.Equal("delete", history[history.GetArrayLength() - 1].GetProperty("kind").GetString());
        await ProblemAssert.IsProblemAsync(await _client.SendAsync(Request(HttpMethod.Delete, $"/v1/therapies/{id}", key)), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_with_stale_etag_returns_412_and_changes_nothing()
    {
        var (key, id, _, _) = await CreateAsync();
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Delete, $"/v1/therapies/{id}", key, ifMatch: "\"0-0\""));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }

    [Fact]
    public async Task Get_with_the_current_etag_in_if_none_match_returns_304()
    {
        var (_, id, etag, _) = await CreateAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/therapies/{id}");
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag?.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Of_concurrent_writers_presenting_the_same_etag_exactly_one_wins()
    {
        var (key, id, etag, body) = await CreateAsync();
        const int writers = 8;

        var responses = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
        {
            var mine = body.DeepClone().AsObject();
            mine["target"] = $"CD{i}";
            return _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(mine), ifMatch: etag));
        }));

        Assert.True(responses.Count(r => r.StatusCode == HttpStatusCode.OK) == 1, string.Join(", ", responses.Select(r => r.StatusCode)));
        Assert.True(responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed) == writers - 1,
            string.Join(", ", responses.Select(r => r.StatusCode)) + string.Concat(responses.Select(r => r.Content.ReadAsStringAsync().Result)));
        var history = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{id}/history")).RootElement.GetProperty("items");
        Assert.Equal(2, history.GetArrayLength());
    }
}
