using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using TherapyCatalog.Tests.OpenApi;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>The application with one origin allowed to write from a browser.</summary>
public sealed class WriteOriginCatalogApiFactory : CatalogApiFactory
{
    public const string Origin = "https://formulary.example.org";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:Cors:WriteOrigins:0", Origin);
    }
}

/// <summary>API.md: reads may be called from a browser on any origin; writes only from configured origins.</summary>
public class CorsTests(WriteOriginCatalogApiFactory api) : IClassFixture<WriteOriginCatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private static HttpRequestMessage Preflight(string path, string origin, string method)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        return request;
    }

    [Fact]
    public async Task A_read_from_any_origin_is_allowed_and_sees_the_sync_headers()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/therapies/kymriah");
        request.Headers.Add("Origin", "http://localhost:5173");

        var response = await _client.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var exposed = string.Join(',', response.Headers.GetValues("Access-Control-Expose-Headers"));
        foreach (var header in new[] { "ETag", "Link", "X-Catalog-Cursor", "RateLimit", "Retry-After" })
        {
            Assert.Contains(header, exposed, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task A_preflight_for_a_read_is_answered_not_405()
    {
        var response = await _client.SendAsync(Preflight("/v1/therapies?condition=SMA", "http://localhost:5173", "GET"));

        Assert.True(response.IsSuccessStatusCode, $"preflight answered {(int)response.StatusCode}");
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task A_write_preflight_from_an_origin_not_configured_is_not_allowed()
    {
        var response = await _client.SendAsync(Preflight("/v1/therapies/00000000-0000-0000-0000-000000000001", "https://evil.example", "PUT"));

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_write_preflight_from_a_configured_origin_is_allowed_with_the_write_headers()
    {
        var request = Preflight("/v1/therapies/00000000-0000-0000-0000-000000000001", WriteOriginCatalogApiFactory.Origin, "PUT");
        request.Headers.Add("Access-Control-Request-Headers", "content-type,x-api-key,if-match");

        var response = await _client.SendAsync(request);

        Assert.Equal(WriteOriginCatalogApiFactory.Origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var allowed = string.Join(',', response.Headers.GetValues("Access-Control-Allow-Headers"));
        Assert.Contains("x-api-key", allowed, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("if-match", allowed, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A formulary web app on another origin reads the catalog in a real browser (headless Chromium).</summary>
public class CorsBrowserTests(KestrelCatalogApiFactory api) : IClassFixture<KestrelCatalogApiFactory>
{
    [Fact]
    public async Task A_page_on_another_port_fetches_the_list_and_reads_its_etag()
    {
        SwaggerUiBrowserTests.EnsureChromium();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(SwaggerUiBrowserTests.LaunchOptions);
        var page = await browser.NewPageAsync();
        // The page comes from another server on this machine (another port, so another origin); the
        // browser enforces CORS on its fetches to the API.
        await using var site = await PageServerAsync("<!doctype html><title>formulary</title>");
        await page.GotoAsync($"{site.Urls.Single()}/index.html");

        var result = await page.EvaluateAsync<string[]>("""
            async (api) => {
              const list = await fetch(api + '/v1/therapies?condition=SMA');
              const one = await fetch(api + '/v1/therapies/zolgensma');
              const body = await list.json();
              return [String(list.status), body.items.map(i => i.slug).join(','), one.headers.get('ETag') ?? '', list.headers.get('X-Catalog-Cursor') ?? ''];
            }
            """, api.BaseAddress.ToString().TrimEnd('/'));

        Assert.Equal("200", result[0]);
        Assert.Contains("zolgensma", result[1].Split(','));
        Assert.StartsWith("\"", result[2], StringComparison.Ordinal);
        Assert.NotEmpty(result[3]);
    }

    /// <summary>A one-page web server on a free loopback port.</summary>
    private static async Task<WebApplication> PageServerAsync(string html)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var site = builder.Build();
        site.MapGet("/index.html", () => Results.Content(html, "text/html"));
        await site.StartAsync();
        return site;
    }
}
