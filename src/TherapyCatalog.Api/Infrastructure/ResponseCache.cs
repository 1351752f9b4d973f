using System.Globalization;
using Microsoft.AspNetCore.OutputCaching;
using TherapyCatalog.Api.Sync;

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
/// a caller with an API key always reads the database. Off when reads go to replicas
/// (<c>ConnectionStrings:CatalogRead</c>: a replica can lag behind a notification already received)
/// or when <c>Catalog:ResponseCache:Enabled</c> is false. Rate limits still apply to every request:
/// the limiter runs before the cache.
/// </para>
/// </summary>
public static class ResponseCache
{
    public const string Policy = "catalog-reads";

    /// <summary>Entries are also dropped after this long: it bounds the memory of epochs gone by, not freshness.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(5);

    public static IServiceCollection AddCatalogResponseCache(this IServiceCollection services) =>
        services.AddOutputCache(options =>
        {
            options.UseCaseSensitivePaths = true;
            options.SizeLimit = 64 * 1024 * 1024;
            options.AddPolicy(Policy, policy => policy.AddPolicy<EpochPolicy>().Expire(Expiry));
        });

    public static IApplicationBuilder UseCatalogResponseCache(this IApplicationBuilder app) => app.UseOutputCache();

    /// <summary>Answers of this endpoint may come from the response cache.</summary>
    public static TBuilder CachedPerEpoch<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.CacheOutput(Policy);

    /// <summary>Keys an entry by the epoch read before the request ran; stores it only if no change was signalled since.</summary>
    private sealed class EpochPolicy(ChangeSignal signal, IConfiguration configuration) : IOutputCachePolicy
    {
        private static readonly object EpochItem = new();

        private readonly bool _enabled =
            configuration.GetValue("Catalog:ResponseCache:Enabled", true)
            && string.IsNullOrWhiteSpace(configuration.GetConnectionString(CatalogDatabase.ReadConnectionStringName));

        public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellationToken)
        {
            signal.StartListening();
            if (_enabled && signal.Epoch is { } epoch)
            {
                context.CacheVaryByRules.VaryByValues["epoch"] = epoch.ToString(CultureInfo.InvariantCulture);
                context.HttpContext.Items[EpochItem] = epoch;
            }
            else
            {
                context.AllowCacheLookup = false;
                context.AllowCacheStorage = false;
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellationToken)
        {
            if (context.HttpContext.Items[EpochItem] is not long epoch || signal.Epoch != epoch)
            {
                context.AllowCacheStorage = false;
            }

            return ValueTask.CompletedTask;
        }
    }
}
