using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

public class SearchPagingTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Theory]
    [InlineData("sort=name")]
    [InlineData("sort=approvedOn")]
    [InlineData("sort=-approvedOn")]
    [InlineData("condition=cancer")]
    [InlineData("sort=relevance&status=any")]
    public async Task Paging_in_pages_of_3_while_rows_are_inserted_and_deleted_sees_every_lasting_row_exactly_once(string query)
    {
        var before = await SearchClient.SlugsAsync(_client, query);
        Assert.True(before.Length >= 10, $"the walk needs a catalog to walk: {before.Length} rows");

        using var walking = new CancellationTokenSource();
        var writes = 0;
        var random = new Random(query.GetHashCode(StringComparison.Ordinal));
        var writer = Task.Run(async () =>
        {
            // Inserts land before and after the walker's position (names and dates spread wide), and
            // deletes remove rows that came in during the walk; the rows that were there before stay.
            var inserted = new List<Guid>();
            for (var n = 0; !walking.IsCancellationRequested; n++)
            {
                var name = $"{(char)('A' + random.Next(26))}{(char)('a' + random.Next(26))} paging probe {n}";
                var approved = new DateOnly(2000, 1, 1).AddDays(random.Next(9000));
                inserted.Add(await TherapyRows.InsertAsync(api.ConnectionString,
                    TherapyRows.Input($"paging-probe-{Guid.NewGuid():N}", name, "melanoma", approved)));
                if (inserted.Count > 2 && random.Next(2) == 0)
                {
                    var victim = inserted[random.Next(inserted.Count)];
                    inserted.Remove(victim);
                    await TherapyRows.DeleteAsync(api.ConnectionString, victim);
                }

                Interlocked.Increment(ref writes);
            }
        });

        var seen = new List<string>();
        var url = $"/v1/therapies?{query}&limit=3";
        try
        {
            for (var page = 0; page < 500; page++)
            {
                var response = await _client.GetAsync(url);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                var items = body.GetProperty("items").EnumerateArray().ToList();
                Assert.True(items.Count <= 3);
                seen.AddRange(items.Select(i => i.GetProperty("slug").GetString()!));
                if (body.GetProperty("nextCursor").ValueKind == JsonValueKind.Null)
                {
                    Assert.False(response.Headers.Contains("Link"), "no Link rel=next on the last page");
                    break;
                }

                // Follow the Link header, as a client would; and let the writer change the catalog before the next page.
                var link = Assert.Single(response.Headers.GetValues("Link"));
                Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);
                url = link[1..link.IndexOf('>', StringComparison.Ordinal)];
                var target = Volatile.Read(ref writes) + 1;
                for (var wait = 0; wait < 200 && Volatile.Read(ref writes) < target; wait++)
                {
                    await Task.Delay(5);
                }
            }
        }
        finally
        {
            await walking.CancelAsync();
            await writer;
        }

        Assert.True(writes >= 5, $"the catalog changed during the walk ({writes} writes)");
        Assert.Equal(seen.Distinct().Count(), seen.Count); // nothing repeated
        Assert.Empty(before.Except(seen)); // nothing that was there throughout was skipped
    }

    [Fact]
    public async Task Pages_follow_each_other_in_sort_order_and_the_last_has_no_next_cursor()
    {
        var all = await SearchClient.SlugsAsync(_client, "sort=name&status=any");
        var paged = (await SearchClient.AllItemsAsync(_client, "sort=name&status=any", limit: 4)).Select(i => i.GetProperty("slug").GetString()).ToList();

        Assert.Equal(all, paged);
    }
}
