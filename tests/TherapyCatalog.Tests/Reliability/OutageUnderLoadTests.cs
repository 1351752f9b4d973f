using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>The application on a private cluster of its own, which the test stops and starts for real.</summary>
public sealed class PrivateClusterApiFactory : CatalogApiFactory
{
    public PrivateCluster Cluster { get; } = PrivateCluster.Create("outage");

    public override async Task InitializeAsync()
    {
        if (PrivateCluster.Unavailable is not null)
        {
            return; // the tests skip themselves
        }

        Cluster.Start();
        ConnectionString = Cluster.ConnectionString;
        await CatalogMigrator.MigrateAsync(ConnectionString, CatalogDataSets.All, NullLogger.Instance);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:MigrateOnStartup", "false");
        builder.UseSetting("Catalog:RateLimits:ReadsPerMinute", "1000000");
        builder.UseSetting("Catalog:RateLimits:WritesPerMinute", "1000000");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await Cluster.DisposeAsync();
    }
}

/// <summary>
/// PostgreSQL is stopped (pg_ctl stop -m fast) while readers and writers keep the API busy, then
/// started again. Every answer during the outage is a fast 503 problem with Retry-After, readiness
/// is 503, service returns without restarting the API, and the data holds every acknowledged write
/// and no partial one.
/// </summary>
public class OutageUnderLoadTests(PrivateClusterApiFactory api, ITestOutputHelper output) : IClassFixture<PrivateClusterApiFactory>
{
    private const int Readers = 6;
    private const int Writers = 4;
    private static readonly TimeSpan OutageAnswerLimit = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(5);

    private sealed record Answer(string Kind, TimeSpan StartedAt, TimeSpan Latency, int Status, bool RetryAfter, string? ProblemDefect, bool SaysBusy = false);

    private sealed record AcknowledgedWrite(Guid Id, int Version);

    [PrivateClusterFact]
    public async Task Stopping_postgres_under_load_answers_fast_503s_and_loses_no_acknowledged_write()
    {
        var client = api.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30); // a hang shows as a slow answer, not a stuck test
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/therapies/kymriah")).StatusCode);

        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentBag<Answer>();
        var acknowledged = new ConcurrentBag<AcknowledgedWrite>();
        using var stopLoad = new CancellationTokenSource();
        var load = Enumerable.Range(0, Readers).Select(i => ReadLoopAsync(client, i, clock, answers, stopLoad.Token))
            .Concat(Enumerable.Range(0, Writers).Select(_ => WriteLoopAsync(client, key, clock, answers, acknowledged, stopLoad.Token)))
            .ToArray();

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var stopBegan = clock.Elapsed;
        api.Cluster.Stop();
        var stopped = clock.Elapsed;

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var readiness = await TimedAsync(client, HttpMethod.Get, "/health/ready");
        var startBegan = clock.Elapsed;
        api.Cluster.Start();
        var started = clock.Elapsed; // pg_ctl -w returned: PostgreSQL accepts connections

