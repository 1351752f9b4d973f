using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

public static class CatalogDatabase
{
    public const string ConnectionStringName = "Catalog";

    /// <summary>The optional connection string for reads (PostgreSQL streaming replicas).</summary>
    public const string ReadConnectionStringName = "CatalogRead";

    /// <summary>
    /// The service key of the data source read endpoints use: <c>[FromKeyedServices(CatalogDatabase.Reads)]</c>.
    /// It is the replicas' (<c>ConnectionStrings:CatalogRead</c>) when configured, else the primary's.
    /// </summary>
    public const string Reads = "reads";

    /// <summary>
    /// The connection string from <c>ConnectionStrings:Catalog</c>, with short timeouts unless the
    /// operator chose others: when PostgreSQL is down a request must fail fast with a 503, not hang.
    /// </summary>
    public static string ConnectionString(IConfiguration configuration, int poolWaitSeconds = DefaultPoolWaitSeconds)
    {
        var configured = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} is not set (environment ConnectionStrings__{ConnectionStringName}). " +
                "Start the service with ./run.sh to get a local PostgreSQL, or see README.md.");
        }

        return WithDefaults(configured, poolWaitSeconds);
    }

    /// <summary>The default of <c>Catalog:Database:PoolWaitSeconds</c>.</summary>
    public const int DefaultPoolWaitSeconds = 5;

    private static string WithDefaults(string configured, int poolWaitSeconds)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured);
        if (!configured.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            // Timeout bounds both opening a connection and waiting for a free one in the pool: long
            // enough that a burst of requests queues for the pool instead of failing (DatabaseBusy
            // answers those that still wait too long), short enough that nothing hangs. A server
            // that is down refuses at once, whatever the wait.
            builder.Timeout = poolWaitSeconds;
            builder.CommandTimeout = 15;
        }

        // A connection leaves a request with no session state (settings, locks and READ ONLY are all
        // transaction-scoped; LISTEN lives on the change signal's own connection), so the pool's
        // DISCARD ALL on every return is pure cost: about 7% of a condition search's database time
        // (pgbench, tests/benchmarks). An explicit setting in the connection string wins.
        if (!configured.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        // No JIT: a condition search is a short query whose estimates (a recursive CTE over the
        // condition tree) are large enough to trigger it, and compiling cost over a second per
        // request with 20,000 conditions (19.8 ms without). tests/benchmarks/scale.sh shows it.
        if (!configured.Contains("jit", StringComparison.OrdinalIgnoreCase))
        {
            builder.Options = $"{builder.Options} -c jit=off".Trim();
        }

        // Prepared statements: a search's statements are planned once per connection instead of on
        // every request (planning cost about as much as running them). An explicit setting wins.
        if (!configured.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        builder.ApplicationName ??= "therapy-catalog";
        return builder.ConnectionString;
    }

    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> (and so one connection pool) for the primary, which every
    /// write, the change feed, the export and API-key checks use; and, keyed <see cref="Reads"/>, the
    /// one for the read endpoints: a second pool over <c>ConnectionStrings:CatalogRead</c> when it is
    /// set (Npgsql multi-host, e.g. <c>Host=replica1,replica2,primary;Target Session Attributes=prefer-standby</c>),
    /// otherwise the primary's own.
    /// </summary>
    public static IServiceCollection AddCatalogDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp => Build(ConnectionString(configuration, PoolWaitSeconds(sp)), PrimaryName));
        var reads = configuration.GetConnectionString(ReadConnectionStringName);
        if (string.IsNullOrWhiteSpace(reads))
        {
            services.AddKeyedSingleton(Reads, (sp, _) => sp.GetRequiredService<NpgsqlDataSource>());
        }
        else
        {
            services.AddKeyedSingleton(Reads, (sp, _) => Build(WithDefaults(reads, PoolWaitSeconds(sp)), ReadsName));
        }

        return services;
    }

    /// <summary>The pools' names in Npgsql's metrics (<c>db.client.connection.pool.name</c>), instead of the connection string.</summary>
    public const string PrimaryName = "catalog";

    public const string ReadsName = "catalog-reads";

    private static NpgsqlDataSource Build(string connectionString, string name) =>
        new NpgsqlDataSourceBuilder(connectionString) { Name = name }.Build();

    private static int PoolWaitSeconds(IServiceProvider services) =>
        services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CatalogOptions>>().Value.Database.PoolWaitSeconds;

    /// <summary>True for failures that mean "the database cannot be reached right now".</summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)   // connection exception
                                || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) // shutdown, cannot connect now
                                || pg.SqlState.StartsWith("53", StringComparison.Ordinal), // insufficient resources
        NpgsqlException => true,
        TimeoutException => true,
        _ when exception.InnerException is { } inner => IsUnavailable(inner),
        _ => false,
    };

    /// <summary>A LIKE pattern matches the value literally: its wildcards and escape character are escaped.</summary>
    public static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
