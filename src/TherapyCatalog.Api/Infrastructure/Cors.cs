using Microsoft.Extensions.Options;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Cross-origin requests (API.md: reads from a browser on any origin, writes only from configured
/// origins), by ASP.NET Core's CORS middleware. Every endpoint gets the read policy: GET and HEAD
/// from any origin, no credentials, with the headers a sync client reads exposed. Write endpoints
/// ask for <see cref="WritePolicy"/> (<c>.RequireCors(Cors.WritePolicy)</c>): only the origins in
/// <c>Catalog:Cors:WriteOrigins</c> (none by default), with the headers a write sends.
/// </summary>
public static class Cors
{
    public const string WritePolicy = "catalog-writes";

    private static readonly string[] Exposed =
        ["ETag", "Link", "Location", CatalogSnapshot.HeaderName, "RateLimit", "RateLimit-Policy", "Retry-After"];

    public static IServiceCollection AddCatalogCors(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<CatalogOptions>>((cors, catalog) =>
        {
            cors.AddDefaultPolicy(reads => reads.AllowAnyOrigin().WithMethods("GET", "HEAD").WithHeaders("If-None-Match").WithExposedHeaders(Exposed));
            cors.AddPolicy(WritePolicy, writes => writes
                .WithOrigins([.. catalog.Value.Cors.WriteOrigins])
                .WithMethods("POST", "PUT", "PATCH", "DELETE")
                .WithHeaders("Content-Type", ApiKeyAuthentication.Header, "If-Match", IdempotentRequest.Header)
                .WithExposedHeaders(Exposed));
        });
        return services;
    }

    public static IApplicationBuilder UseCatalogCors(this IApplicationBuilder app) => app.UseCors();
}
