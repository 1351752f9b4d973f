using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Bounded concurrency toward PostgreSQL for the searches (<c>/v1/therapies</c>, <c>/v1/facets</c>,
/// <c>/v1/conditions</c>): at most <c>Catalog:Database:Concurrency</c> of them use the database at once
/// (default: the read pool's <c>Maximum Pool Size</c>), up to <c>Catalog:Database:QueueLength</c>
/// more wait their turn, oldest first, for at most <c>Catalog:Database:PoolWaitSeconds</c>; a
/// request that finds the queue full, or waits out its time, is answered 503 "busy" with
/// <c>Retry-After</c> at once, instead of joining an unbounded wait for a connection. A burst
/// queues briefly; an overload is told so. Answers from the response cache never reach the gate.
/// </summary>
public sealed class DatabaseGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly TimeSpan _wait;

    public DatabaseGate(IOptions<CatalogOptions> options, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource reads)
    {
        var database = options.Value.Database;
        Concurrency = database.Concurrency ?? new NpgsqlConnectionStringBuilder(reads.ConnectionString).MaxPoolSize;
        QueueLength = database.QueueLength;
        _wait = TimeSpan.FromSeconds(database.PoolWaitSeconds);
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = Concurrency,
            QueueLimit = QueueLength,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public int Concurrency { get; }

    public int QueueLength { get; }

    /// <summary>Requests waiting for their turn now.</summary>
    public long Waiting => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>A turn at the database, held until disposed; <see cref="DatabaseBusyException"/> when none comes.</summary>
    public async ValueTask<RateLimitLease> EnterAsync(CancellationToken aborted)
    {
        // A free turn needs no timer: only a request that has to wait gets one.
        var free = _limiter.AttemptAcquire(1);
        if (free.IsAcquired)
        {
            return free;
        }

        free.Dispose();
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        waiting.CancelAfter(_wait);
        RateLimitLease lease;
        try
        {
            lease = await _limiter.AcquireAsync(1, waiting.Token);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            throw new DatabaseBusyException($"No turn at the database came within {_wait.TotalSeconds:0} s ({Concurrency} requests at a time).");
        }

        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new DatabaseBusyException($"The queue for the database is full ({Concurrency} requests at a time, {QueueLength} waiting).");
        }

        return lease;
    }

    /// <summary>Runs <paramref name="next"/> in a turn at the database.</summary>
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        using var turn = await EnterAsync(context.HttpContext.RequestAborted);
        return await next(context);
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>The database gate turned a request away: answered 503 "busy" (see <see cref="DatabaseBusy"/>).</summary>
public sealed class DatabaseBusyException(string message) : Exception(message);

public static class DatabaseGateExtensions
{
    public static IServiceCollection AddDatabaseGate(this IServiceCollection services) => services.AddSingleton<DatabaseGate>();

    /// <summary>This endpoint's requests pass the <see cref="DatabaseGate"/> before they run.</summary>
    public static TBuilder WithDatabaseGate<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<DatabaseGate>().InvokeAsync(context, next));
}
