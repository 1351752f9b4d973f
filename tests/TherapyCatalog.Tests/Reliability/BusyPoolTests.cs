using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>The application with a pool of two connections and a one-second wait for one.</summary>
public class BusyPoolApiFactory : CatalogApiFactory
{
    public const int PoolWaitSeconds = 1;

    /// <summary>Two: once requests have come, the change listener keeps one for itself, and a request needs the other.</summary>
    public const int PoolSize = 2;

    protected override string ApplicationConnectionString =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = PoolSize }.ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:MigrateOnStartup", "false"); // the clone is migrated; migrating takes two connections
        builder.UseSetting("Catalog:Database:PoolWaitSeconds", PoolWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Takes every connection of the pool, as long requests would, until disposed. Call it before the
    /// first request: the change listener has not taken one yet.
    /// </summary>
    public async Task<IAsyncDisposable> HoldThePoolAsync()
    {
        var held = new HeldConnections();
        for (var i = 0; i < PoolSize; i++)
        {
            held.Add(await Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync());
        }

        return held;
    }

    private sealed class HeldConnections : List<NpgsqlConnection>, IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var connection in this)
            {
                await connection.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// A database that is up but has no connection free for a request is busy, not unavailable: the
/// answer is a 503 that says so, with Retry-After, and the service answers again once a connection
/// comes free. A database that takes the connection and never answers stays "unavailable".
/// </summary>
public class BusyPoolTests(BusyPoolApiFactory api) : IClassFixture<BusyPoolApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task A_request_that_finds_every_connection_in_use_gets_503_busy_with_retry_after_then_service_resumes()
    {
        HttpResponseMessage busy;
        await using (await api.HoldThePoolAsync())
        {
            // A query value of its own: answered from the database, not from the response cache.
            busy = await _client.GetAsync($"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}");
        }

        var problem = await ProblemAssert.IsProblemAsync(busy, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(busy.Headers.RetryAfter?.Delta);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("busy", detail, StringComparison.Ordinal);
        Assert.Contains($"Retry after {busy.Headers.RetryAfter!.Delta!.Value.TotalSeconds:0} s", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot be reached", detail, StringComparison.Ordinal);

        // The connection is back in the pool: the next request is answered.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}")).StatusCode);
    }
}

/// <summary>The application pointed at a server that accepts connections and never says a word.</summary>
public sealed class SilentServerApiFactory : CatalogApiFactory
{
    private readonly TcpListener _silent = new(System.Net.IPAddress.Loopback, 0);
    private readonly List<TcpClient> _accepted = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _silent.Start();
        _ = AcceptForeverAsync();
    }

    private async Task AcceptForeverAsync()
    {
        try
        {
            while (true)
            {
                var client = await _silent.AcceptTcpClientAsync();
                lock (_accepted)
                {
                    _accepted.Add(client);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    protected override string ApplicationConnectionString =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Host = "127.0.0.1", Port = ((IPEndPoint)_silent.LocalEndpoint).Port }.ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:MigrateOnStartup", "false");
        builder.UseSetting("Catalog:Database:PoolWaitSeconds", "1");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _silent.Stop();
        lock (_accepted)
        {
            _accepted.ForEach(c => c.Dispose());
        }
    }
}

public class SilentDatabaseTests(SilentServerApiFactory api) : IClassFixture<SilentServerApiFactory>
{
    [Fact]
    public async Task A_database_that_accepts_connections_and_never_answers_is_unavailable_not_busy()
    {
        var answer = await api.CreateClient().GetAsync("/v1/therapies/kymriah");

        var problem = await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(answer.Headers.RetryAfter);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("cannot be reached", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("busy", detail, StringComparison.Ordinal);
    }
}
