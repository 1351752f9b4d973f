using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Api.Therapies;
using TherapyCatalog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Sync;

/// <summary>
/// The reference sync client of docs/sync.md: it starts from an export and follows the feed,
/// applying a change only when its version is newer than the one it holds (tombstones included),
/// while several writers create, update and delete therapies concurrently, some transactions held
/// open across later commits, some writing several therapies, some rolled back.
/// </summary>
public class SyncReferenceClientTests(CatalogApiFactory api, ITestOutputHelper output) : IClassFixture<CatalogApiFactory>
{
    private const int Writers = 4;
    private const int TargetChanges = 2400;
    private const int ExportAfterChanges = 300;

    private readonly HttpClient _client = api.CreateClient();

    private const string ServerStateSql = """
        SELECT t.id AS Id, t.version AS Version, v.document::text AS Document
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.deleted_at IS NULL
        """;

    /// <summary>Changes a newer version of the same therapy overtook along the feed (for the log: how much reordering the run had).</summary>
    private const string OvertakenSql = """
        SELECT count(*) FROM changes c
        WHERE EXISTS (SELECT 1 FROM changes n WHERE n.therapy_id = c.therapy_id AND n.version > c.version AND (n.txid, n.seq) < (c.txid, c.seq))
        """;

    private const string LastChangeSql = "SELECT txid::text AS Txid, seq AS Seq FROM changes ORDER BY txid DESC, seq DESC LIMIT 1";

    [Fact]
    public async Task A_mirror_made_from_export_and_feed_equals_the_server_after_concurrent_writers()
    {
        var clock = Stopwatch.StartNew();
        var seeded = await SeededAsync();
        var run = new ConcurrentWriters(api.ConnectionString, seeded, seeded.Select(t => t.Id), TargetChanges, "sync");
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => run.WriteAsync(seed: 1000 + w))).ToArray();

        // Start from an export taken while the writers are busy.
        while (run.Committed < ExportAfterChanges && !writers.Any(w => w.IsFaulted))
        {
            await Task.Delay(20);
        }

        var mirror = new Dictionary<Guid, (int Version, string? Document)>();
        var export = await _client.GetAsync("/v1/export?format=ndjson");
        var cursor = Assert.Single(export.Headers.GetValues(CatalogSnapshot.HeaderName));
        foreach (var line in (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var document = JsonDocument.Parse(line).RootElement;
            mirror[document.GetProperty("id").GetGuid()] = (document.GetProperty("version").GetInt32(), line);
        }

        var exported = mirror.Count;

        // Follow the feed until the writers are done and every change they made has been read.
        var applied = 0;
        var read = 0;
        var positions = api.Services.GetRequiredService<OpaqueCursor>();
        ChangeFeedPosition? last = null;
        while (true)
        {
            var page = await FeedReader.PageAsync(_client, cursor, limit: 500, wait: 1);
            foreach (var change in page.Changes)
            {
                read++;
                if (!mirror.TryGetValue(change.TherapyId, out var held) || change.Version > held.Version)
                {
                    mirror[change.TherapyId] = (change.Version, change.Kind == "delete" ? null : change.Therapy);
                    applied++;
                }
            }

            cursor = page.NextCursor;
            if (last is null && writers.All(w => w.IsCompleted))
            {
                await Task.WhenAll(writers); // surfaces a writer's failure
                await using var db = await api.OpenDatabaseAsync();
                var row = await db.QuerySingleAsync<(string Txid, long Seq)>(LastChangeSql);
                last = new ChangeFeedPosition(ulong.Parse(row.Txid), row.Seq);
            }

            if (last is { } end && page.Changes.Count == 0 && ChangeFeedPosition.Decode(positions, cursor) is { } at
                && (at.TransactionId, at.Sequence).CompareTo((end.TransactionId, end.Sequence)) >= 0)
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), "the client did not catch up within 120 s");
        }

        long overtaken;
        await using (var db = await api.OpenDatabaseAsync())
        {
            overtaken = await db.ExecuteScalarAsync<long>(OvertakenSql);
        }

        output.WriteLine($"{overtaken} changes overtaken by a newer version at an earlier feed position");
        output.WriteLine($"{run.Committed} changes committed in {run.Transactions} transactions ({run.MultiTherapy} multi-therapy, " +
                         $"{run.Held} held open, {run.RolledBack} rolled back, {run.Conflicts} conflicts retried); exported {exported}, " +
                         $"feed read {read}, applied {applied}; {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(run.Committed >= TargetChanges, $"only {run.Committed} changes");
        Assert.True(run.Held > 0 && run.RolledBack > 0 && run.MultiTherapy > 0, "the run had held, rolled-back and multi-therapy transactions");

        await using (var db = await api.OpenDatabaseAsync())
        {
            var server = (await db.QueryAsync<(Guid Id, int Version, string Document)>(ServerStateSql)).ToDictionary(r => r.Id);
            var live = mirror.Where(m => m.Value.Document is not null).ToDictionary(m => m.Key, m => m.Value);
            Assert.Equal(server.Keys.Order(), live.Keys.Order());
            foreach (var (id, therapy) in server)
            {
                Assert.Equal(therapy.Version, live[id].Version);
                Assert.Equal(therapy.Document, live[id].Document); // every member, byte for byte
            }
        }

        // A client that follows the whole feed from the beginning, without an export, agrees too.
        var replay = new Dictionary<Guid, (int Version, string? Document)>();
        foreach (var change in (await FeedReader.DrainAsync(_client, after: null)).Changes)
        {
            if (!replay.TryGetValue(change.TherapyId, out var held) || change.Version > held.Version)
            {
                replay[change.TherapyId] = (change.Version, change.Therapy);
            }
        }

        Assert.Equal(
            mirror.Where(m => m.Value.Document is not null).OrderBy(m => m.Key).Select(m => $"{m.Key}:{m.Value.Version}:{m.Value.Document}"),
            replay.Where(m => m.Value.Document is not null).OrderBy(m => m.Key).Select(m => $"{m.Key}:{m.Value.Version}:{m.Value.Document}"));
    }

    private async Task<List<Therapy>> SeededAsync()
    {
        await using var db = await api.OpenDatabaseAsync();
        return [.. (await db.QueryAsync<string>("SELECT v.document::text FROM therapies t JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version"))
            .Select(d => JsonSerializer.Deserialize<Therapy>(d, CatalogJson.Options)!)];
    }
}
