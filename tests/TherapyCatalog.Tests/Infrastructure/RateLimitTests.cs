using System.Net;
using Microsoft.AspNetCore.Hosting;

namespace TherapyCatalog.Tests.Infrastructure;

public sealed class RateLimitedCatalogApiFactory : CatalogApiFactory
{
    public const int ReadsPerMinute = 5;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:RateLimits:ReadsPerMinute", ReadsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

public class RateLimitTests(RateLimitedCatalogApiFactory api) : IClassFixture<RateLimitedCatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task Reads_over_the_limit_get_429_with_retry_after_and_ratelimit_headers()
    {
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < RateLimitedCatalogApiFactory.ReadsPerMinute + 1; i++)
        {
            answers.Add(await _client.GetAsync("/v1/therapies/kymriah"));
        }

        Assert.All(answers.Take(RateLimitedCatalogApiFactory.ReadsPerMinute), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var first = answers[0];
        Assert.Equal($"\"reads\";q={RateLimitedCatalogApiFactory.ReadsPerMinute};w=60", Assert.Single(first.Headers.GetValues("RateLimit-Policy")));
        Assert.StartsWith($"\"reads\";r={RateLimitedCatalogApiFactory.ReadsPerMinute - 1};t=", Assert.Single(first.Headers.GetValues("RateLimit")), StringComparison.Ordinal);

        var refused = answers[^1];
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.NotNull(refused.Headers.RetryAfter);
        // Health probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
    }
}
