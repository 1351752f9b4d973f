using System.Diagnostics;
using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Sync;

public class ChangeFeedTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private static readonly string[] SeededSlugs = Directory
        .GetFiles(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "therapies"), "*.json")
        .Select(Path.GetFileNameWithoutExtension).Order().ToArray()!;

    private const string StoredDocumentSql = "SELECT document::text FROM therapy_versions WHERE therapy_id = @TherapyId AND version = @Version";

    [Fact]
    public async Task Feed_from_the_beginning_hands_out_every_seeded_therapy_as_an_upsert_with_its_stored_document()
    {
        var feed = await FeedReader.DrainAsync(_client, after: null);

        await using var db = await api.OpenDatabaseAsync();
        var slugs = new List<string>();
        foreach (var change in feed.Changes.Where(c => c.Version == 1))
        {
            Assert.Equal("upsert", change.Kind);
            var stored = await db.QuerySingleAsync<string>(StoredDocumentSql, new { change.TherapyId, change.Version });
            Assert.Equal(stored, change.Therapy); // byte for byte: the stored document is passed through
            slugs.Add(System.Text.Json.JsonDocument.Parse(change.Therapy!).RootElement.GetProperty("slug").GetString()!);
        }

        Assert.Subset(slugs.ToHashSet(), SeededSlugs.ToHashSet());
    }

    [Fact]
    public async Task Paging_with_a_small_limit_hands_out_each_change_once_in_the_same_order()
    {
        var whole = await FeedReader.DrainAsync(_client, after: null, limit: 1000);

        var paged = await FeedReader.DrainAsync(_client, after: null, limit: 3);

        Assert.Equal(whole.Changes.Select(c => c.Cursor), paged.Changes.Select(c => c.Cursor));
        Assert.Equal(whole.Changes.Count, paged.Changes.Select(c => c.Cursor).Distinct().Count());
    }

    [Fact]
    public async Task A_page_returns_at_most_limit_changes_and_continues_at_its_next_cursor()
    {
        var first = await FeedReader.PageAsync(_client, after: null, limit: 2);
        var second = await FeedReader.PageAsync(_client, first.NextCursor, limit: 2);

        Assert.Equal(2, first.Changes.Count);
        Assert.Equal(first.Changes[^1].Cursor, first.NextCursor);
        Assert.DoesNotContain(second.Changes, c => first.Changes.Any(f => f.Cursor == c.Cursor));
    }

    [Fact]
    public async Task With_nothing_new_the_page_is_empty_and_next_cursor_is_the_after_cursor()
    {
        var drained = await FeedReader.DrainAsync(_client, after: null);

        var page = await FeedReader.PageAsync(_client, drained.NextCursor);

        Assert.Empty(page.Changes);
        Assert.Equal(drained.NextCursor, page.NextCursor);
    }

    [Fact]
    public async Task An_update_and_a_delete_show_as_an_upsert_and_a_tombstone_in_order()
    {
        var start = (await FeedReader.DrainAsync(_client, after: null)).NextCursor;
        await using var db = await api.OpenDatabaseAsync();
        Guid id;
        await using (var tx = await db.BeginTransactionAsync())
        {
            var created = await CatalogWriter.CreateAsync(db, tx, CatalogWriter.InputFrom(await CatalogWriter.ReadAsync(db, "kymriah")) with
            {
                Slug = CatalogWriter.NewSlug("feed-tombstone"),
            });
            id = created.Id;
            await tx.CommitAsync();
        }

        await using (var tx = await db.BeginTransactionAsync())
        {
            await CatalogWriter.UpdateAsync(db, tx, id, input => input with { ProprietaryName = "Renamed" });
            await tx.CommitAsync();
        }

        await using (var tx = await db.BeginTransactionAsync())
        {
            await CatalogWriter.DeleteAsync(db, tx, id);
            await tx.CommitAsync();
        }

        var changes = (await FeedReader.UntilAsync(_client, start, read => read.Any(c => c.TherapyId == id && c.Kind == "delete")))
            .Changes.Where(c => c.TherapyId == id).ToList();

        Assert.Equal(["upsert:1", "upsert:2", "delete:3"], changes.Select(c => $"{c.Kind}:{c.Version}"));
        Assert.Contains("\"proprietaryName\":\"Renamed\"", changes[1].Therapy, StringComparison.Ordinal);
        Assert.Null(changes[2].Therapy);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=-5")]
    [InlineData("wait=31")]
    [InlineData("wait=-1")]
    public async Task Out_of_range_limit_or_wait_returns_400_problem(string query)
    {
        var response = await _client.GetAsync($"/v1/changes?{query}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("not-a-cursor")]
    [InlineData("YzE6MTIzOjQ1Ng")] // "c1:123:456" without a signature
    public async Task A_cursor_the_service_did_not_make_returns_400_problem(string cursor)
    {
        var response = await _client.GetAsync($"/v1/changes?after={cursor}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_altered_cursor_returns_400_problem()
    {
        var cursor = (await FeedReader.PageAsync(_client, after: null, limit: 1)).NextCursor;
        var altered = cursor[..^2] + (cursor[^2] == 'A' ? 'B' : 'A') + cursor[^1];

        var response = await _client.GetAsync($"/v1/changes?after={altered}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_genuine_cursor_for_a_position_the_catalog_does_not_have_returns_410_problem_saying_re_export()
    {
        // What a client holds after the database was restored from an older backup: signed, but unknown here.
        var cursor = new ChangeFeedPosition(ulong.MaxValue / 2, 1).Encode(api.Services.GetRequiredService<OpaqueCursor>());

        var response = await _client.GetAsync($"/v1/changes?after={cursor}");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Gone);
        Assert.Contains("/v1/export", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_poll_answers_as_soon_as_a_change_commits()
    {
        var start = (await FeedReader.DrainAsync(_client, after: null)).NextCursor;
        var clock = Stopwatch.StartNew();

        var poll = FeedReader.PageAsync(_client, start, wait: 20);
        await Task.Delay(700);
        Assert.False(poll.IsCompleted, "the long poll waits while nothing changes");
        await using var db = await api.OpenDatabaseAsync();
        await using (var tx = await db.BeginTransactionAsync())
        {
            await CatalogWriter.CreateAsync(db, tx, CatalogWriter.InputFrom(await CatalogWriter.ReadAsync(db, "yescarta")) with
            {
                Slug = CatalogWriter.NewSlug("feed-long-poll"),
            });
            await tx.CommitAsync();
        }

        var page = await poll;

        Assert.Single(page.Changes);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_long_poll_with_changes_already_there_answers_at_once()
    {
        var clock = Stopwatch.StartNew();

        var page = await FeedReader.PageAsync(_client, after: null, limit: 5, wait: 20);

        Assert.Equal(5, page.Changes.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_long_poll_with_nothing_new_answers_an_empty_page_when_its_wait_is_up()
    {
        var start = (await FeedReader.DrainAsync(_client, after: null)).NextCursor;
        var clock = Stopwatch.StartNew();

        var page = await FeedReader.PageAsync(_client, start, wait: 1);

        Assert.Empty(page.Changes);
        Assert.Equal(start, page.NextCursor);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_long_poll_stops_waiting_as_soon_as_its_request_is_cancelled()
    {
        // The handler passes the request's token to this wait; a client that goes away ends it.
        var signal = api.Services.GetRequiredService<ChangeSignal>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => signal.WaitAsync(TimeSpan.FromSeconds(30), cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopped after {clock.Elapsed}");
    }
}
