using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Sync;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>A clock the test moves: the service's TimeProvider.</summary>
public sealed class MovableClock : TimeProvider
{
    private long _ticks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

public class MovableClockApiFactory : CatalogApiFactory
{
    public MovableClock Clock { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));
    }
}

/// <summary>
/// "Not in the future" means the day the request comes, not the day the service started: the
/// validator is one instance for the process's life, so it reads the clock at each validation.
/// </summary>
public class ValidatorClockTests(MovableClockApiFactory api) : IClassFixture<MovableClockApiFactory>
{
    [Fact]
    public async Task An_approval_dated_tomorrow_is_refused_today_and_taken_once_tomorrow_has_come()
    {
        var client = api.CreateClient();
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var tomorrow = DateOnly.FromDateTime(api.Clock.GetUtcNow().UtcDateTime).AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        JsonObject Body()
        {
            var body = TherapyBodies.NewCarT(CatalogWriter.NewSlug("tomorrow"));
            body["approvals"]![0]!["approvedOn"] = tomorrow;
            body["listPrice"] = new JsonObject
            {
                ["amount"] = 1000, ["currency"] = "USD", ["year"] = int.Parse(tomorrow[..4], CultureInfo.InvariantCulture),
                ["source"] = "https://example.org/price", ["sourceKind"] = "company",
            };
            return body;
        }

        var today = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(Body())));
        var problem = await ProblemAssert.IsProblemAsync(today, HttpStatusCode.BadRequest);
        Assert.Contains(problem.GetProperty("errors").EnumerateObject(), e => e.Name.Contains("approvedOn", StringComparison.Ordinal));

        api.Clock.Advance(TimeSpan.FromDays(2));
        var later = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(Body())));

        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
    }
}
