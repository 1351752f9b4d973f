using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Testcontainers.PostgreSql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// The one PostgreSQL server of a test run, chosen in this order:
/// 1. <c>CATALOG_TEST_CONNECTION</c> from the environment (a server someone already runs);
/// 2. a Testcontainers container, when a Docker engine answers;
/// 3. a private throwaway cluster made by db/local-postgres.sh (initdb + pg_ctl on a free
///    loopback port), removed when the run ends.
/// The catalog is migrated and loaded once into a template database; every test class gets its
/// own database cloned from it (CREATE DATABASE ... TEMPLATE, a file copy: fast and fully isolated).
/// </summary>
public static class PostgresServer
{
    private static readonly string RunId = Guid.NewGuid().ToString("N")[..8];
    private static readonly Lazy<Task<string>> Template = new(CreateTemplateAsync);
    private static readonly SemaphoreSlim CloneGate = new(1, 1);
    private static int _databases;

    /// <summary>Where the server came from, for the test log.</summary>
    public static string Origin { get; private set; } = "not started";

    /// <summary>The maintenance connection string of the server (no database chosen).</summary>
    public static string ServerConnectionString { get; private set; } = "";

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>A new database holding the migrated, loaded catalog, for one test class.</summary>
    public static async Task<string> CreateCatalogDatabaseAsync()
    {
        var template = await Template.Value;
        var name = $"catalog_{RunId}_{Interlocked.Increment(ref _databases)}";
        await CloneGate.WaitAsync();
        try
        {
            await ExecuteAsync(ServerConnectionString, $"CREATE DATABASE {name} TEMPLATE {template}");
        }
        finally
        {
            CloneGate.Release();
        }

        return WithDatabase(name);
    }

    /// <summary>A new empty database (nothing migrated), for tests of the migrations themselves.</summary>
    public static async Task<string> CreateEmptyDatabaseAsync()
    {
        await Template.Value;
        var name = $"empty_{RunId}_{Interlocked.Increment(ref _databases)}";
        await ExecuteAsync(ServerConnectionString, $"CREATE DATABASE {name}");
        return WithDatabase(name);
    }

    public static string WithDatabase(string database) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database }.ConnectionString;

    private static async Task<string> CreateTemplateAsync()
    {
        ServerConnectionString = await StartServerAsync();
        var template = $"template_{RunId}";
        // No pooling: CREATE DATABASE ... TEMPLATE needs the template free of connections.
        var connectionString = new NpgsqlConnectionStringBuilder(WithDatabase(template)) { Pooling = false }.ConnectionString;
        await CatalogMigrator.MigrateAsync(connectionString, CatalogDataSets.All, NullLogger.Instance);
        NpgsqlConnection.ClearAllPools();
        return template;
    }

    private static async Task<string> StartServerAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("CATALOG_TEST_CONNECTION");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            Origin = "CATALOG_TEST_CONNECTION";
            return fromEnvironment;
        }

        if (DockerMayAnswer())
        {
            try
            {
                var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
                await container.StartAsync();
                Origin = "Testcontainers";
                AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return new NpgsqlConnectionStringBuilder(container.GetConnectionString()) { Database = "postgres" }.ConnectionString;
            }
            catch (Exception e)
            {
                Console.WriteLine($"Testcontainers could not start PostgreSQL ({e.Message}); using a local cluster.");
            }
        }

        return StartLocalCluster();
    }

    private static bool DockerMayAnswer() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    private static string StartLocalCluster()
    {
        RemoveLeftoverClusters();
        var directory = Path.Combine(Path.GetTempPath(), $"therapy-catalog-tests-{RunId}");
        var environment = new Dictionary<string, string> { ["CATALOG_PG_DIR"] = directory, ["CATALOG_PG_FAST"] = "1" };
        var url = LocalPostgres("start", environment);
        Origin = $"local cluster in {directory}";
        AppDomain.CurrentDomain.ProcessExit += (_, _) => LocalPostgres("destroy", environment);
        return new NpgsqlConnectionStringBuilder(url.Trim()) { Database = "postgres" }.ConnectionString;
    }

    /// <summary>
    /// Clusters of earlier runs that ended without cleaning up (a killed test host): no server runs
    /// in them and they are over an hour old, so no run still starting (or running) owns them.
    /// </summary>
    private static void RemoveLeftoverClusters()
    {
        foreach (var leftover in Directory.GetDirectories(Path.GetTempPath(), "therapy-catalog-tests-*"))
        {
            if (!File.Exists(Path.Combine(leftover, "data", "postmaster.pid"))
                && Directory.GetLastWriteTimeUtc(leftover) < DateTime.UtcNow.AddHours(-1))
            {
                Directory.Delete(leftover, recursive: true);
            }
        }
    }

    private static string LocalPostgres(string command, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot, "db", "local-postgres.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"db/local-postgres.sh {command} failed: {errors.Result}");
        }

        return output.Result;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TherapyCatalog.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The tests run inside the repository: TherapyCatalog.sln not found above " + AppContext.BaseDirectory);
    }
}
