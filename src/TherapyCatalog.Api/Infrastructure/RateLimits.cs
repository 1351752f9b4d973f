using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Fixed-window limits from ASP.NET Core's rate limiter: writes per API key (or per client address
/// without one), reads per client address. Health probes are not limited. Over the limit a request
/// gets a 429 problem with Retry-After; every limited answer carries the IETF RateLimit-Policy and
/// RateLimit headers (draft-ietf-httpapi-ratelimit-headers), so clients can pace themselves.
/// </summary>
public sealed class CatalogRateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly CatalogOptions.RateLimitOptions _settings;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _windowStarts = new();

    public CatalogRateLimiter(CatalogOptions.RateLimitOptions settings, TimeProvider clock)
    {
        _settings = settings;
        _clock = clock;
        Limiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            var (policy, partition) = Classify(http);
            if (policy is null)
            {
                return RateLimitPartition.GetNoLimiter(partition);
            }

            return RateLimitPartition.GetFixedWindowLimiter(partition, key =>
            {
                _windowStarts[key] = _clock.GetUtcNow();
                return new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Quota(policy), Window = Window, QueueLimit = 0, AutoReplenishment = true,
                };
            });
        });
    }

    public PartitionedRateLimiter<HttpContext> Limiter { get; }

    private static (string? Policy, string Partition) Classify(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null)
        {
            return (null, "unlimited");
        }

        var client = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method))
        {
            return ("reads", $"reads:{client}");
        }

        // Per key, by the key's hash: the key itself is never kept in memory longer than the request.
        var key = http.Request.Headers[ApiKeyAuthentication.Header].ToString();
        return ("writes", key.Length > 0 ? $"writes:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}" : $"writes:{client}");
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
        if (!_windowStarts.TryGetValue(partition, out var start))
        {
            return (int)Window.TotalSeconds;
        }

        var elapsed = (_clock.GetUtcNow() - start).Ticks % Window.Ticks;
        return (int)Math.Ceiling(TimeSpan.FromTicks(Window.Ticks - elapsed).TotalSeconds);
    }

    internal async ValueTask RejectAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
            ? (int)Math.Ceiling(wait.TotalSeconds)
            : SecondsToReset(Classify(http).Partition);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"The rate limit for this client is used up. Retry after {retryAfter} seconds.",
            },
        });
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
