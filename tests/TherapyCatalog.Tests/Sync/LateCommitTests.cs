using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Sync;

public class LateCommitTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task A_transaction_that_began_first_and_committed_after_a_later_one_is_not_skipped()
    {
        var cursor = (await FeedReader.DrainAsync(_client, after: null)).NextCursor;
        await using var dbA = await api.OpenDatabaseAsync();
        await using var dbB = await api.OpenDatabaseAsync();
        var kymriah = (await CatalogWriter.ReadAsync(dbA, "kymriah")).Id;
        var yescarta = (await CatalogWriter.ReadAsync(dbB, "yescarta")).Id;

        // A writes and stays open.
        await using var txA = await dbA.BeginTransactionAsync();
        var a = (await CatalogWriter.UpdateAsync(dbA, txA, kymriah, input => input with { ProprietaryName = "Kymriah (A)" }))!;
        // B writes and commits while A is still open.
        await using (var txB = await dbB.BeginTransactionAsync())
        {
            await CatalogWriter.UpdateAsync(dbB, txB, yescarta, input => input with { ProprietaryName = "Yescarta (B)" });
            await txB.CommitAsync();
        }

        var b = await CatalogWriter.ReadAsync(dbB, "yescarta");

        // The client reads past B's commit ...
        var first = await FeedReader.DrainAsync(_client, cursor);
        // ... then A commits, and the client reads on from where it was.
        await txA.CommitAsync();
        var second = await FeedReader.UntilAsync(_client, first.NextCursor,
            read => first.Changes.Concat(read).Any(c => c.TherapyId == a.Id && c.Version == a.Version)
                    && first.Changes.Concat(read).Any(c => c.TherapyId == b.Id && c.Version == b.Version));

        var seen = first.Changes.Concat(second.Changes).Select(c => (c.TherapyId, c.Version)).ToList();
        Assert.Contains((a.Id, a.Version), seen);
        Assert.Contains((b.Id, b.Version), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        // How it holds: B is withheld while A, the older transaction, is open (A is below the
        // watermark only once it ends), and A comes first, in transaction order.
        Assert.DoesNotContain(first.Changes, c => c.TherapyId == b.Id);
        Assert.True(seen.IndexOf((a.Id, a.Version)) < seen.IndexOf((b.Id, b.Version)));
    }

    [Fact]
    public async Task When_the_older_transaction_rolls_back_the_later_commit_is_handed_out()
    {
        var cursor = (await FeedReader.DrainAsync(_client, after: null)).NextCursor;
        await using var dbA = await api.OpenDatabaseAsync();
        await using var dbB = await api.OpenDatabaseAsync();
        var provenge = (await CatalogWriter.ReadAsync(dbA, "provenge")).Id;
        var abecma = (await CatalogWriter.ReadAsync(dbB, "abecma")).Id;

        await using var txA = await dbA.BeginTransactionAsync();
        await CatalogWriter.UpdateAsync(dbA, txA, provenge, input => input with { ProprietaryName = "Never committed" });
        await using (var txB = await dbB.BeginTransactionAsync())
        {
            await CatalogWriter.UpdateAsync(dbB, txB, abecma, input => input with { ProprietaryName = "Abecma (B)" });
            await txB.CommitAsync();
        }

        var poll = FeedReader.PageAsync(_client, cursor, wait: 10);
        await Task.Delay(300);
        await txA.RollbackAsync();
        var page = await poll; // a rollback sends no notification: the long poll must still see B

        Assert.Equal([abecma], page.Changes.Select(c => c.TherapyId));
        Assert.Contains("Abecma (B)", page.Changes[0].Therapy, StringComparison.Ordinal);
    }
}
