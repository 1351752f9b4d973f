using System.Net;
using System.Text.Json;

namespace TherapyCatalog.Tests.Sync;

/// <summary>One change as a client receives it; <see cref="Therapy"/> is the document's raw JSON text (null for a delete).</summary>
internal sealed record FeedChange(string Cursor, string Kind, Guid TherapyId, int Version, DateTimeOffset ChangedAt, string? Therapy);

internal sealed record FeedPage(IReadOnlyList<FeedChange> Changes, string NextCursor);

/// <summary>Reads the change feed over HTTP, as a pharmacy system would.</summary>
internal static class FeedReader
{
    public static async Task<FeedPage> PageAsync(HttpClient client, string? after, int limit = 1000, int wait = 0, CancellationToken ct = default)
    {
        var url = $"/v1/changes?limit={limit}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}") + (wait > 0 ? $"&wait={wait}" : "");
        var response = await client.GetAsync(url, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        return Parse(body);
    }

    public static FeedPage Parse(string body)
    {
        var root = JsonDocument.Parse(body).RootElement;
        var changes = root.GetProperty("changes").EnumerateArray().Select(c => new FeedChange(
            c.GetProperty("cursor").GetString()!,
            c.GetProperty("kind").GetString()!,
            c.GetProperty("therapyId").GetGuid(),
            c.GetProperty("version").GetInt32(),
            c.GetProperty("changedAt").GetDateTimeOffset(),
            c.GetProperty("therapy").ValueKind == JsonValueKind.Null ? null : c.GetProperty("therapy").GetRawText())).ToList();
        return new FeedPage(changes, root.GetProperty("nextCursor").GetString()!);
    }

    /// <summary>
    /// Reads on (long-polling) until the changes read satisfy <paramref name="done"/>. A change is
    /// handed out only once every older transaction has ended, and the watermark is server-wide:
    /// another test class's open transaction may hold it back for a moment.
    /// </summary>
    public static async Task<FeedPage> UntilAsync(HttpClient client, string? after, Func<IReadOnlyList<FeedChange>, bool> done, int seconds = 20)
    {
        var all = new List<FeedChange>();
        var cursor = after;
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done(all))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the feed did not hand out the expected changes within {seconds} s; read {all.Count}");
            var page = await PageAsync(client, cursor, wait: 2);
            all.AddRange(page.Changes);
            cursor = page.NextCursor;
        }

        return new FeedPage(all, cursor!);
    }

    /// <summary>Every change after <paramref name="after"/> the feed hands out now, page by page.</summary>
    public static async Task<FeedPage> DrainAsync(HttpClient client, string? after, int limit = 1000)
    {
        var all = new List<FeedChange>();
        var cursor = after;
        while (true)
        {
            var page = await PageAsync(client, cursor, limit);
            all.AddRange(page.Changes);
            if (page.Changes.Count == 0)
            {
                return new FeedPage(all, page.NextCursor);
            }

            cursor = page.NextCursor;
        }
    }
}
