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
public sealed class ConditionMatchCache(ChangeSignal signal, IOptions<CatalogOptions> options, IConfiguration configuration, CatalogMetrics metrics)
{
    private readonly KeptReads<IReadOnlyList<ConditionMatch>> _entries = new(
        "catalog.condition_match_cache.lookups",
        "Condition texts searches asked for: found among the matches kept since the last change (hit), or matched by the database (miss)",
        10_000, signal, options, configuration, metrics);

    public long Hits => _entries.Hits;

    public long Misses => _entries.Misses;

    /// <summary>The conditions each query means (<see cref="ConditionMatcher.MatchAsync"/>), as kept when nothing changed since.</summary>
    public async Task<IReadOnlyList<ConditionMatch>> MatchAsync(
        CatalogSnapshot snapshot, IReadOnlyList<(string Source, ConditionQuery Query)> queries, CancellationToken ct)
    {
        if (queries.Count == 0)
        {
            return [];
        }

        var key = string.Join('\u001f', queries.Select(q => $"{q.Source}\u001e{q.Query.Text}\u001e{q.Query.Code}"));
        return await _entries.GetAsync(key, _ => true, () => ConditionMatcher.MatchAsync(snapshot, queries, ct));
    }
}
