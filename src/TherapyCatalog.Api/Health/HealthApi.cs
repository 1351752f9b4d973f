using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Health;

/// <summary>
/// Liveness (the process answers) and readiness (the database answers too). An unready answer is
/// a 503 problem document with Retry-After, like any other outage answer.
/// </summary>
public static class HealthApi
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddCatalogHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddNpgSql(name: "database", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithTags("Health");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithTags("Health");
        return app;
    }

    private static async Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (report.Status == HealthStatus.Healthy)
        {
            await http.Response.WriteAsJsonAsync(new
            {
                status = "healthy",
                checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString().ToLowerInvariant()),
            }, CatalogJson.Options);
            return;
        }

        http.Response.Headers.RetryAfter = Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Not ready",
                Detail = "The catalog database cannot be reached: " +
                         string.Join(", ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => e.Key)) + ".",
            },
        });
    }
}
