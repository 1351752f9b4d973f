using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Sync;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// Public reads may be answered from the response cache (an answer from it carries <c>Age</c>);
/// an answer from there must never be older than the last change this process was told of.
/// </summary>
public class ResponseCacheTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    /// <summary>Reads <paramref name="path"/> until an answer comes from the cache (the listener may still be starting); returns that answer's body.</summary>
    private async Task<string> ReadFromCacheAsync(string path)
    {
        for (var i = 0; i < 50; i++)
        {
            var response = await _client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (response.Headers.Age is not null)
            {
                return await response.Content.ReadAsStringAsync();
            }

            await Task.Delay(20);
        }

        Assert.Fail($"{path} was never answered from the response cache");
        return "";
    }

    private static List<string> Names(string page) =>
        [.. JsonNode.Parse(page)!["items"]!.AsArray().Select(item => item!["proprietaryName"]!.GetValue<string>())];

    private async Task<(string Key, string Id, string ETag, JsonObject Body)> CreateAsync()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"], name: "response-cache");
        var body = NewCarT(CatalogWriter.NewSlug("cached"));
        var (id, etag) = await TherapyBodies.CreateAsync(_client, key, body);
        return (key, id, etag, body);
    }

    [Fact]
    public async Task An_answer_is_stored_the_second_time_it_is_asked_for()
    {
        await ReadFromCacheAsync("/v1/therapies?condition=lymphoma"); // the listener has started
        var path = $"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}";

        var first = await _client.GetAsync(path);
        var second = await _client.GetAsync(path);
        var third = await _client.GetAsync(path);

        Assert.Null(first.Headers.Age);
        Assert.Null(second.Headers.Age);
        Assert.NotNull(third.Headers.Age);
        Assert.Equal(await second.Content.ReadAsStringAsync(), await third.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_cached_list_shows_this_processs_write_in_the_very_next_read()
    {
        var (key, id, etag, body) = await CreateAsync();
        const string path = "/v1/therapies?condition=large%20b-cell%20lymphoma&limit=100";
        Assert.Contains(body["proprietaryName"]!.GetValue<string>(), Names(await ReadFromCacheAsync(path)));

        body["proprietaryName"] = $"Renamed {Guid.NewGuid():N}"[..20];
        var put = await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(body), ifMatch: etag));
        var after = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Contains(body["proprietaryName"]!.GetValue<string>(), Names(await after.Content.ReadAsStringAsync()));
        Assert.Null(after.Headers.Age);
    }

    [Fact]
    public async Task A_cached_therapy_shows_another_processs_commit_once_it_is_announced()
    {
        var (_, id, _, _) = await CreateAsync();
        await ReadFromCacheAsync($"/v1/therapies/{id}");

        // Another process writes: this one only learns of it through the change notification.
        var epoch = api.Epoch();
        await using (var db = await api.OpenDatabaseAsync())
        await using (var tx = await db.BeginTransactionAsync())
        {
            await CatalogWriter.UpdateAsync(db, tx, Guid.Parse(id), input => input with { Target = "CD22" });
            await tx.CommitAsync();
        }

        await api.HeardSinceAsync(epoch);
        var target = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!["target"]!.GetValue<string>();

        Assert.Equal("CD22", target);
    }

    [Fact]
    public async Task A_condition_changed_in_the_database_changes_cached_searches_once_announced()
    {
        var word = $"cachetest{Guid.NewGuid():N}"[..20];
        var path = $"/v1/therapies?condition={word}";
        Assert.Empty(JsonNode.Parse(await ReadFromCacheAsync(path))!["items"]!.AsArray());

        // A data file (another process's migration) gives mantle cell lymphoma a new synonym.
        var epoch = api.Epoch();
        await using (var db = await api.OpenDatabaseAsync())
        {
            await db.ExecuteAsync("UPDATE conditions SET synonyms = synonyms || @Word WHERE id = 'mantle-cell-lymphoma'", new { Word = word });
        }

        await api.HeardSinceAsync(epoch);
        var count = JsonNode.Parse(await _client.GetStringAsync(path))!["items"]!.AsArray().Count;

        Assert.NotEqual(0, count);
    }

    [Fact]
    public async Task A_cached_answer_still_counts_against_the_rate_limit()
    {
        await ReadFromCacheAsync("/v1/facets");

        var first = await _client.GetAsync("/v1/facets");
        var second = await _client.GetAsync("/v1/facets");

        Assert.NotNull(second.Headers.Age);
        Assert.True(Remaining(second) < Remaining(first), $"{Remaining(second)} !< {Remaining(first)}");

        static int Remaining(HttpResponseMessage response) =>
            int.Parse(Assert.Single(response.Headers.GetValues("RateLimit")).Split(";r=")[1].Split(';')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Paths_and_cursors_are_keys_as_written_so_a_cached_answer_never_serves_another_spelling()
    {
        await ReadFromCacheAsync("/v1/therapies/kymriah");

        // Another spelling of the slug reads the same therapy, under its own key: the first answer is fresh, not the cached one.
        var otherSpelling = await _client.GetAsync("/v1/therapies/Kymriah");
        Assert.Equal(HttpStatusCode.OK, otherSpelling.StatusCode);
        Assert.Null(otherSpelling.Headers.Age);
        Assert.Equal("kymriah", JsonNode.Parse(await otherSpelling.Content.ReadAsStringAsync())!["slug"]!.GetValue<string>());

        var page = JsonNode.Parse(await ReadFromCacheAsync("/v1/therapies?limit=2"))!;
        var cursor = page["nextCursor"]!.GetValue<string>();
        var flipped = string.Concat(cursor.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));
        await ReadFromCacheAsync($"/v1/therapies?limit=2&cursor={Uri.EscapeDataString(cursor)}");
        await ProblemAssert.IsProblemAsync(
            await _client.GetAsync($"/v1/therapies?limit=2&cursor={Uri.EscapeDataString(flipped)}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_caller_with_an_api_key_always_reads_the_database()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"], name: "cache-bypass");
        await ReadFromCacheAsync("/v1/conditions");

        for (var i = 0; i < 3; i++)
        {
            var response = await _client.SendAsync(Request(HttpMethod.Get, "/v1/conditions", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Null(response.Headers.Age);
        }
    }
}