        // Time until a read and a write succeed again, from the API as it is (no restart).
        var readBack = await UntilAsync(async () => (await client.GetAsync("/v1/therapies/kymriah")).IsSuccessStatusCode, clock);
        var writeBack = await UntilAsync(async () => (await client.SendAsync(TherapyBodies.Request(
            HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())))).IsSuccessStatusCode, clock);
        var readyBack = await UntilAsync(async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode, clock);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        var all = answers.ToList();
        var duringOutage = all.Where(a => a.StartedAt >= stopBegan && a.StartedAt < startBegan).ToList();
        // Wholly inside the outage: started once the server was down, answered before it was started
        // again. (A request that overlaps the restart may be served by the returning server.)
        var afterStop = duringOutage.Where(a => a.StartedAt >= stopped && a.StartedAt + a.Latency <= startBegan).ToList();
        var failures = all.Where(a => a.Status is 0 or >= 500).ToList();
        var notOutageAnswers = failures.Where(a => !IsOutageAnswer(a)).ToList();
        var writes = all.Count(a => a.Kind != "read");
        output.WriteLine($"load: {Readers} readers, {Writers} writers; {all.Count} answers ({writes} writes), {acknowledged.Count} writes acknowledged");
        output.WriteLine($"pg_ctl stop took {(stopped - stopBegan).TotalMilliseconds:F0} ms; outage (stop began to start began) {(startBegan - stopBegan).TotalSeconds:F1} s; pg_ctl start took {(started - startBegan).TotalMilliseconds:F0} ms");
        output.WriteLine($"during the outage: {duringOutage.Count} answers, {duringOutage.Count(a => a.Status == 503)} × 503, " +
                         $"{duringOutage.Count(a => a.Status is >= 200 and < 300)} × 2xx (finished before the stop took effect, or served by the returning server); " +
                         $"latency p50 {Percentile(duringOutage, 0.5)} ms, p99 {Percentile(duringOutage, 0.99)} ms, max {Percentile(duringOutage, 1)} ms");
        output.WriteLine($"wholly within the outage (started after the stop, answered before the start): {afterStop.Count} answers, all 503 problem + Retry-After: {afterStop.All(IsOutageAnswer)}");
        output.WriteLine($"/health/ready during the outage: {readiness.Status} in {readiness.Latency.TotalMilliseconds:F0} ms");
        output.WriteLine($"recovery after PostgreSQL accepted connections: read {readBack.TotalMilliseconds:F0} ms, write {writeBack.TotalMilliseconds:F0} ms, ready {readyBack.TotalMilliseconds:F0} ms");
        output.WriteLine($"whole run: {failures.Count} answers 5xx or failed, {notOutageAnswers.Count} of them not a 503 problem with Retry-After; slowest answer {Percentile(all, 1)} ms");

        foreach (var slow in all.OrderByDescending(a => a.Latency).Take(5))
        {
            output.WriteLine($"  slow: {slow.Kind} started {(slow.StartedAt - stopBegan).TotalMilliseconds:F0} ms after the stop began, {slow.Latency.TotalMilliseconds:F0} ms, {slow.Status} {slow.ProblemDefect}");
        }

        NpgsqlConnection.ClearAllPools(); // the test's own pooled connections died with the server too
        Assert.NotEmpty(afterStop);
        Assert.All(afterStop, a => Assert.True(IsOutageAnswer(a), $"{a.Kind} during the outage answered {a.Status} ({a.ProblemDefect}, Retry-After: {a.RetryAfter})"));
        Assert.All(duringOutage, a => Assert.True(a.Latency < OutageAnswerLimit, $"{a.Kind} took {a.Latency.TotalMilliseconds:F0} ms during the outage"));
        Assert.All(notOutageAnswers, a => Assert.True(a.Status == 503 && a.ProblemDefect is null && a.RetryAfter, $"{a.Kind} failed with {a.Status}: {a.ProblemDefect}"));
        Assert.Equal(503, readiness.Status);
        Assert.True(readBack < RecoveryLimit, $"reads came back after {readBack}");
        Assert.True(writeBack < RecoveryLimit, $"writes came back after {writeBack}");
        Assert.True(readyBack < RecoveryLimit, $"readiness came back after {readyBack}");
        Assert.Contains(all, a => a.Kind != "read" && a.StartedAt > startBegan && a.Status is >= 200 and < 300);

        await AssertEveryAcknowledgedWriteIsStoredAsync(acknowledged);
        await AssertNoWriteIsPartialAsync();
    }

    // A database that is down is reported as unavailable, never as busy (BusyPoolTests).
    private static bool IsOutageAnswer(Answer a) => a.Status == 503 && a.RetryAfter && a.ProblemDefect is null && !a.SaysBusy;

    private static string Percentile(List<Answer> answers, double p) => answers.Count == 0
        ? "-"
        : answers.Select(a => a.Latency.TotalMilliseconds).Order().ElementAt((int)Math.Min(answers.Count - 1, Math.Floor(p * answers.Count))).ToString("F0", CultureInfo.InvariantCulture);

    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> succeeds, Stopwatch clock)
    {
        var from = clock.Elapsed;
        while (!await succeeds() && clock.Elapsed - from < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        return clock.Elapsed - from;
    }

    private static async Task<(int Status, TimeSpan Latency)> TimedAsync(HttpClient client, HttpMethod method, string path)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(new HttpRequestMessage(method, path));
        return ((int)response.StatusCode, clock.Elapsed);
    }

    private static async Task ReadLoopAsync(HttpClient client, int reader, Stopwatch clock, ConcurrentBag<Answer> answers, CancellationToken stop)
    {
        string[] paths = ["/v1/therapies/kymriah", "/v1/therapies?limit=5&modality=gene", "/v1/facets", "/v1/conditions?q=lymph", "/v1/changes?limit=5", "/v1/therapies/kymriah/history"];
        for (var i = reader; !stop.IsCancellationRequested; i++)
        {
            // A query value of its own keeps each read off the response cache: under test is the database
            // path (an answer from memory in the moment before the change listener notices the outage is
            // correct, and ResponseCacheTests cover it), and the outage must not be hidden by it.
            var path = paths[i % paths.Length];
            var uncached = $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}probe={reader}-{i}";
            await SendAsync(client, "read", new HttpRequestMessage(HttpMethod.Get, uncached), clock, answers);
        }
    }

    private static async Task WriteLoopAsync(
        HttpClient client, string key, Stopwatch clock, ConcurrentBag<Answer> answers, ConcurrentBag<AcknowledgedWrite> acknowledged, CancellationToken stop)
    {
        var mine = new List<Guid>();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            HttpRequestMessage request;
            string kind;
            if (mine.Count == 0 || i % 3 == 0)
            {
                kind = "create";
                request = TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT()));
            }
            else
            {
                kind = "update";
                var patch = new JsonObject { ["manufacturer"] = $"Test Therapeutics {i}", ["target"] = $"CD{i % 50}" };
                request = TherapyBodies.Request(HttpMethod.Patch, $"/v1/therapies/{mine[i % mine.Count]}", key,
                    TherapyBodies.Body(patch, "application/merge-patch+json"));
            }

            var body = await SendAsync(client, kind, request, clock, answers);
            if (body is not null)
            {
                var therapy = JsonDocument.Parse(body).RootElement;
                var id = therapy.GetProperty("id").GetGuid();
                acknowledged.Add(new AcknowledgedWrite(id, therapy.GetProperty("version").GetInt32()));
                if (kind == "create")
                {
                    mine.Add(id);
                }
            }
        }
    }

    /// <summary>Sends one request and records its answer; returns the body of a 2xx.</summary>
    private static async Task<string?> SendAsync(HttpClient client, string kind, HttpRequestMessage request, Stopwatch clock, ConcurrentBag<Answer> answers)
    {
        var startedAt = clock.Elapsed;
        try
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var latency = clock.Elapsed - startedAt;
            var status = (int)response.StatusCode;
            answers.Add(new Answer(kind, startedAt, latency, status, response.Headers.RetryAfter is not null,
                status >= 400 ? ProblemDocument.Defect(response, body) : null, status == 503 && body.Contains("busy", StringComparison.Ordinal)));
            return status is >= 200 and < 300 ? body : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // No answer at all (a cut response): recorded as status 0, which the test refuses.
            answers.Add(new Answer(kind, startedAt, clock.Elapsed - startedAt, 0, false, e.GetType().Name + ": " + e.Message));
            return null;
        }
    }

    private const string StoredVersionSql = """
        SELECT t.version AS Current, EXISTS (SELECT 1 FROM therapy_versions v WHERE v.therapy_id = t.id AND v.version = @Version) AS Stored
        FROM therapies t WHERE t.id = @Id
        """;

    private async Task AssertEveryAcknowledgedWriteIsStoredAsync(IEnumerable<AcknowledgedWrite> acknowledged)
    {
        await using var db = await api.OpenDatabaseAsync();
        var missing = new List<string>();
        foreach (var write in acknowledged)
        {
            var row = await db.QuerySingleOrDefaultAsync<(int Current, bool Stored)?>(StoredVersionSql, new { write.Id, write.Version });
            if (row is not { Stored: true } found || found.Current < write.Version)
            {
                missing.Add($"{write.Id} v{write.Version}");
            }
        }

        output.WriteLine($"acknowledged writes missing afterwards: {missing.Count}");
        Assert.Empty(missing);
    }

    /// <summary>
    /// Every therapy is whole: versions 1..n each with a change-log row, the current version's
    /// document matching the therapy row, and the child rows the current document lists.
    /// </summary>
    private const string PartialWritesSql = """
        SELECT t.id::text || ': ' || concat_ws(', ',
            CASE WHEN (SELECT count(*) FROM therapy_versions v WHERE v.therapy_id = t.id) <> t.version THEN 'versions are not 1..n' END,
            CASE WHEN (SELECT count(*) FROM therapy_versions v WHERE v.therapy_id = t.id
                       AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.therapy_id = v.therapy_id AND c.version = v.version)) > 0
                 THEN 'a version without its change row' END,
            CASE WHEN cur.document IS NULL THEN 'no current version row' END,
            CASE WHEN (cur.document->>'version')::int <> t.version OR cur.document->>'slug' <> t.slug THEN 'current document differs from the row' END,
            CASE WHEN t.deleted_at IS NULL AND json_array_length(cur.document->'indications') <> (SELECT count(*) FROM therapy_indications i WHERE i.therapy_id = t.id)
                 THEN 'indication rows differ' END,
            CASE WHEN t.deleted_at IS NULL AND json_array_length(cur.document->'approvals') <> (SELECT count(*) FROM therapy_approvals a WHERE a.therapy_id = t.id)
                 THEN 'approval rows differ' END)
        FROM therapies t
        LEFT JOIN therapy_versions cur ON cur.therapy_id = t.id AND cur.version = t.version
        ORDER BY t.id
        """;

    private async Task AssertNoWriteIsPartialAsync()
    {
        await using var db = await api.OpenDatabaseAsync();
        var defects = (await db.QueryAsync<string>(PartialWritesSql)).Where(d => !d.EndsWith(": ", StringComparison.Ordinal)).ToList();
        var orphans = await db.QuerySingleAsync<long>("""
            SELECT (SELECT count(*) FROM therapy_versions v WHERE NOT EXISTS (SELECT 1 FROM therapies t WHERE t.id = v.therapy_id))
                 + (SELECT count(*) FROM changes c WHERE NOT EXISTS (SELECT 1 FROM therapy_versions v WHERE v.therapy_id = c.therapy_id AND v.version = c.version))
            """);
        output.WriteLine($"therapies with partial writes: {defects.Count}; orphan version or change rows: {orphans}");
        Assert.Empty(defects);
        Assert.Equal(0, orphans);
    }
}
