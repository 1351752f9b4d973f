using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Options;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

public enum DatabasePreparation
{
    Serve,
    MigrateOnly,
}

/// <summary>
/// Brings a database up to date: the schema scripts of db/migrations through DbUp (journaled in
/// <c>schemaversions</c>), then the catalog data of db/data, loaded by the features'
/// <see cref="ICatalogDataSet"/>s in the order they were registered. Instances starting together
/// take turns under an advisory lock, so nothing is applied twice.
/// </summary>
public static class CatalogMigrator
{
    /// <summary>
    /// At start-up: migrate unless <c>Catalog:MigrateOnStartup</c> is false (always with
    /// <c>--migrate-only</c>, which then ends the process), and install the bootstrap API key.
    /// </summary>
    public static async Task<DatabasePreparation> PrepareDatabaseAsync(this WebApplication app, string[] args)
    {
        var migrateOnly = args.Contains("--migrate-only");
        var options = app.Services.GetRequiredService<IOptions<CatalogOptions>>().Value;
        if (migrateOnly || options.MigrateOnStartup)
        {
            await MigrateWhenReachableAsync(
                CatalogDatabase.ConnectionString(app.Configuration), [.. app.Services.GetServices<ICatalogDataSet>()],
                TimeProvider.System, app.Logger, TimeSpan.FromSeconds(options.MigrationPatienceSeconds));
        }

        if (migrateOnly)
        {
            return DatabasePreparation.MigrateOnly;
        }

        await ApiKeyAuthentication.InstallBootstrapKeyAsync(options.BootstrapApiKey, app.Services.GetRequiredService<NpgsqlDataSource>());
        return DatabasePreparation.Serve;
    }

    private const long MigrationLockKey = 0x7468_6572_6170_79; // "therapy"

    public static async Task MigrateAsync(
        string connectionString, IReadOnlyList<ICatalogDataSet> data, ILogger logger, CancellationToken ct = default)
    {
        EnsureDatabase.For.PostgresqlDatabase(connectionString, new UpgradeLogger(logger));

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        await using (var takeLock = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", lockConnection))
        {
            await takeLock.ExecuteNonQueryAsync(ct);
        }

        var upgrade = DeployChanges.To.PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.StartsWith("migrations/", StringComparison.Ordinal))
            .WithTransactionPerScript()
            .WithVariablesDisabled()
            // A script that backfills a large catalog (0006 derives a column for every therapy) may take
            // minutes: the connection's command timeout is sized for requests, not for migrations.
            .WithExecutionTimeout(TimeSpan.FromMinutes(30))
            .LogTo(new UpgradeLogger(logger))
            .Build()
            .PerformUpgrade();
        if (!upgrade.Successful)
        {
            throw new InvalidOperationException($"Migration {upgrade.ErrorScript?.Name} failed: {upgrade.Error.Message}", upgrade.Error);
        }

        await CatalogData.LoadAsync(dataSource, data, logger, ct);
        // Closing the connection releases the advisory lock.
    }

    /// <summary>Waits for the database to answer (it may still be starting), then migrates.</summary>
    public static async Task MigrateWhenReachableAsync(
        string connectionString, IReadOnlyList<ICatalogDataSet> data, TimeProvider clock, ILogger logger, TimeSpan patience,
        CancellationToken ct = default)
    {
        var deadline = clock.GetUtcNow() + patience;
        while (true)
        {
            try
            {
                await MigrateAsync(connectionString, data, logger, ct);
                return;
            }
            catch (Exception e) when (CatalogDatabase.IsUnavailable(e) && clock.GetUtcNow() < deadline)
            {
                logger.LogWarning("Database not reachable yet ({Message}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    // DbUp hands over its own format strings; they are forwarded as they are.
#pragma warning disable CA2254
    private sealed class UpgradeLogger(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace(format, args);
        public void LogDebug(string format, params object[] args) => logger.LogDebug(format, args);
        public void LogInformation(string format, params object[] args) => logger.LogInformation(format, args);
        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);
        public void LogError(string format, params object[] args) => logger.LogError(format, args);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
    }
#pragma warning restore CA2254
}
