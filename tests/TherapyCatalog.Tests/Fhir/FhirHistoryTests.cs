using System.Web;
using Dapper;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Sync;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Fhir;

/// <summary>
/// A formulary system's mirror, built only from <c>MedicationKnowledge/_history</c> with the Firely
/// FhirClient (the first page, then every <c>next</c> link), equals the catalog after concurrent
/// writers created, updated and deleted therapies, some transactions held open across later
/// commits, some writing several therapies, some rolled back.
/// </summary>
public class FhirHistoryTests(CatalogApiFactory api, ITestOutputHelper output) : IClassFixture<CatalogApiFactory>
{
    private const int Writers = 3;
    private const int TargetChanges = 500;

    private static readonly FhirJsonSerializer Serializer = new();

    [Fact]
    public async System.Threading.Tasks.Task A_mirror_built_from_history_equals_the_catalog_after_concurrent_writers()
    {
        List<Guid> seeded;
        TherapyCatalog.Api.Therapies.Therapy template;
        await using (var db = await api.OpenDatabaseAsync())
        {
            seeded = [.. await db.QueryAsync<Guid>("SELECT id FROM therapies WHERE deleted_at IS NULL")];
        }

        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        // New therapies copy Kymriah without its packages, so an NDC search still finds Kymriah alone.
        await using (var db = await api.OpenDatabaseAsync())
        {
            template = await CatalogWriter.ReadAsync(db, "kymriah");
        }

        var run = new ConcurrentWriters(api.ConnectionString, [template], seeded, TargetChanges, "fhir", input => input with { Packages = [], Ndcs = [] });
        var writers = Enumerable.Range(0, Writers).Select(w => System.Threading.Tasks.Task.Run(() => run.WriteAsync(seed: 2000 + w))).ToArray();

        var client = FhirKit.Client(api);
        var positions = api.Services.GetRequiredService<OpaqueCursor>();
        var mirror = new Dictionary<string, (int Version, string? Json)>();
        var read = 0;
        var pages = 0;
        var idlePolls = 0;
        ChangeFeedPosition? end = null;
        var bundle = await client.TypeHistoryAsync<MedicationKnowledge>(pageSize: 200);
        while (true)
        {
            pages++;
            foreach (var entry in bundle!.Entry)
            {
                read++;
                var id = entry.Request!.Url!.Split('/')[1];
                var version = int.Parse(entry.Response!.Etag!.Trim('W', '/', '"'));
                if (!mirror.TryGetValue(id, out var held) || version > held.Version)
                {
                    mirror[id] = (version, entry.Request.Method == Bundle.HTTPVerb.DELETE ? null : Serializer.SerializeToString(entry.Resource!));
                }
            }

            var next = bundle.Link.Single(l => l.Relation == "next").Url!;
            if (end is null && writers.All(w => w.IsCompleted))
            {
                await System.Threading.Tasks.Task.WhenAll(writers); // surfaces a writer's failure
                await using var db = await api.OpenDatabaseAsync();
                var row = await db.QuerySingleAsync<(string Txid, long Seq)>("SELECT txid::text AS Txid, seq AS Seq FROM changes ORDER BY txid DESC, seq DESC LIMIT 1");
                end = new ChangeFeedPosition(ulong.Parse(row.Txid), row.Seq);
            }

            var at = ChangeFeedPosition.Decode(positions, HttpUtility.ParseQueryString(next.Split('?')[1])["_cursor"])!.Value;
            if (end is { } last && bundle.Entry.Count == 0 && (at.TransactionId, at.Sequence).CompareTo((last.TransactionId, last.Sequence)) >= 0)
            {
                break;
            }

            if (bundle.Entry.Count == 0)
            {
                // Caught up (or the feed's watermark is held back by a transaction still open somewhere): poll again, as a formulary system would.
                Assert.True(++idlePolls < 600, "the history never caught up with the writers");
                await System.Threading.Tasks.Task.Delay(200);
            }

            bundle = await client.ContinueAsync(bundle);
        }

        output.WriteLine($"{run.Committed} changes committed in {run.Transactions} transactions ({run.MultiTherapy} multi-therapy, {run.Held} held open, " +
                         $"{run.RolledBack} rolled back); history read {read} entries in {pages} pages; mirror holds {mirror.Count(m => m.Value.Json is not null)} live");
        Assert.True(run.Committed >= TargetChanges, $"only {run.Committed} changes");
        Assert.True(run.Held > 0 && run.RolledBack > 0 && run.MultiTherapy > 0, "the run had held, rolled-back and multi-therapy transactions");

        List<(Guid Id, int Version)> live;
        await using (var db = await api.OpenDatabaseAsync())
        {
            live = [.. await db.QueryAsync<(Guid Id, int Version)>("SELECT id, version FROM therapies WHERE deleted_at IS NULL ORDER BY id")];
        }

        // A page of the run's changes (deletes among them) is valid R4 too, and _since leaves out what came before.
        var sinceText = started.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var sinceInstant = DateTimeOffset.Parse(sinceText, System.Globalization.CultureInfo.InvariantCulture);
        var since = FhirKit.Parse<Bundle>(await api.CreateClient().GetStringAsync(
            $"{FhirKit.Base}/MedicationKnowledge/_history?_count=200&_since={Uri.EscapeDataString(sinceText)}"));
        Assert.Contains(since.Entry, e => e.Request!.Method == Bundle.HTTPVerb.DELETE);
        Assert.All(since.Entry, e => Assert.True(e.Response!.LastModified >= sinceInstant));
        var errors = FhirKit.Errors(since);
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        var mirrored = mirror.Where(m => m.Value.Json is not null).ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal(live.Select(l => l.Id.ToString()).Order(), mirrored.Keys.Order());
        using var http = api.CreateClient();
        foreach (var (id, version) in live)
        {
            Assert.Equal(version, mirrored[id.ToString()].Version);
            var served = FhirKit.Parse<MedicationKnowledge>(await http.GetStringAsync($"{FhirKit.Base}/MedicationKnowledge/{id}"));
            Assert.Equal(Serializer.SerializeToString(served), mirrored[id.ToString()].Json); // every element
        }
    }
}
