using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>The application with one search at a time at the database, one more waiting, for at most a second.</summary>
public class NarrowGateApiFactory : CatalogApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:Database:Concurrency", "1");
        builder.UseSetting("Catalog:Database:QueueLength", "1");
        builder.UseSetting("Catalog:Database:PoolWaitSeconds", "1");
    }
}

/// <summary>
/// Searches reach PostgreSQL through a bounded gate: a burst waits its turn, a full queue or a wait
/// that runs out is an honest 503 "busy" with Retry-After, and the service goes on once turns come free.
/// </summary>
public class DatabaseGateTests(NarrowGateApiFactory api) : IClassFixture<NarrowGateApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // A query value of its own: answered from the database, never from the response cache.
    private static string Search() => $"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}";

    [Fact]
    public async Task The_gate_is_sized_as_configured_and_by_default_to_the_pool()
    {
        var gate = api.Services.GetRequiredService<DatabaseGate>();
        Assert.Equal((1, 1), (gate.Concurrency, gate.QueueLength));

        using var plain = new CatalogApiFactory();
        await plain.InitializeAsync();
        var pool = new Npgsql.NpgsqlConnectionStringBuilder(plain.ConnectionString).MaxPoolSize;
        Assert.Equal(pool, plain.Services.GetRequiredService<DatabaseGate>().Concurrency);
    }

    [Fact]
    public async Task A_search_that_finds_the_queue_full_is_503_busy_and_the_one_waiting_runs_when_a_turn_comes_free()
    {
        var gate = api.Services.GetRequiredService<DatabaseGate>();
        Task<HttpResponseMessage> waiting;
        HttpResponseMessage turnedAway;
        using (await gate.EnterAsync(default))
        {
            waiting = _client.GetAsync(Search());
            while (gate.Waiting == 0 && !waiting.IsCompleted)
            {
                await Task.Delay(10);
            }

            turnedAway = await _client.GetAsync(Search());
        }

        var problem = await ProblemAssert.IsProblemAsync(turnedAway, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("busy", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(turnedAway.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, (await waiting).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(Search())).StatusCode);
    }

    [Fact]
    public async Task A_search_whose_turn_does_not_come_in_time_is_503_busy()
    {
        var gate = api.Services.GetRequiredService<DatabaseGate>();
        HttpResponseMessage late;
        using (await gate.EnterAsync(default))
        {
            late = await _client.GetAsync(Search());
        }

        var problem = await ProblemAssert.IsProblemAsync(late, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("busy", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(Search())).StatusCode);
    }
}
