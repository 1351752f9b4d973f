using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// What every answer gets and every request goes through before a feature sees it: no
/// <c>Server</c> header, <c>X-Content-Type-Options: nosniff</c>, a 414 problem for a URL over
/// <see cref="MaxUrlLength"/> (Kestrel lets request lines through up to <see cref="MaxRequestLineBytes"/>,
/// so the application, not Kestrel's bare status, answers them), and the client's address from
/// <c>X-Forwarded-For</c> only when the connection comes from one of <c>Catalog:KnownProxies</c>.
/// </summary>
public static class HttpHardening
{
    /// <summary>The longest path and query the service reads, in characters.</summary>
    public const int MaxUrlLength = 8 * 1024;

    /// <summary>Kestrel's limit on the request line: over it Kestrel answers a bare 414 itself.</summary>
    public const int MaxRequestLineBytes = 64 * 1024;

    public static IWebHostBuilder ConfigureCatalogKestrel(this IWebHostBuilder builder) =>
        builder.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestLineSize = MaxRequestLineBytes;
        });

    public static IServiceCollection AddCatalogForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<CatalogOptions>>((forwarded, catalog) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the proxies named: not the framework's default of trusting loopback.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in catalog.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        return services;
    }

    public static IApplicationBuilder UseCatalogHardening(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<IOptions<CatalogOptions>>().Value.KnownProxies.Length > 0)
        {
            app.UseForwardedHeaders();
        }

        app.Use(async (http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            });

            var length = http.Request.PathBase.Value?.Length + http.Request.Path.Value?.Length + http.Request.QueryString.Value?.Length;
            if (length > MaxUrlLength)
            {
                await Problems.WriteAsync(http, StatusCodes.Status414UriTooLong, "URI too long",
                    $"The path and query may be at most {MaxUrlLength} characters long; this one has {length}.");
                return;
            }

            await next(http);
        });
        return app;
    }
}
