using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Conditions;

/// <summary>
/// The matcher's answers, kept like the response cache's (<see cref="EpochCache{TValue}"/>): what
/// a typed text means depends on the condition vocabulary alone, and searches repeat a text with
/// other filters, limits and pages far more often than they repeat a whole URL (in the kit's
/// distinct-search workload, 72% of condition searches repeat an earlier text). A search whose
/// text was matched since the last change skips the matcher's round trip and runs its page query
/// alone. Every change to the conditions announces itself (migration 0005), so an entry is never
/// older than the last change this process was told of. Off where the response cache is
/// (<c>Catalog:ResponseCache:Enabled=false</c>, or read replicas); at most 10,000 texts.
/// </summary>
public sealed class ConditionMatchCache
{
    private readonly EpochCache<IReadOnlyList<ConditionMatch>>? _entries;
    private long _hits;
    private long _misses;

    public ConditionMatchCache(ChangeSignal signal, IOptions<CatalogOptions> options, IConfiguration configuration, CatalogMetrics metrics)
    {
        _entries = ResponseCache.IsEnabled(options.Value, configuration) ? new(signal, 10_000) : null;
        metrics.Meter.CreateObservableCounter("catalog.condition_match_cache.lookups", () => new[]
        {
            new Measurement<long>(Hits, new KeyValuePair<string, object?>("result", "hit")),
            new Measurement<long>(Misses, new KeyValuePair<string, object?>("result", "miss")),
        }, "{lookup}", "Condition texts searches asked for: found among the matches kept since the last change (hit), or matched by the database (miss)");
    }

    public long Hits => Volatile.Read(ref _hits);

    public long Misses => Volatile.Read(ref _misses);

    /// <summary>The conditions each query means (<see cref="ConditionMatcher.MatchAsync"/>), as kept when nothing changed since.</summary>
    public async Task<IReadOnlyList<ConditionMatch>> MatchAsync(
        CatalogSnapshot snapshot, IReadOnlyList<(string Source, ConditionQuery Query)> queries, CancellationToken ct)
    {
        if (queries.Count == 0 || _entries is null)
        {
            return await ConditionMatcher.MatchAsync(snapshot, queries, ct);
        }

        var key = string.Join('\u001f', queries.Select(q => $"{q.Source}\u001e{q.Query.Text}\u001e{q.Query.Code}"));
        var epoch = _entries.BeforeRead();
        if (_entries.Current(key) is { } known)
        {
            Interlocked.Increment(ref _hits);
            return known;
        }

        Interlocked.Increment(ref _misses);
        var matches = await ConditionMatcher.MatchAsync(snapshot, queries, ct);
        _entries.Store(key, epoch, matches);
        return matches;
    }
}
