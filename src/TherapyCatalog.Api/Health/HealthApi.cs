using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Health;

/// <summary>How healthy the service is, and each check's state.</summary>
public sealed record HealthAnswer(string Status, IReadOnlyDictionary<string, string> Checks);

/// <summary>
/// Liveness (the process answers) and readiness (the database answers too). An unready answer is
/// a 503 problem document with Retry-After, like any other outage answer. The checks themselves
/// are ASP.NET Core's health checks (the database one from AspNetCore.HealthChecks.NpgSql).
/// </summary>
public static class HealthApi
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddCatalogHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddNpgSql(name: "database", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return services;
    }

    public static RouteGroupBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // Probes are never rate limited: an orchestrator must always hear the answer.
        var group = app.MapGroup("/health").WithTags("Health").DisableRateLimiting();
        group.MapGet("/live", Live)
            .WithoutDatabase()
            .WithName("Live")
            .WithSummary("Liveness: the process answers")
            .WithDescription("Always 200 while the process runs; it does not touch the database.");
        group.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("Readiness: the process and its database answer")
            .WithDescription("200 when the database answers within 2 seconds, else a 503 problem with Retry-After.");
        return group;
    }

    public static Ok<HealthAnswer> Live(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new HealthAnswer("healthy", new Dictionary<string, string>()));
    }

    public static async Task<Results<Ok<HealthAnswer>, ProblemHttpResult>> Ready(HealthCheckService health, HttpContext http, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), ct);
        http.Response.Headers.CacheControl = "no-store";
        if (report.Status == HealthStatus.Healthy)
        {
            return TypedResults.Ok(new HealthAnswer("healthy", report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString().ToLowerInvariant())));
        }

        http.Response.Headers.RetryAfter = Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: "The catalog database cannot be reached: " +
                    string.Join(", ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => e.Key)) + ".");
    }
}
