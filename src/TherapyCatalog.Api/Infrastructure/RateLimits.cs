using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Fixed-window limits from ASP.NET Core's rate limiter: writes per authenticated API key (per
/// client address without a valid one), reads per client address; health probes are not limited.
/// Over the limit a request gets a 429 problem with Retry-After; every limited answer carries the
/// IETF RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers), so clients can
/// pace themselves. Failed authentications are counted per client address too: once an address has
/// used up <see cref="CatalogOptions.RateLimitOptions.FailedAuthenticationsPerMinute"/>, its keys
/// are not even looked up until the window ends (429), so a stream of made-up keys buys neither
/// quota nor database work. All bookkeeping is bounded: the limiter drops idle partitions, and the
/// window starts live in a size-limited cache that forgets a partition two windows after its last use.
/// </summary>
public sealed class CatalogRateLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly CatalogOptions.RateLimitOptions _settings;
    private readonly TimeProvider _clock;
    private readonly MemoryCache _windowStarts = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly PartitionedRateLimiter<string> _failedAuthentications;

    public CatalogRateLimiter(CatalogOptions.RateLimitOptions settings, TimeProvider clock)
    {
        _settings = settings;
        _clock = clock;
        Limiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            var (policy, partition) = Classify(http);
            return policy is null
                ? RateLimitPartition.GetNoLimiter(partition)
                : RateLimitPartition.GetFixedWindowLimiter(partition, key => WindowOf(key, Quota(policy)));
        });
        _failedAuthentications = PartitionedRateLimiter.Create<string, string>(client =>
            RateLimitPartition.GetFixedWindowLimiter("auth:" + client, key => WindowOf(key, _settings.FailedAuthenticationsPerMinute)));
    }

    public PartitionedRateLimiter<HttpContext> Limiter { get; }

    /// <summary>How many partitions' window starts are being kept (bounded; for the tests).</summary>
    public int TrackedWindows => _windowStarts.Count;

    /// <summary>True when this client address has used up its failed authentications for the window.</summary>
    public bool IsLockedOut(HttpContext http) =>
        _failedAuthentications.GetStatistics(ClientOf(http)) is { CurrentAvailablePermits: <= 0 };

    /// <summary>Counts a presented key that is unknown or revoked against the client's address.</summary>
    public void CountFailedAuthentication(HttpContext http)
    {
        using var _ = _failedAuthentications.AttemptAcquire(ClientOf(http));
    }

    /// <summary>Seconds until a locked-out client may present a key again.</summary>
    public int SecondsUntilUnlocked(HttpContext http) => SecondsToReset("auth:" + ClientOf(http));

    private FixedWindowRateLimiterOptions WindowOf(string partition, int quota)
    {
        _windowStarts.Set(partition, _clock.GetUtcNow(), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = 2 * Window });
        return new FixedWindowRateLimiterOptions { PermitLimit = quota, Window = Window, QueueLimit = 0, AutoReplenishment = true };
    }

    private static string ClientOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static (string? Policy, string Partition) Classify(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null)
        {
            return (null, "unlimited");
        }

        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method))
        {
            return ("reads", $"reads:{ClientOf(http)}");
        }

        // Authentication has run: the quota is the key's, whatever header a request presents.
        return ("writes", http.User.Identity is { IsAuthenticated: true, AuthenticationType: ApiKeyAuthentication.Scheme }
            ? $"writes:key:{ApiKeyAuthentication.KeyId(http.User)}"
            : $"writes:{ClientOf(http)}");
    }

    private int Quota(string policy) => policy == "reads" ? _settings.ReadsPerMinute : _settings.WritesPerMinute;

    internal Task AddHeaders(HttpContext http)
    {
        var (policy, partition) = Classify(http);
        if (policy is null || Limiter.GetStatistics(http) is not { } statistics)
        {
            return Task.CompletedTask;
        }

        var headers = http.Response.Headers;
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"\"{policy}\";q={Quota(policy)};w={(int)Window.TotalSeconds}");
        headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture, $"\"{policy}\";r={statistics.CurrentAvailablePermits};t={SecondsToReset(partition)}");
        return Task.CompletedTask;
    }

    // The built-in fixed window restarts every Window from the partition's creation.
    private int SecondsToReset(string partition)
    {
        if (!_windowStarts.TryGetValue(partition, out DateTimeOffset start))
        {
            return (int)Window.TotalSeconds;
        }

        var elapsed = (_clock.GetUtcNow() - start).Ticks % Window.Ticks;
        return (int)Math.Ceiling(TimeSpan.FromTicks(Window.Ticks - elapsed).TotalSeconds);
    }

    public void Dispose()
    {
        Limiter.Dispose();
        _failedAuthentications.Dispose();
        _windowStarts.Dispose();
    }

    internal async ValueTask RejectAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
            ? (int)Math.Ceiling(wait.TotalSeconds)
            : SecondsToReset(Classify(http).Partition);
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await Problems.WriteAsync(http, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"The rate limit for this client is used up. Retry after {retryAfter} seconds.");
    }
}

public static class RateLimits
{
    public static IServiceCollection AddCatalogRateLimits(this IServiceCollection services)
    {
        services.AddSingleton(sp => new CatalogRateLimiter(
            sp.GetRequiredService<IOptions<CatalogOptions>>().Value.RateLimits, sp.GetRequiredService<TimeProvider>()));
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<CatalogRateLimiter>((options, limits) =>
        {
            options.GlobalLimiter = limits.Limiter;
            options.OnRejected = limits.RejectAsync;
        });
        return services;
    }

    public static IApplicationBuilder UseCatalogRateLimits(this IApplicationBuilder app)
    {
        var limits = app.ApplicationServices.GetRequiredService<CatalogRateLimiter>();
        app.Use((http, next) =>
        {
            http.Response.OnStarting(() => limits.AddHeaders(http));
            return next(http);
        });
        app.UseRateLimiter();
        return app;
    }
}
