using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using TherapyCatalog.Tests.OpenApi;
using TherapyCatalog.Tests.Therapies;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// The headers and limits every answer gets, on a real Kestrel port (TestServer has no Server
/// header, request-line limit or chunked framing to test): nosniff, no Server, no-store on key
/// management, one 401 detail, links never built from the Host header, a 414 problem for a long
/// URL, a 400 for a chunk size that overflows.
/// </summary>
public class HttpHardeningTests(KestrelCatalogApiFactory api) : IClassFixture<KestrelCatalogApiFactory>
{
    private HttpClient Client() => new() { BaseAddress = api.BaseAddress };

    [Theory]
    [InlineData("/v1/therapies/kymriah")]
    [InlineData("/v1/therapies?limit=abc")]
    [InlineData("/v1/nothing-here")]
    [InlineData("/openapi/v1.json")]
    public async Task Every_answer_says_nosniff_and_names_no_server(string path)
    {
        using var response = await Client().GetAsync(path);

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public async Task Key_management_answers_are_never_stored()
    {
        var admin = await TestApiKeys.CreateAsync(api, ["catalog:admin"]);
        using var client = Client();

        using var minted = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", admin,
            new StringContent("{\"name\":\"hardening\",\"scopes\":[\"catalog:write\"]}", Encoding.UTF8, "application/json")));
        using var listed = await client.SendAsync(TherapyBodies.Request(HttpMethod.Get, "/v1/api-keys", admin));

        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.True(minted.Headers.CacheControl?.NoStore, "no-store on the answer that carries a new key");
        Assert.True(listed.Headers.CacheControl?.NoStore, "no-store on the key list");
    }

    [Fact]
    public async Task An_unknown_key_and_a_revoked_key_get_the_same_401()
    {
        var revoked = await TestApiKeys.CreateAsync(api, ["catalog:write"], revoked: true);
        using var client = Client();

        var details = new List<string>();
        foreach (var key in new[] { revoked, "tc_made-up-key-" + Guid.NewGuid().ToString("N") })
        {
            using var response = await client.SendAsync(TherapyBodies.Request(HttpMethod.Delete, $"/v1/therapies/{Guid.NewGuid()}", key));
            details.Add((await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString()!);
        }

        Assert.Single(details.Distinct());
    }

    [Fact]
    public async Task A_next_page_link_is_never_built_from_the_host_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/therapies?limit=1");
        request.Headers.Host = "evil.example";

        using var response = await Client().SendAsync(request);

        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.DoesNotContain("evil.example", link, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("</v1/therapies?", link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_public_base_url_links_are_absolute_from_it()
    {
        using var configured = api.WithWebHostBuilder(builder => builder.UseSetting("Catalog:PublicBaseUrl", "https://catalog.example.org"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/therapies?limit=1");
        request.Headers.Host = "evil.example";

        using var response = await configured.CreateClient().SendAsync(request);

        Assert.StartsWith("<https://catalog.example.org/v1/therapies?", Assert.Single(response.Headers.GetValues("Link")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_over_the_limit_is_a_414_problem_naming_it()
    {
        using var response = await Client().GetAsync("/v1/therapies?q=" + new string('a', 10_000));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestUriTooLong);
        Assert.Contains(TherapyCatalog.Api.Infrastructure.HttpHardening.MaxUrlLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFF")]
    [InlineData("zz")]
    public async Task A_chunk_size_that_overflows_or_is_not_hex_is_a_400(string chunkSize)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        using var socket = new TcpClient();
        await socket.ConnectAsync(api.BaseAddress.Host, api.BaseAddress.Port);
        var stream = socket.GetStream();
        var head = $"POST /v1/therapies HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {key}\r\nContent-Type: application/json\r\n" +
                   $"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunkSize}\r\n{{}}\r\n0\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
    }
}

/// <summary>Behind a reverse proxy on loopback (<c>Catalog:KnownProxies</c>), on a real Kestrel port so the connection has an address.</summary>
public sealed class ProxiedCatalogApiFactory : KestrelCatalogApiFactory
{
    public const int FailedAuthenticationsPerMinute = 3;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:KnownProxies:0", "127.0.0.1");
        builder.UseSetting("Catalog:RateLimits:WritesPerMinute", "1000000");
        builder.UseSetting("Catalog:RateLimits:FailedAuthenticationsPerMinute", FailedAuthenticationsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>The client address limits are kept by is the one a known proxy forwards, and only a known proxy's.</summary>
public class ForwardedHeadersTests(ProxiedCatalogApiFactory api) : IClassFixture<ProxiedCatalogApiFactory>
{
    private static async Task<HttpStatusCode> BadKeyFromAsync(HttpClient client, string forwardedFor)
    {
        var request = TherapyBodies.Request(HttpMethod.Delete, $"/v1/therapies/{Guid.NewGuid()}", "tc_" + Guid.NewGuid().ToString("N"));
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Failed_authentications_are_counted_per_forwarded_client()
    {
        using var client = new HttpClient { BaseAddress = api.BaseAddress };
        for (var i = 0; i < ProxiedCatalogApiFactory.FailedAuthenticationsPerMinute; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await BadKeyFromAsync(client, "203.0.113.1"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await BadKeyFromAsync(client, "203.0.113.1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await BadKeyFromAsync(client, "203.0.113.2"));
    }
}
