using System.Diagnostics;
using System.Net;
using Npgsql;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>The application reaches its database through a <see cref="DatabaseLink"/> that the tests cut.</summary>
public sealed class LinkedCatalogApiFactory : CatalogApiFactory
{
    public DatabaseLink Link { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var direct = new NpgsqlConnectionStringBuilder(ConnectionString);
        Link = new DatabaseLink(direct.Host!, direct.Port);
    }

    protected override string ApplicationConnectionString =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Host = "127.0.0.1", Port = Link.Port }.ConnectionString;
}

public class OutageTests(LinkedCatalogApiFactory api) : IClassFixture<LinkedCatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task Without_the_database_requests_answer_503_fast_and_recover_when_it_returns()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/v1/therapies/kymriah")).StatusCode);

        api.Link.Cut();
        try
        {
            var clock = Stopwatch.StartNew();
            var ready = await _client.GetAsync("/health/ready");
            var read = await _client.GetAsync("/v1/therapies/kymriah");
            var live = await _client.GetAsync("/health/live");
            clock.Stop();

            await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);
            var problem = await ProblemAssert.IsProblemAsync(read, HttpStatusCode.ServiceUnavailable);
            Assert.True(read.Headers.RetryAfter is not null, "a 503 says when to retry");
            // An outage, not a busy pool (BusyPoolTests): the detail says the database cannot be reached.
            Assert.Contains("cannot be reached", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode); // the process itself is alive
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"outage answers took {clock.Elapsed}");
        }
        finally
        {
            api.Link.Restore();
        }

        // Back without a restart: the first answers may still meet a connection the outage broke.
        var recovered = false;
        for (var attempt = 0; attempt < 20 && !recovered; attempt++)
        {
            recovered = (await _client.GetAsync("/v1/therapies/kymriah")).StatusCode == HttpStatusCode.OK
                        && (await _client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK;
            if (!recovered)
            {
                await Task.Delay(250);
            }
        }

        Assert.True(recovered, "the API answers again once the database is back");
    }
}
