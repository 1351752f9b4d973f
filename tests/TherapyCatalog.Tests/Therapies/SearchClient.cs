using System.Net;
using System.Text.Json;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>Reads whole result sets of GET /v1/therapies by following nextCursor.</summary>
public static class SearchClient
{
    public static async Task<List<JsonElement>> AllItemsAsync(HttpClient client, string query, int limit = 100)
    {
        var items = new List<JsonElement>();
        var url = $"/v1/therapies?{query}&limit={limit}";
        for (var page = 0; page < 1000; page++)
        {
            var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            items.AddRange(body.GetProperty("items").EnumerateArray());
            if (body.GetProperty("nextCursor").ValueKind == JsonValueKind.Null)
            {
                return items;
            }

            url = $"/v1/therapies?{query}&limit={limit}&cursor={Uri.EscapeDataString(body.GetProperty("nextCursor").GetString()!)}";
        }

        throw new InvalidOperationException("paging did not end");
    }

    public static async Task<string[]> SlugsAsync(HttpClient client, string query) =>
        [.. (await AllItemsAsync(client, query)).Select(i => i.GetProperty("slug").GetString()!)];
}
