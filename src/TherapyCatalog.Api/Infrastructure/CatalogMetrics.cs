using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// What an operator scrapes at <c>/metrics</c> (Prometheus text, from OpenTelemetry), only when
/// <c>Catalog:Metrics:Enabled</c>: ASP.NET Core's own request, Kestrel and rate-limiter meters,
/// Npgsql's pool meter, and the service's own meter (<see cref="MeterName"/>) with the 503s the
/// database caused (busy apart from unavailable), the response cache's hits and misses, and the
/// change-feed lag (Sync/ChangeFeedLag.cs). docs/operations.md lists every series.
/// </summary>
public sealed class CatalogMetrics
{
    public const string MeterName = "TherapyCatalog";
    public const string Path = "/metrics";

    private long _busy;
    private long _unavailable;
    private long _cacheHits;
    private long _cacheMisses;
    private long _cacheBypasses;
    private long _lockouts;

    public CatalogMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        // Observable counters: every series is there from the first scrape, at 0 until something happens.
        Meter.CreateObservableCounter("catalog.database.refused_requests", () => new[]
        {
            new Measurement<long>(Volatile.Read(ref _busy), new KeyValuePair<string, object?>("reason", "busy")),
            new Measurement<long>(Volatile.Read(ref _unavailable), new KeyValuePair<string, object?>("reason", "unavailable")),
        }, "{request}", "Requests answered 503 because of the database: busy (no connection came free in time), unavailable (it cannot be reached)");
        Meter.CreateObservableCounter("catalog.response_cache.requests", () => new[]
        {
            new Measurement<long>(Volatile.Read(ref _cacheHits), new KeyValuePair<string, object?>("result", "hit")),
            new Measurement<long>(Volatile.Read(ref _cacheMisses), new KeyValuePair<string, object?>("result", "miss")),
            new Measurement<long>(Volatile.Read(ref _cacheBypasses), new KeyValuePair<string, object?>("result", "bypass")),
        }, "{request}", "Reads of cacheable endpoints: answered from the response cache (hit), from the database (miss), or with the cache off (bypass)");
        Meter.CreateObservableCounter("catalog.authentication.locked_out_requests", () => Volatile.Read(ref _lockouts),
            "{request}", "Requests answered 429 without a key lookup: their address presented too many unknown or revoked keys this minute");
    }

    public Meter Meter { get; }

    public void DatabaseBusy() => Interlocked.Increment(ref _busy);

    public void DatabaseUnavailable() => Interlocked.Increment(ref _unavailable);

    public void ResponseCacheHit() => Interlocked.Increment(ref _cacheHits);

    public void ResponseCacheMiss() => Interlocked.Increment(ref _cacheMisses);

    public void ResponseCacheBypass() => Interlocked.Increment(ref _cacheBypasses);

    public void AuthenticationLockedOut() => Interlocked.Increment(ref _lockouts);
}

public static class CatalogMetricsSetup
{
    public static IServiceCollection AddCatalogMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<CatalogMetrics>();
        if (!Enabled(configuration))
        {
            return services;
        }

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddAspNetCoreInstrumentation() // http.server.request.duration by route and status, Kestrel
            .AddMeter("Microsoft.AspNetCore.RateLimiting") // aspnetcore.rate_limiting.requests by result
            .AddMeter("Npgsql") // db.client.connection.* : pool use, waits, timeouts
            .AddMeter(CatalogMetrics.MeterName)
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// Maps <c>/metrics</c> when enabled: out of the OpenAPI document (it is for operators, not API
    /// clients, and absent by default) and out of the rate limits (a scraper must always be answered).
    /// </summary>
    public static IEndpointRouteBuilder MapCatalogMetrics(this IEndpointRouteBuilder app)
    {
        app.ServiceProvider.GetRequiredService<CatalogMetrics>(); // its series exist from the first scrape
        if (app.ServiceProvider.GetRequiredService<IOptions<CatalogOptions>>().Value.Metrics.Enabled)
        {
            app.MapPrometheusScrapingEndpoint(CatalogMetrics.Path).ExcludeFromDescription().DisableRateLimiting();
        }

        return app;
    }

    // Read before the options are built: the exporter is registered (or not) with the services.
    // The same value is bound into CatalogOptions, where a non-boolean stops the start.
    private static bool Enabled(IConfiguration configuration) =>
        configuration.GetValue<bool>($"{CatalogOptions.Section}:{nameof(CatalogOptions.Metrics)}:{nameof(CatalogOptions.MetricsOptions.Enabled)}");
}
