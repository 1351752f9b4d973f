using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>
/// A primary and a streaming replica made from it with <c>pg_basebackup -R</c>, both private
/// clusters on loopback. The application writes to the primary and reads through
/// <c>ConnectionStrings:CatalogRead</c>, a multi-host string that prefers the standby.
/// </summary>
public sealed class ReplicatedCatalogApiFactory : CatalogApiFactory
{
    public PrivateCluster Primary { get; } = PrivateCluster.Create("primary");

    public PrivateCluster Standby { get; } = PrivateCluster.Create("standby");

    public override async Task InitializeAsync()
    {
        if (PrivateCluster.Unavailable is not null)
        {
            return; // the tests skip themselves
        }

        Primary.Start(); // wal_level=replica and the loopback replication entry in pg_hba.conf are initdb's defaults
        ConnectionString = Primary.ConnectionString;
        await CatalogMigrator.MigrateAsync(ConnectionString, CatalogDataSets.All, NullLogger.Instance);
        Standby.MakeDirectory();
        PrivateCluster.RunAsOwner("pg_basebackup", "-h", "127.0.0.1", "-p", Primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "postgres", "-D", Standby.DataDirectory, "-R", "-X", "stream", "-c", "fast");
        Standby.Start(); // standby.signal from -R: a hot standby on its own port, streaming from the primary
    }

    public string ReadConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = $"127.0.0.1:{Standby.Port},127.0.0.1:{Primary.Port}",
        Username = "postgres",
        Database = "therapy_catalog",
        TargetSessionAttributes = "prefer-standby",
    }.ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:MigrateOnStartup", "false");
        builder.UseSetting("ConnectionStrings:CatalogRead", ReadConnectionString);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
    }
}

public class ReadReplicaTests(ReplicatedCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<ReplicatedCatalogApiFactory>
{
    private static readonly string[] Reads =
        ["/v1/therapies/kymriah", "/v1/therapies/kymriah/history", "/v1/therapies?condition=lymphoma&limit=5", "/v1/facets?modality=gene", "/v1/conditions?q=leuk"];

    [PrivateClusterFact]
    public async Task Reads_are_served_by_the_replica_while_the_primary_is_down_and_writes_return_with_the_primary()
    {
        var client = api.CreateClient();
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var created = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var replicated = await UntilAsync(async () => (await client.GetAsync($"/v1/therapies/{id}")).StatusCode == HttpStatusCode.OK);
        output.WriteLine($"a write was readable (through the replica) after {replicated.TotalMilliseconds:F0} ms");

        api.Primary.Stop();
        var clock = Stopwatch.StartNew();
        foreach (var path in Reads.Append($"/v1/therapies/{id}"))
        {
            var read = await client.GetAsync(path);
            Assert.True(read.StatusCode == HttpStatusCode.OK, $"{path} answered {read.StatusCode} with the primary down");
        }

        var readsTook = clock.Elapsed;
        var refused = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())));
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(refused.Headers.RetryAfter);
        var ready = await client.GetAsync("/health/ready");
        output.WriteLine($"primary down: {Reads.Length + 1} reads answered 200 in {readsTook.TotalMilliseconds:F0} ms; a write answered {(int)refused.StatusCode}; /health/ready {(int)ready.StatusCode}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode); // readiness reports the primary: this instance cannot write

        api.Primary.Start();
        var writesBack = await UntilAsync(async () => (await client.SendAsync(TherapyBodies.Request(
            HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())))).StatusCode == HttpStatusCode.Created);
        output.WriteLine($"primary back: writes succeeded again after {writesBack.TotalMilliseconds:F0} ms");
        Assert.True(writesBack < TimeSpan.FromSeconds(10), $"writes came back after {writesBack}");
        foreach (var path in Reads)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
        }
    }

    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> succeeds)
    {
        var clock = Stopwatch.StartNew();
        while (!await succeeds())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no success within 30 s");
            await Task.Delay(50);
        }

        return clock.Elapsed;
    }
}
