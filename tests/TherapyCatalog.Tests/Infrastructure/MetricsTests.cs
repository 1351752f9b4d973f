using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Infrastructure;

public sealed class MetricsEnabledApiFactory : CatalogApiFactory
{
    public const int ReadsPerMinute = 40;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:Metrics:Enabled", "true");
        builder.UseSetting("Catalog:RateLimits:ReadsPerMinute", ReadsPerMinute.ToString(CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// OpenTelemetry listens to meters by name, process-wide: an application started by another test
/// class at the same time would add its requests, pools and gauges to these scrapes. So the classes
/// that scrape run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}

/// <summary>
/// /metrics (Prometheus text exposition format) after a short load shows every series docs/operations.md
/// promises. Series are matched by the names the instruments are created with (OpenTelemetry's
/// Prometheus exporter writes dots as underscores, adds the unit suffix and _total to counters).
/// </summary>
[Collection(MetricsCollection.Name)]
public partial class MetricsTests(MetricsEnabledApiFactory api, ITestOutputHelper output) : IClassFixture<MetricsEnabledApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task After_a_short_load_metrics_show_requests_pool_cache_rate_limits_database_refusals_and_feed_lag()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var list = $"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(list)).StatusCode); // a miss
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(list)).StatusCode); // a hit
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/v1/therapies/kymriah")).StatusCode);

        // Read the change feed to its end: the newest position handed out is the newest change, then one more change.
        string? after = null;
        while (true)
        {
            var page = System.Text.Json.JsonDocument.Parse(await _client.GetStringAsync($"/v1/changes?limit=1000{(after is null ? "" : "&after=" + after)}")).RootElement;
            after = page.GetProperty("nextCursor").GetString();
            if (page.GetProperty("changes").GetArrayLength() < 1000)
            {
                break;
            }
        }

        var created = await _client.SendAsync(Therapies.TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, Therapies.TherapyBodies.Body(Therapies.TherapyBodies.NewCarT())));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Reads until the limit refuses one.
        HttpStatusCode status;
        var reads = 0;
        do
        {
            status = (await _client.GetAsync("/v1/therapies/kymriah")).StatusCode;
        }
        while (status != HttpStatusCode.TooManyRequests && ++reads <= MetricsEnabledApiFactory.ReadsPerMinute);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);

        // The lag is sampled every few seconds: scrape until the sample after the write is in (bounded, not timed).
        var text = "";
        for (var attempt = 0; attempt < 60 && Value(text, "catalog_change_feed_lag", "") is not 1; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(500);
            }

            var scrape = await _client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode); // never rate limited
            Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            text = await scrape.Content.ReadAsStringAsync();
        }

        output.WriteLine(text);
        // Requests by route and status, with latency histograms (ASP.NET Core's http.server.request.duration).
        Assert.True(Value(text, "http_server_request_duration_seconds_count", "http_route=\"/v1/therapies/{idOrSlug}\"", "http_response_status_code=\"200\"") >= 1);
        Assert.True(Value(text, "http_server_request_duration_seconds_bucket", "http_request_method=\"GET\"", "http_route=\"/v1/therapies/\"", "le=\"+Inf\"") >= 2);
        Assert.True(Value(text, "http_server_request_duration_seconds_count", "http_response_status_code=\"429\"") >= 1);
        // Database pool use (Npgsql's meter; waits are BusyPoolMetricsTests'), under the pool's name rather than its connection string.
        Assert.True(Value(text, "db_client_connection_count", Pool, "db_client_connection_state=\"used\"") >= 1); // the change listener's
        Assert.NotNull(Value(text, "db_client_connection_count", Pool, "db_client_connection_state=\"idle\""));
        Assert.Equal(100, Value(text, "db_client_connection_max", Pool)); // Npgsql's default Max Pool Size
        Assert.True(Value(text, "db_client_connection_npgsql_create_time_seconds_count", Pool) >= 1);
        // Change-feed lag: the one change made after the feed was read to its end.
        Assert.Equal(1, Value(text, "catalog_change_feed_lag", ""));
        Assert.True(Value(text, "catalog_change_feed_lag_age_seconds", "") >= 0);
        // Response cache hits and misses.
        Assert.True(Value(text, "catalog_response_cache_requests_total", "result=\"hit\"") >= 1);
        Assert.True(Value(text, "catalog_response_cache_requests_total", "result=\"miss\"") >= 1);
        // Rate-limit rejections (ASP.NET Core's rate limiter meter).
        Assert.True(Value(text, "aspnetcore_rate_limiting_requests_total", "aspnetcore_rate_limiting_result=\"global_limiter\"") >= 1);
        // Requests refused for too many bad keys from one address (none here): counted apart, as they never reach the limiter.
        Assert.Equal(0, Value(text, "catalog_authentication_locked_out_requests_total", ""));
        // 503s for a busy pool, apart from those for an unreachable database (none here).
        Assert.Equal(0, Value(text, "catalog_database_refused_requests_total", "reason=\"busy\""));
        Assert.Equal(0, Value(text, "catalog_database_refused_requests_total", "reason=\"unavailable\""));
    }

    public const string Pool = "db_client_connection_pool_name=\"catalog\"";

    /// <summary>
    /// The value of the first sample of <paramref name="name"/> whose labels contain every one of
    /// <paramref name="labels"/> (or any sample, for ""), or null when there is none.
    /// </summary>
    public static double? Value(string text, string name, params string[] labels)
    {
        foreach (Match sample in Sample().Matches(text))
        {
            if (sample.Groups["name"].Value == name && labels.All(l => sample.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                return sample.Groups["value"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    // Label values are quoted and may hold braces (http_route="/v1/therapies/{idOrSlug}").
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>(?:[^""}]|""(?:[^""\\]|\\.)*"")*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}

/// <summary>The busy pool of <see cref="Reliability.BusyPoolTests"/>, with metrics on.</summary>
public sealed class BusyPoolMetricsApiFactory : Reliability.BusyPoolApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:Metrics:Enabled", "true");
    }
}

[Collection(MetricsCollection.Name)]
public class BusyPoolMetricsTests(BusyPoolMetricsApiFactory api) : IClassFixture<BusyPoolMetricsApiFactory>
{
    [Fact]
    public async Task A_busy_pool_503_is_counted_as_busy_not_unavailable_and_the_pool_wait_timeout_shows()
    {
        var client = api.CreateClient();
        HttpResponseMessage busy;
        await using (await api.HoldThePoolAsync())
        {
            busy = await client.GetAsync($"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}");
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        var text = await client.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsTests.Value(text, "catalog_database_refused_requests_total", "reason=\"busy\""));
        Assert.Equal(0, MetricsTests.Value(text, "catalog_database_refused_requests_total", "reason=\"unavailable\""));
        Assert.Equal(Reliability.BusyPoolApiFactory.PoolSize, MetricsTests.Value(text, "db_client_connection_max", MetricsTests.Pool));
        Assert.True(MetricsTests.Value(text, "db_client_connection_npgsql_timeouts_total", MetricsTests.Pool) >= 1);
        Assert.NotNull(MetricsTests.Value(text, "db_client_connection_npgsql_pending_requests", MetricsTests.Pool));
    }
}

public class MetricsDisabledTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    [Fact]
    public async Task Without_Catalog_Metrics_Enabled_there_is_no_metrics_endpoint()
    {
        var answer = await api.CreateClient().GetAsync("/metrics");

        await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.NotFound);
    }
}
