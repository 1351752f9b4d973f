using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Tests.Infrastructure;

public class MigrationTests
{
    private const string CountsSql = """
        SELECT (SELECT count(*) FROM schemaversions) AS Scripts,
               (SELECT count(*) FROM seed_journal) AS DataFiles,
               (SELECT count(*) FROM conditions) AS Conditions,
               (SELECT count(*) FROM therapies) AS Therapies,
               (SELECT count(*) FROM therapy_versions) AS Versions,
               (SELECT count(*) FROM changes) AS Changes
        """;

    private static readonly string[] Scripts = typeof(CatalogMigrator).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)).ToArray();

    private static readonly int TherapyFiles = Directory.GetFiles(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "therapies"), "*.json").Length;
    private static readonly int DataFiles = TherapyFiles + Directory.GetFiles(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "conditions"), "*.json").Length;

    [Fact]
    public async Task Migrating_a_migrated_database_again_changes_nothing()
    {
        var connectionString = await PostgresServer.CreateCatalogDatabaseAsync();
        var before = await CountsAsync(connectionString);

        await CatalogMigrator.MigrateAsync(connectionString, CatalogDataSets.All, NullLogger.Instance);

        Assert.Equal(before, await CountsAsync(connectionString));
    }

    [Fact]
    public async Task Two_instances_starting_at_once_apply_every_script_and_file_exactly_once()
    {
        var connectionString = await PostgresServer.CreateEmptyDatabaseAsync();

        await Task.WhenAll(
            Task.Run(() => CatalogMigrator.MigrateAsync(connectionString, CatalogDataSets.All, NullLogger.Instance)),
            Task.Run(() => CatalogMigrator.MigrateAsync(connectionString, CatalogDataSets.All, NullLogger.Instance)));

        var counts = await CountsAsync(connectionString);
        Assert.Equal(Scripts.Length, counts.Scripts);
        Assert.Equal(DataFiles, counts.DataFiles);
        Assert.Equal(TherapyFiles, counts.Therapies);
        Assert.Equal(TherapyFiles, counts.Versions); // one version each: nothing written twice
        Assert.Equal(TherapyFiles, counts.Changes);
    }

    [Fact]
    public async Task Migrating_a_catalog_from_before_0006_derives_the_facet_sets_of_its_therapies()
    {
        // A catalog migrated and loaded before 0006 existed: 0006 undone by hand.
        var connectionString = await PostgresServer.CreateCatalogDatabaseAsync();
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await db.ExecuteAsync("""
            DROP STATISTICS therapies_facet_columns;
            DROP FUNCTION therapies_facet_sets_changed() CASCADE; -- and its triggers
            DROP FUNCTION therapies_facet_sets_refresh(uuid);
            ALTER TABLE therapies DROP COLUMN regulators, DROP COLUMN approval_years;
            DELETE FROM schemaversions WHERE scriptname = 'migrations/0006_facets.sql';
            """);

        await CatalogMigrator.MigrateAsync(connectionString, CatalogDataSets.All, NullLogger.Instance);

        Assert.Empty(await db.QueryAsync<string>(Therapies.SearchFacetWriteTests.SetsDifferingFromChildrenSql));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM therapies WHERE regulators = '{}'"));
    }

    private static async Task<Counts> CountsAsync(string connectionString)
    {
        await using var db = new NpgsqlConnection(connectionString);
        return await db.QuerySingleAsync<Counts>(CountsSql);
    }

    private sealed record Counts(long Scripts, long DataFiles, long Conditions, long Therapies, long Versions, long Changes);
}
