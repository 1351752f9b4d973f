using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Sync;

public class ExportOverlapTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    /// <summary>
    /// A transaction (D) takes its xid early, then deletes a therapy after a later transaction (U)
    /// updated it: along the feed the delete comes before the update it overtook. An export whose
    /// snapshot falls between them (a transaction W, begun between D and U, still open) leaves the
    /// therapy out, and its cursor is before U but after D. Replaying U's update must not bring the
    /// therapy back.
    /// </summary>
    [Fact]
    public async Task Export_and_feed_do_not_resurrect_a_therapy_deleted_by_a_transaction_older_than_its_last_update()
    {
        await using var dbD = await api.OpenDatabaseAsync();
        await using var dbW = await api.OpenDatabaseAsync();
        await using var dbU = await api.OpenDatabaseAsync();
        Guid target;
        await using (var tx = await dbU.BeginTransactionAsync())
        {
            target = (await CatalogWriter.CreateAsync(dbU, tx, CatalogWriter.InputFrom(await CatalogWriter.ReadAsync(dbU, "tecartus")) with
            {
                Slug = CatalogWriter.NewSlug("overlap"),
            })).Id;
            await tx.CommitAsync();
        }

        var other = (await CatalogWriter.ReadAsync(dbD, "imlygic")).Id;
        var bystander = (await CatalogWriter.ReadAsync(dbW, "ryoncil")).Id;

        await using var txD = await dbD.BeginTransactionAsync();
        await CatalogWriter.UpdateAsync(dbD, txD, other, input => input with { ProprietaryName = "Imlygic (D)" }); // D's xid
        await using var txW = await dbW.BeginTransactionAsync();
        await CatalogWriter.UpdateAsync(dbW, txW, bystander, input => input with { ProprietaryName = "Ryoncil (W)" }); // W's xid, later
        await using (var txU = await dbU.BeginTransactionAsync())
        {
            await CatalogWriter.UpdateAsync(dbU, txU, target, input => input with { ProprietaryName = "Updated by U" }); // U's xid, later still
            await txU.CommitAsync();
        }

        Assert.NotNull(await CatalogWriter.DeleteAsync(dbD, txD, target)); // version 3, in the oldest transaction
        await txD.CommitAsync();

        var export = await _client.GetAsync("/v1/export");
        var cursor = Assert.Single(export.Headers.GetValues(CatalogSnapshot.HeaderName));
        var mirror = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .ToDictionary(t => t.GetProperty("id").GetGuid(), t => (Version: t.GetProperty("version").GetInt32(), Live: true));
        Assert.False(mirror.ContainsKey(target), "the export's snapshot has the therapy deleted");
        await txW.CommitAsync();

        var feed = await FeedReader.UntilAsync(_client, cursor, read => read.Any(c => c.TherapyId == bystander));
        foreach (var change in feed.Changes)
        {
            if (!mirror.TryGetValue(change.TherapyId, out var held) || change.Version > held.Version)
            {
                mirror[change.TherapyId] = (change.Version, change.Kind == "upsert");
            }
        }

        Assert.False(mirror.TryGetValue(target, out var resurrected) && resurrected.Live,
            $"the mirror holds the deleted therapy again (version {resurrected.Version})");
    }
}
