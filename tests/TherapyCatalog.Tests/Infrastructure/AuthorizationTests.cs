using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
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

public class AuthorizationTests(BootstrappedCatalogApiFactory api) : IClassFixture<BootstrappedCatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    public static TheoryData<string, string, string> WritesAndCallers()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var route in new[] { "POST /v1/therapies", "PUT /v1/therapies/{id}", "PATCH /v1/therapies/{id}", "DELETE /v1/therapies/{id}",
                     "POST /v1/api-keys", "GET /v1/api-keys", "DELETE /v1/api-keys/{id}" })
        {
            foreach (var caller in new[] { "no key", "unknown key", "revoked key", "key without the scope" })
            {
                data.Add(route.Split(' ')[0], route.Split(' ')[1], caller);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WritesAndCallers))]
    public async Task A_write_without_a_valid_key_of_the_right_scope_is_refused_and_changes_nothing(string method, string route, string caller)
    {
        var kymriah = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies/kymriah")).RootElement;
        var path = route.Replace("{id}", route.Contains("api-keys") ? Guid.NewGuid().ToString() : kymriah.GetProperty("id").GetString(), StringComparison.Ordinal);
        var admin = route.Contains("api-keys", StringComparison.Ordinal);
        string? key = caller switch
        {
            "no key" => null,
            "unknown key" => "tc_" + Guid.NewGuid().ToString("N"),
            "revoked key" => await TestApiKeys.CreateAsync(api, ["catalog:write", "catalog:admin"], revoked: true),
            _ => await TestApiKeys.CreateAsync(api, admin ? ["catalog:write"] : []),
        };
        var body = method is "POST" or "PUT" or "PATCH"
            ? new StringContent(admin ? "{\"name\":\"x\",\"scopes\":[\"catalog:write\"]}" : TherapyBodies.NewCarT().ToJsonString(), Encoding.UTF8,
                method == "PATCH" ? "application/merge-patch+json" : "application/json")
            : null;
        var before = await CatalogState.FingerprintAsync(api);
        var keysBefore = await KeyCountAsync();

        var response = await _client.SendAsync(TherapyBodies.Request(new HttpMethod(method), path, key, body));

        var expected = caller == "key without the scope" ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized;
        await ProblemAssert.IsProblemAsync(response, expected);
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
