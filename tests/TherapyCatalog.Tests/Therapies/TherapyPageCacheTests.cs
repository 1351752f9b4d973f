using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// A first page read for one limit is kept per filter and sort: the same search with a smaller
/// limit is its first items with a cursor that continues where they end, and a larger limit than
/// it had is read afresh. (A change announced reads afresh: ConditionMatchCacheTests, whose
/// repeated searches are these pages too.)
/// </summary>
public class TherapyPageCacheTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private KeptReads<TherapyListApi.KeptPage> Kept => api.Services.GetRequiredService<KeptReads<TherapyListApi.KeptPage>>();

    // probe: a parameter the list ignores, so each request passes the response cache (its key is the URL).
    private async Task<JsonObject> PageAsync(string query)
    {
        var response = await _client.GetAsync($"/v1/therapies?{query}&probe={Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private static List<string> Items(JsonObject page) => [.. page["items"]!.AsArray().Select(i => i!.ToJsonString())];

    /// <summary>Asks <paramref name="query"/> until it is answered from a kept page (the change listener may still be starting).</summary>
    private async Task<JsonObject> AskUntilKeptAsync(string query)
    {
        for (var i = 0; i < 50; i++)
        {
            var hits = Kept.Hits;
            var page = await PageAsync(query);
            if (Kept.Hits > hits)
            {
                return page;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"'{query}' was never answered from a kept page");
        return [];
    }

    [Fact]
    public async Task A_smaller_limit_is_the_first_items_of_the_kept_page_and_its_cursor_goes_on_from_them()
    {
        var full = Items(await AskUntilKeptAsync("condition=lymphoma&limit=100"));

        var hits = Kept.Hits;
        var first = await PageAsync("condition=lymphoma&limit=2");
        Assert.Equal(hits + 1, Kept.Hits);
        var rest = await PageAsync($"condition=lymphoma&limit=100&cursor={Uri.EscapeDataString(first["nextCursor"]!.GetValue<string>())}");

        Assert.True(full.Count > 3, $"lymphoma should list several products, listed {full.Count}");
        Assert.Equal(full.Take(2), Items(first));
        Assert.Equal(full.Skip(2), Items(rest));
        Assert.Null(rest["nextCursor"]);
    }

    [Fact]
    public async Task A_larger_limit_than_the_kept_page_had_is_read_afresh()
    {
        var two = Items(await AskUntilKeptAsync("condition=blood%20cancer&limit=2"));

        var misses = Kept.Misses;
        var three = await PageAsync("condition=blood%20cancer&limit=3");

        Assert.Equal(misses + 1, Kept.Misses);
        Assert.Equal(3, Items(three).Count);
        Assert.Equal(two, Items(three).Take(2));
    }

    [Fact]
    public async Task Other_filters_or_another_sort_are_other_pages()
    {
        var byRelevance = Items(await AskUntilKeptAsync("condition=lymphoma&limit=100"));

        var misses = Kept.Misses;
        var byDate = Items(await PageAsync("condition=lymphoma&limit=100&sort=-approvedOn"));
        var gene = Items(await PageAsync("condition=lymphoma&limit=100&modality=gene"));

        Assert.Equal(misses + 2, Kept.Misses);
        Assert.Equal(byRelevance.Order(), byDate.Order());
        Assert.Subset(byRelevance.ToHashSet(), gene.ToHashSet());
        Assert.True(gene.Count < byRelevance.Count, "lymphoma's products are not all gene therapies");
    }
}
