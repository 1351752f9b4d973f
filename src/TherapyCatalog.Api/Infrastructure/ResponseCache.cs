using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Whole answers of the public reads (lists, facets, conditions, one therapy) kept in memory by
/// ASP.NET Core's output cache, so a popular query is answered without a database round trip.
/// An entry belongs to one <see cref="ChangeSignal.Epoch"/>, which is part of its key, and is
/// stored only if the epoch is still the one read before the request ran: the same reasoning as
/// <c>TherapyETags</c> (every committed change NOTIFYs, this process's own writes move the epoch
/// before they answer, a deaf listener turns the cache off). So an answer from here is never older
/// than one read from the database would be, except for a change committed by another process whose
/// notification is still in flight.
/// <para>
/// The key is the method, scheme, host, path (case-sensitive: slugs and cursors are) and every query
/// value (ordinal). Only anonymous GETs answered 200 are stored (the output cache's default policy);
/// a caller with an API key always reads the database. An answer is stored the second time its
/// path and query are asked for (of the last <see cref="AdmissionMemory"/> asked, in any epoch), as
/// <c>proxy_cache_min_uses 2</c> does: most distinct searches are asked once, and storing each of
/// them cost a copy, memory and compaction for nothing (the kit's distinct searches ran 11% faster
/// without). Off when reads go to replicas
/// (<c>ConnectionStrings:CatalogRead</c>: a replica can lag behind a notification already received)
/// or when <c>Catalog:ResponseCache:Enabled</c> is false. Rate limits still apply to every request:
/// the limiter runs before the cache.
/// </para>
/// </summary>
public static class ResponseCache
{
    public const string Policy = "catalog-reads";

    /// <summary>How many paths (as hashes) are remembered as asked for once; beyond that it starts over.</summary>
    public const int AdmissionMemory = 100_000;

    /// <summary>Entries are also dropped after this long: a backstop for memory, not for freshness.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(5);

    public static IServiceCollection AddCatalogResponseCache(this IServiceCollection services) =>
        services.AddOutputCache(options =>
        {
            options.UseCaseSensitivePaths = true;
            options.SizeLimit = 64 * 1024 * 1024;
            options.AddPolicy(Policy, policy => policy.AddPolicy<EpochPolicy>().Expire(Expiry));
        });

    public static IApplicationBuilder UseCatalogResponseCache(this IApplicationBuilder app) => app.UseOutputCache();

    /// <summary>
    /// Whether answers are kept per epoch (here, and the condition matches): not when switched off,
    /// nor with read replicas, which may return a version older than a notification already received.
    /// </summary>
    public static bool IsEnabled(CatalogOptions options, IConfiguration configuration) =>
        options.ResponseCache.Enabled
        && string.IsNullOrWhiteSpace(configuration.GetConnectionString(CatalogDatabase.ReadConnectionStringName));

    /// <summary>Answers of this endpoint may come from the response cache.</summary>
    public static TBuilder CachedPerEpoch<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.CacheOutput(Policy);

    /// <summary>
    /// Keys an entry by the epoch read before the request ran; stores it only if no change was
    /// signalled since. Entries of an epoch gone by can never be looked up again: the first request
    /// that sees a new epoch evicts the previous one's (tagged with it), rather than leave them to
    /// expire while writes keep the epoch moving.
    /// </summary>
    private sealed class EpochPolicy(
        ChangeSignal signal, IOutputCacheStore store, IOptions<CatalogOptions> options, IConfiguration configuration, CatalogMetrics metrics)
        : IOutputCachePolicy
    {
        private static readonly object EpochItem = new();
        private long _lastEpoch = -1;

        // The hashes of paths asked for (with their query): a collision only stores an answer one request early.
        private readonly ConcurrentDictionary<int, bool> _asked = new();
        private int _askedCount;

        private readonly bool _enabled = IsEnabled(options.Value, configuration);

        public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellationToken)
        {
            signal.StartListening();
            if (_enabled && signal.Epoch is { } epoch)
            {
                var tag = Tag(epoch);
                context.CacheVaryByRules.VaryByValues["epoch"] = tag;
                context.Tags.Add(tag);
                context.HttpContext.Items[EpochItem] = epoch;
                context.AllowCacheStorage = AskedBefore(context.HttpContext.Request);
                if (Interlocked.Exchange(ref _lastEpoch, epoch) is var previous && previous != epoch && previous >= 0)
                {
                    _ = store.EvictByTagAsync(Tag(previous), CancellationToken.None).AsTask();
                }
            }
            else
            {
                context.AllowCacheLookup = false;
                context.AllowCacheStorage = false;
                metrics.ResponseCacheBypass();
            }

            return ValueTask.CompletedTask;
        }

        private bool AskedBefore(HttpRequest request)
        {
            var hash = HashCode.Combine(
                string.GetHashCode(request.Path.Value, StringComparison.Ordinal),
                string.GetHashCode(request.QueryString.Value, StringComparison.Ordinal));
            if (_asked.ContainsKey(hash))
            {
                return true;
            }

            // Counted here: ConcurrentDictionary.Count takes every lock of the table.
            if (Interlocked.Increment(ref _askedCount) > AdmissionMemory)
            {
                _asked.Clear();
                Interlocked.Exchange(ref _askedCount, 1);
            }

            _asked[hash] = true;
            return false;
        }

        private static string Tag(long epoch) => "epoch-" + epoch.ToString(CultureInfo.InvariantCulture);

        public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellationToken)
        {
            metrics.ResponseCacheHit();
            return ValueTask.CompletedTask;
        }

        public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellationToken)
        {
            if (context.AllowCacheLookup)
            {
                metrics.ResponseCacheMiss();
            }

            if (context.HttpContext.Items[EpochItem] is not long epoch || signal.Epoch != epoch)
            {
                context.AllowCacheStorage = false;
            }

            return ValueTask.CompletedTask;
        }
    }
}
