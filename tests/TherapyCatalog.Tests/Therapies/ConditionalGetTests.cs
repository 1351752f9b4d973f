using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Sync;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// A 304 may come from the ETags the process knows to be current (no database round trip):
/// after any change it must never name the old version as current.
/// </summary>
public class ConditionalGetTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private async Task<(string Key, string Id, string Slug, string ETag, JsonObject Body)> CreateAsync()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"], name: "conditional-get");
        var slug = CatalogWriter.NewSlug("conditional");
        var body = NewCarT(slug);
        var (id, etag) = await TherapyBodies.CreateAsync(_client, key, body);
        return (key, id, slug, etag, body);
    }

    private async Task<HttpResponseMessage> GetAsync(string idOrSlug, string etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/therapies/{idOrSlug}");
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        return await _client.SendAsync(request);
    }

    /// <summary>Reads until the process listens for changes and answers 304 for <paramref name="etag"/> (from its cache or the database).</summary>
    private async Task WarmAsync(string idOrSlug, string etag)
    {
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(idOrSlug, etag)).StatusCode);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Get_with_an_etag_a_put_made_stale_returns_200_with_the_new_version()
    {
        var (key, id, slug, etag, body) = await CreateAsync();
        await WarmAsync(id, etag);
        await WarmAsync(slug, etag);
        body["target"] = "CD22";

        var put = await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(body), ifMatch: etag));
        var byId = await GetAsync(id, etag);
        var bySlug = await GetAsync(slug, etag);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byId.StatusCode);
        Assert.Equal(put.Headers.ETag?.ToString(), byId.Headers.ETag?.ToString());
        Assert.Equal(HttpStatusCode.OK, bySlug.StatusCode);
        Assert.Equal("CD22", JsonDocument.Parse(await bySlug.Content.ReadAsStringAsync()).RootElement.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Get_with_the_etag_of_a_deleted_therapy_returns_404()
    {
        var (key, id, slug, etag, _) = await CreateAsync();
        await WarmAsync(slug, etag);

        var delete = await _client.SendAsync(Request(HttpMethod.Delete, $"/v1/therapies/{id}", key, ifMatch: etag));
        var response = await GetAsync(slug, etag);

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_with_an_etag_another_process_made_stale_returns_200_once_its_commit_is_announced()
    {
        var (_, id, _, etag, _) = await CreateAsync();
        await WarmAsync(id, etag);

        // Another process writes: this one only learns of it through the change notification.
        var epoch = api.Epoch();
        await using (var db = await api.OpenDatabaseAsync())
        await using (var tx = await db.BeginTransactionAsync())
        {
            await CatalogWriter.UpdateAsync(db, tx, Guid.Parse(id), input => input with { Target = "CD22" });
            await tx.CommitAsync();
        }

        // Once the notification has arrived, the old ETag must no longer be answered 304.
        await api.HeardSinceAsync(epoch);
        var status = (await GetAsync(id, etag)).StatusCode;

        Assert.Equal(HttpStatusCode.OK, status);
    }
}
