using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Conditions;

/// <summary>
/// The matcher's answers, kept per <see cref="ChangeSignal.Epoch"/> like the response cache's: what
/// a typed text means depends on the condition vocabulary alone, and searches repeat a text with
/// other filters, limits and pages far more often than they repeat a whole URL (in the kit's
/// distinct-search workload, 72% of condition searches repeat an earlier text). A search whose
/// text was matched in this epoch skips the matcher's round trip and runs its page query alone.
/// An entry is read only while the epoch it was stored under is current, and stored only if the
/// epoch did not move while the matcher ran (every change to the conditions announces itself), so
/// it is never older than the last change this process was told of. Off where the response cache
/// is (<c>Catalog:ResponseCache:Enabled=false</c>, or read replicas); at most 10,000 entries.
/// </summary>
public sealed class ConditionMatchCache : IDisposable
{
    private readonly MemoryCache _entries = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly ChangeSignal _signal;
    private readonly bool _enabled;
    private long _hits;
    private long _misses;

    public ConditionMatchCache(ChangeSignal signal, IOptions<CatalogOptions> options, IConfiguration configuration, CatalogMetrics metrics)
    {
        _signal = signal;
        _enabled = ResponseCache.IsEnabled(options.Value, configuration);
        metrics.Meter.CreateObservableCounter("catalog.condition_match_cache.lookups", () => new[]
        {
            new Measurement<long>(Hits, new KeyValuePair<string, object?>("result", "hit")),
            new Measurement<long>(Misses, new KeyValuePair<string, object?>("result", "miss")),
        }, "{lookup}", "Condition texts searches asked for: found among the matches kept this epoch (hit), or matched by the database (miss)");
    }

    public long Hits => Volatile.Read(ref _hits);

    public long Misses => Volatile.Read(ref _misses);

    /// <summary>The conditions each query means (<see cref="ConditionMatcher.MatchAsync"/>), from this epoch's entry when there is one.</summary>
    public async Task<IReadOnlyList<ConditionMatch>> MatchAsync(
        CatalogSnapshot snapshot, IReadOnlyList<(string Source, ConditionQuery Query)> queries, CancellationToken ct)
    {
        if (queries.Count == 0 || !_enabled)
        {
            return await ConditionMatcher.MatchAsync(snapshot, queries, ct);
        }

        _signal.StartListening();
        if (_signal.Epoch is not { } epoch)
        {
            return await ConditionMatcher.MatchAsync(snapshot, queries, ct);
        }

        var key = (epoch, string.Join('\u001f', queries.Select(q => $"{q.Source}\u001e{q.Query.Text}\u001e{q.Query.Code}")));
        if (_entries.TryGetValue(key, out IReadOnlyList<ConditionMatch>? known) && known is not null)
        {
            Interlocked.Increment(ref _hits);
            return known;
        }

        Interlocked.Increment(ref _misses);
        var matches = await ConditionMatcher.MatchAsync(snapshot, queries, ct);
        if (_signal.Epoch == epoch)
        {
            _entries.Set(key, matches, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = ResponseCache.Expiry });
        }

        return matches;
    }

    public void Dispose() => _entries.Dispose();
}
