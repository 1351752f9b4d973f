using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Conditions;

/// <summary>
/// What a typed condition means is kept per epoch: a text searched again with other filters skips
/// the matcher, gets the same answer as without the kept matches, and a change to the conditions,
/// once announced, is matched afresh.
/// </summary>
public class ConditionMatchCacheTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private async Task<JsonArray> ItemsAsync(string query)
    {
        var response = await _client.GetAsync($"/v1/therapies?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["items"]!.AsArray();
    }

    /// <summary>
    /// Searches until a lookup is a hit (the change listener may still be starting). Each search is
    /// another page (an approvedTo far ahead, which every approved product passes), so no kept page
    /// answers it before the matches are looked up.
    /// </summary>
    private async Task<JsonArray> SearchUntilKeptAsync(string condition, string member = "condition")
    {
        var matches = api.Services.GetRequiredService<ConditionMatchCache>();
        for (var i = 0; i < 50; i++)
        {
            var hits = matches.Hits;
            var items = await ItemsAsync($"{member}={Uri.EscapeDataString(condition)}&approvedTo={FarAhead()}");
            if (matches.Hits > hits)
            {
                return items;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"'{condition}' was never matched from the kept matches");
        return [];
    }

    private static int _daysAhead;

    private static string FarAhead() =>
        new DateOnly(2200, 1, 1).AddDays(Interlocked.Increment(ref _daysAhead)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_text_searched_again_with_other_filters_uses_the_kept_matches_and_answers_the_same()
    {
        var kept = await SearchUntilKeptAsync("lymphona");
        var matches = api.Services.GetRequiredService<ConditionMatchCache>();

        var misses = matches.Misses;
        var hits = matches.Hits;
        var again = await ItemsAsync($"condition=lymphona&limit=100&approvedTo={FarAhead()}");

        Assert.Equal(misses, matches.Misses);
        Assert.Equal(hits + 1, matches.Hits);
        Assert.NotEmpty(kept);
        // The default page is the first 20 of the full answer, item for item, with the same matchedConditions.
        Assert.Equal(again.Take(kept.Count).Select(i => i!.ToJsonString()), kept.Select(i => i!.ToJsonString()));
    }

    [Fact]
    public async Task Free_text_answered_with_the_kept_matches_finds_the_same_close_names()
    {
        // Ebvallo's tabelecleucel is 0.41 similar to tisagenlecleucel (trigrams): a close name at
        // PostgreSQL's default threshold (0.3), not at the search's (0.45). The kept matches skip the
        // matcher's statement, which set that threshold for the page query too.
        var kept = await SearchUntilKeptAsync("tisagenlecleucel", member: "q");

        Assert.Equal(["kymriah"], kept.Select(i => i!["slug"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_condition_changed_in_the_database_is_matched_afresh_once_announced()
    {
        var word = $"matchtest{Guid.NewGuid():N}"[..20];
        Assert.Empty(await SearchUntilKeptAsync(word));

        var epoch = api.Epoch();
        await using (var db = await api.OpenDatabaseAsync())
        {
            await db.ExecuteAsync("UPDATE conditions SET synonyms = synonyms || @Word WHERE id = 'mantle-cell-lymphoma'", new { Word = word });
        }

        await api.HeardSinceAsync(epoch);

        Assert.NotEmpty(await ItemsAsync($"condition={word}&probe={Guid.NewGuid():N}"));
    }
}
