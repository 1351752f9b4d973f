using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// The real application, over HTTP, on a database of its own cloned from the migrated catalog.
/// One per test class (IClassFixture), so classes never see each other's writes.
/// </summary>
public class CatalogApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public string ConnectionString { get; protected set; } = "";

    public virtual async Task InitializeAsync() => ConnectionString = await PostgresServer.CreateCatalogDatabaseAsync();

    /// <summary>The connection string the application is given; a subclass may route it elsewhere.</summary>
    protected virtual string ApplicationConnectionString => ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Catalog", ApplicationConnectionString);
        builder.UseEnvironment("Testing");
    }

    /// <summary>A direct connection to this class's database, for arranging and asserting on rows.</summary>
    public async Task<NpgsqlConnection> OpenDatabaseAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    // Virtual dispatch, so a subclass that owns more (a private cluster) can clean it up in its override.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
