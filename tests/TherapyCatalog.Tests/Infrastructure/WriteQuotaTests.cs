using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Therapies;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Infrastructure;

public sealed class WriteQuotaCatalogApiFactory : CatalogApiFactory
{
    public const int WritesPerMinute = 5;
    public const int FailedAuthenticationsPerMinute = 30;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:RateLimits:WritesPerMinute", WritesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Catalog:RateLimits:FailedAuthenticationsPerMinute", FailedAuthenticationsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// The write quota belongs to the key that authenticated, and made-up keys buy nothing: each one
/// counts against the client's address, which after a few dozen a minute gets 429s without any
/// key being looked up, while the limiter's bookkeeping stays bounded however many keys it sees.
/// </summary>
public class WriteQuotaTests(WriteQuotaCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<WriteQuotaCatalogApiFactory>
{
    private static HttpRequestMessage Delete(string key) =>
        TherapyBodies.Request(HttpMethod.Delete, $"/v1/therapies/{Guid.NewGuid()}", key);

    private static string MadeUpKey() => "tc_" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Each_key_has_its_own_quota_and_made_up_keys_do_not_spend_or_buy_any()
    {
        var client = api.CreateClient();
        var first = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var second = await TestApiKeys.CreateAsync(api, ["catalog:write"]);

        var firstAnswers = new List<HttpStatusCode>();
        for (var i = 0; i <= WriteQuotaCatalogApiFactory.WritesPerMinute; i++)
        {
            // Deleting a therapy that does not exist is a write that changes nothing: 404 until the quota is spent.
            firstAnswers.Add((await client.SendAsync(Delete(first))).StatusCode);
        }

        var secondAnswer = (await client.SendAsync(Delete(second))).StatusCode;

        Assert.All(firstAnswers.Take(WriteQuotaCatalogApiFactory.WritesPerMinute), s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, firstAnswers[^1]);
        Assert.Equal(HttpStatusCode.NotFound, secondAnswer);
    }

    [Fact]
    public async Task Three_hundred_writes_with_a_new_made_up_key_each_meet_a_429_and_the_bookkeeping_stays_bounded()
    {
        // A factory of its own: the lock-out is per address, and every test client shares one. Its
        // address's write quota is set high, so what answers 429 is the failed-authentication limit.
        using var fresh = api.WithWebHostBuilder(builder => builder.UseSetting("Catalog:RateLimits:WritesPerMinute", "1000000"));
        var client = fresh.CreateClient();
        var limiter = fresh.Services.GetRequiredService<CatalogRateLimiter>();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 300; i++)
        {
            using var response = await client.SendAsync(Delete(MadeUpKey()));
            statuses.Add(response.StatusCode);
        }

        var firstRefusal = statuses.IndexOf(HttpStatusCode.TooManyRequests);
        output.WriteLine($"300 made-up keys: {string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key} × {g.Count()}"))}; first 429 at request {firstRefusal + 1}");
        Assert.Equal(WriteQuotaCatalogApiFactory.FailedAuthenticationsPerMinute, firstRefusal);
        Assert.All(statuses.Take(firstRefusal), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(firstRefusal), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        // Locked out, the address's keys are not looked up: a valid one is refused too until the window ends.
        var valid = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        using (var refused = await client.SendAsync(Delete(valid)))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, 30_000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, ct) =>
        {
            using var response = await client.SendAsync(Delete(MadeUpKey()), ct);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        });

        // The process's memory is measured by tests/benchmarks/made-up-keys.sh (other test classes share this one).
        output.WriteLine($"30,000 more made-up keys: rate-limit windows tracked: {limiter.TrackedWindows}");
        // One window per partition (this address's reads, writes and failed authentications), not one per key presented.
        Assert.InRange(limiter.TrackedWindows, 1, 5);
    }
}
