using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Reads kept while nothing has changed (<see cref="EpochCache{TValue}"/>), counted as hits and
/// misses in a metric of their own, and only where the response cache is on
/// (<c>Catalog:ResponseCache:Enabled=false</c>, or read replicas, turn them off: every read then
/// reaches the database). Bounded as the <see cref="EpochCache{TValue}"/> under it: by entries, and by weight.
/// </summary>
public sealed class KeptReads<TValue> where TValue : class
{
    private readonly EpochCache<TValue>? _entries;
    private long _hits;
    private long _misses;

    public KeptReads(
        string metricName, string description, int maxEntries,
        ChangeSignal signal, IOptions<CatalogOptions> options, IConfiguration configuration, CatalogMetrics metrics,
        Func<TValue, long>? weigh = null, long maxWeight = long.MaxValue)
    {
        _entries = ResponseCache.IsEnabled(options.Value, configuration) ? new(signal, maxEntries, weigh, maxWeight) : null;
        metrics.Meter.CreateObservableCounter(metricName, () => new[]
        {
            new Measurement<long>(Hits, new KeyValuePair<string, object?>("result", "hit")),
            new Measurement<long>(Misses, new KeyValuePair<string, object?>("result", "miss")),
        }, "{lookup}", description);
    }

    public long Hits => Volatile.Read(ref _hits);

    public long Misses => Volatile.Read(ref _misses);

    /// <summary>
    /// The value kept for <paramref name="key"/> when nothing changed since it was read and
    /// <paramref name="serves"/> says it answers this request; else what <paramref name="read"/>
    /// finds, kept for the next request.
    /// </summary>
    public async Task<TValue> GetAsync(string key, Func<TValue, bool> serves, Func<Task<TValue>> read)
    {
        if (_entries is null)
        {
            return await read();
        }

        var epoch = _entries.BeforeRead();
        if (_entries.Current(key) is { } known && serves(known))
        {
            Interlocked.Increment(ref _hits);
            return known;
        }

        Interlocked.Increment(ref _misses);
        var value = await read();
        _entries.Store(key, epoch, value);
        return value;
    }
}

public static class KeptReadsServices
{
    /// <summary>Registers a <see cref="KeptReads{TValue}"/> of at most <paramref name="maxEntries"/> values (and <paramref name="maxWeight"/>), counted in <paramref name="metricName"/>.</summary>
    public static IServiceCollection AddKeptReads<TValue>(
        this IServiceCollection services, string metricName, string description, int maxEntries,
        Func<TValue, long>? weigh = null, long maxWeight = long.MaxValue)
        where TValue : class =>
        services.AddSingleton(sp => new KeptReads<TValue>(
            metricName, description, maxEntries, sp.GetRequiredService<ChangeSignal>(), sp.GetRequiredService<IOptions<CatalogOptions>>(),
            sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<CatalogMetrics>(), weigh, maxWeight));
}
