using System.Net;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

public class IdempotencyTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private static HttpRequestMessage Post(string key, string body, string idempotencyKey)
    {
        var request = Request(HttpMethod.Post, "/v1/therapies", key, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    [Fact]
    public async Task A_retry_with_the_same_key_and_body_replays_the_first_answer_and_creates_one_therapy()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = NewCarT();
        var idempotencyKey = Guid.NewGuid().ToString();

        var first = await _client.SendAsync(Post(key, body.ToJsonString(), idempotencyKey));
        var retry = await _client.SendAsync(Post(key, body.ToJsonString(), idempotencyKey));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(first.StatusCode, retry.StatusCode);
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal(first.Content.Headers.ContentType, retry.Content.Headers.ContentType);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        await using var db = await api.OpenDatabaseAsync();
        Assert.Equal(1, await db.QuerySingleAsync<int>("SELECT count(*)::int FROM therapies WHERE slug = @Slug", new { Slug = body["slug"]!.GetValue<string>() }));
    }

    [Fact]
    public async Task Concurrent_retries_create_one_therapy()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = NewCarT().ToJsonString();
        var idempotencyKey = Guid.NewGuid().ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => _client.SendAsync(Post(key, body, idempotencyKey))));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        Assert.Single(answers.Select(a => a.Headers.Location).Distinct());
        await using var db = await api.OpenDatabaseAsync();
        Assert.Equal(1, await db.QuerySingleAsync<int>("SELECT count(*)::int FROM idempotency_keys WHERE key = @idempotencyKey", new { idempotencyKey }));
    }

    [Fact]
    public async Task The_same_key_with_another_body_returns_422_and_changes_nothing()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var idempotencyKey = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Created, (await _client.SendAsync(Post(key, NewCarT().ToJsonString(), idempotencyKey))).StatusCode);
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Post(key, NewCarT().ToJsonString(), idempotencyKey));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }
}
