using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

public static class CatalogDatabase
{
    public const string ConnectionStringName = "Catalog";

    /// <summary>
    /// The connection string from <c>ConnectionStrings:Catalog</c>, with short timeouts unless the
    /// operator chose others: when PostgreSQL is down a request must fail fast with a 503, not hang.
    /// </summary>
    public static string ConnectionString(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} is not set (environment ConnectionStrings__{ConnectionStringName}). " +
                "Start the service with ./run.sh to get a local PostgreSQL, or see README.md.");
        }

        var builder = new NpgsqlConnectionStringBuilder(configured);
        if (!configured.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 3;
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

        builder.ApplicationName ??= "therapy-catalog";
        return builder.ConnectionString;
    }

    /// <summary>One <see cref="NpgsqlDataSource"/> (and so one connection pool) for the process.</summary>
    public static IServiceCollection AddCatalogDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => NpgsqlDataSource.Create(ConnectionString(configuration)));
        return services;
    }

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
}
