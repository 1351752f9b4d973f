using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Tests.Reliability;
using Xunit.Abstractions;
using TherapyCatalog.Tests.Therapies;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>The application with a bootstrap admin key configured, as a fresh install would have it.</summary>
public sealed class BootstrappedCatalogApiFactory : CatalogApiFactory
{
    public const string BootstrapKey = "bootstrap-key-for-tests-0123456789";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:BootstrapApiKey", BootstrapKey);
    }
}

public class AuthorizationTests(BootstrappedCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<BootstrappedCatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private static readonly string[] Callers = ["no key", "unknown key", "revoked key", "key without the scope"];

    /// <summary>Endpoints mapped without an HTTP method (they answer any method) that are known to write nothing.</summary>
    private static readonly string[] AnyMethodReadOnly = [];

    /// <summary>
    /// Every route the application maps that changes state (any method but GET and HEAD) or needs a
    /// key to read, taken from the running app's endpoint table, so a route added later cannot
    /// escape the sweep.
    /// </summary>
    private List<(string Method, string Route, string? Policy)> GuardedRoutes()
    {
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var anyMethod = endpoints.Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is null).Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).ToList();
        Assert.Equal(AnyMethodReadOnly.Order(), anyMethod.Order()); // a new any-method endpoint must be looked at and listed

        return [.. endpoints
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Select(m => (Method: m, Endpoint: e)) ?? [])
            .Select(x => (x.Method, Route: "/" + x.Endpoint.RoutePattern.RawText!.TrimStart('/'),
                Policy: x.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault()))
            .Where(x => x.Method is not ("GET" or "HEAD") || x.Policy is not null)
            .Distinct()
            .OrderBy(x => x.Route, StringComparer.Ordinal).ThenBy(x => x.Method, StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Every_guarded_route_refuses_callers_without_a_valid_key_of_its_scope_and_changes_nothing()
    {
        var routes = GuardedRoutes();
        Assert.Contains(routes, r => r is { Method: "POST", Route: "/v1/therapies/" or "/v1/therapies" });
        Assert.Contains(routes, r => r.Route.StartsWith("/v1/api-keys", StringComparison.Ordinal));
        var kymriahId = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies/kymriah")).RootElement.GetProperty("id").GetString()!;
        var keys = new Dictionary<string, string?>
        {
            ["no key"] = null,
            ["unknown key"] = "tc_" + Guid.NewGuid().ToString("N"),
            ["revoked key"] = await TestApiKeys.CreateAsync(api, ["catalog:write", "catalog:admin"], revoked: true),
            ["writer"] = await TestApiKeys.CreateAsync(api, ["catalog:write"]),
            ["no scopes"] = await TestApiKeys.CreateAsync(api, []),
        };
        var before = await CatalogState.FingerprintAsync(api);
        var keysBefore = await KeyCountAsync();
        var wrong = new List<string>();

        foreach (var (method, route, policy) in routes)
        {
            Assert.True(policy is not null, $"{method} {route} is mapped without an authorization policy");
            var admin = policy == "catalog:admin";
            var path = Regex.Replace(route, @"\{(\w+)(:[^}]*)?\}", m => m.Groups[1].Value switch
            {
                "id" when route.StartsWith("/v1/therapies", StringComparison.Ordinal) => kymriahId,
                "idOrSlug" => "kymriah",
                _ => Guid.NewGuid().ToString(),
            });
            foreach (var caller in Callers)
            {
                var key = caller == "key without the scope" ? keys[admin ? "writer" : "no scopes"] : keys[caller];
                var body = method is "POST" or "PUT" or "PATCH"
                    ? new StringContent(admin ? "{\"name\":\"x\",\"scopes\":[\"catalog:write\"]}" : TherapyBodies.NewCarT().ToJsonString(), Encoding.UTF8,
                        method == "PATCH" ? "application/merge-patch+json" : "application/json")
                    : null;

                var response = await _client.SendAsync(TherapyBodies.Request(new HttpMethod(method), path, key, body));

                var expected = caller == "key without the scope" ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized;
                var defect = ProblemDocument.Defect(response, await response.Content.ReadAsStringAsync());
                if (response.StatusCode != expected || defect is not null)
                {
                    wrong.Add($"{method} {path} with {caller}: {(int)response.StatusCode} {defect}");
                }
            }
        }

        output.WriteLine($"{routes.Count} guarded routes × {Callers.Length} callers = {routes.Count * Callers.Length} requests, {wrong.Count} not refused:");
        routes.ForEach(r => output.WriteLine($"  {r.Method} {r.Route} ({r.Policy})"));
        Assert.Empty(wrong);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
        Assert.Equal(keysBefore, await KeyCountAsync());
    }

    [Fact]
    public async Task Reads_need_no_key()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/v1/therapies/kymriah")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/v1/therapies/kymriah/history")).StatusCode);
    }

    [Fact]
    public async Task The_bootstrap_key_mints_a_key_that_writes_until_it_is_revoked()
    {
        var mint = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", BootstrappedCatalogApiFactory.BootstrapKey,
            new StringContent("{\"name\":\"pharmacy-sync\",\"scopes\":[\"catalog:write\"]}", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.Created, mint.StatusCode);
        var minted = JsonDocument.Parse(await mint.Content.ReadAsStringAsync()).RootElement;
        var key = minted.GetProperty("key").GetString()!;
        var id = minted.GetProperty("id").GetString();

        var created = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var revoke = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Delete, $"/v1/api-keys/{id}", BootstrappedCatalogApiFactory.BootstrapKey));
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var refused = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())));
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Keys_are_stored_hashed_never_in_plain_text()
    {
        var mint = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", BootstrappedCatalogApiFactory.BootstrapKey,
            new StringContent("{\"name\":\"hash-check\",\"scopes\":[\"catalog:admin\"]}", Encoding.UTF8, "application/json")));
        var key = JsonDocument.Parse(await mint.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;

        await using var db = await api.OpenDatabaseAsync();
        var stored = await db.QuerySingleAsync<string>("SELECT string_agg(t::text, ' ') FROM api_keys t");
        var listed = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Get, "/v1/api-keys", BootstrappedCatalogApiFactory.BootstrapKey));

        Assert.DoesNotContain(key, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(BootstrappedCatalogApiFactory.BootstrapKey, stored, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.DoesNotContain(key, await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<string> KeyCountAsync()
    {
        await using var db = await api.OpenDatabaseAsync();
        return await db.QuerySingleAsync<string>("SELECT count(*) || ':' || count(revoked_at) FROM api_keys");
    }
}
