using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Conditions;

/// <summary>
/// A condition answer read for one limit is kept per typed text: the same text asked with a
/// smaller limit is the first items of it, a larger limit than it had reads afresh, and a change to
/// the conditions, once announced, is read afresh.
/// </summary>
public class ConditionListCacheTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private KeptReads<KeptConditions> Kept => api.Services.GetRequiredService<KeptReads<KeptConditions>>();

    private async Task<List<string>> ItemsAsync(string q, int limit)
    {
        var response = await _client.GetAsync($"/v1/conditions?q={Uri.EscapeDataString(q)}&limit={limit}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(response.Headers.GetValues("X-Catalog-Cursor"));
        return [.. JsonNode.Parse(await response.Content.ReadAsStringAsync())!["items"]!.AsArray().Select(i => i!.ToJsonString())];
    }

    /// <summary>
    /// Asks <paramref name="q"/> with limits from <paramref name="limit"/> down (each limit a new
    /// URL, past the response cache) until one is answered from a kept answer (the change listener
    /// may still be starting): that limit, and what it answered.
    /// </summary>
    private async Task<(int Limit, List<string> Items)> AskUntilKeptAsync(string q, int limit)
    {
        await ItemsAsync(q, limit);
        for (var smaller = limit - 1; smaller > 0; smaller--)
        {
            var hits = Kept.Hits;
            var items = await ItemsAsync(q, smaller);
            if (Kept.Hits > hits)
            {
                return (smaller, items);
            }

            await Task.Delay(20);
        }

        Assert.Fail($"'{q}' was never answered from a kept answer");
        return default;
    }

    [Fact]
    public async Task A_smaller_limit_is_answered_from_the_kept_answer_with_its_first_items()
    {
        var (limit, kept) = await AskUntilKeptAsync("lymph", 100);

        var read = await ItemsAsync("lymph", 100);

        Assert.True(kept.Count > 2, $"'lymph' should find several conditions, found {kept.Count}");
        Assert.Equal(read.Take(limit), kept);
    }

    [Fact]
    public async Task A_larger_limit_than_the_kept_answer_had_is_read_afresh()
    {
        // Read with limit 3 (all three kept: "cell" names more conditions), answered from it below that.
        var (limit, kept) = await AskUntilKeptAsync("cell", 3);
        Assert.Equal(limit, kept.Count);

        var misses = Kept.Misses;
        var larger = await ItemsAsync("cell", 4);

        Assert.Equal(misses + 1, Kept.Misses);
        Assert.Equal(4, larger.Count);
        Assert.Equal(kept, larger.Take(limit));
    }

    [Fact]
    public async Task A_condition_changed_in_the_database_is_read_afresh_once_announced()
    {
        var word = $"listtest{Guid.NewGuid():N}"[..20];
        Assert.Empty((await AskUntilKeptAsync(word, 10)).Items);

        var epoch = api.Epoch();
        await using (var db = await api.OpenDatabaseAsync())
        {
            await db.ExecuteAsync("UPDATE conditions SET synonyms = synonyms || @Word WHERE id = 'melanoma'", new { Word = word });
        }

        await api.HeardSinceAsync(epoch);

        var items = await ItemsAsync(word, 7);
        Assert.Single(items);
        Assert.Equal("melanoma", JsonNode.Parse(items[0])!["id"]!.GetValue<string>());
    }
}
