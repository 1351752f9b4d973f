using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>The application with rate limits far above what a test sends, so load is not answered 429.</summary>
public sealed class UnlimitedCatalogApiFactory : CatalogApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Catalog:RateLimits:ReadsPerMinute", "10000000");
        builder.UseSetting("Catalog:RateLimits:WritesPerMinute", "10000000");
        builder.UseSetting("Catalog:RateLimits:FailedAuthenticationsPerMinute", "10000000");
    }
}

/// <summary>
/// At least 10,000 requests generated from the committed OpenAPI document (seeded, so every run
/// sends the same ones) with invalid and edge values: none may answer 5xx, every 4xx must be a
/// valid problem document, and the catalog must be unchanged. Writes carry a key with every scope,
/// so bodies get past authorisation to parsing and validation. A generated body can be valid (an
/// SQL injection string is a fine manufacturer name): such writes are counted as accepted, and the
/// "unchanged" check excludes exactly what they wrote: new therapies whose ids the 2xx answers
/// named, and the one therapy the test created as the target of PUT, PATCH and DELETE.
/// </summary>
public class HostileInputTests(UnlimitedCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<UnlimitedCatalogApiFactory>
{
    private const int Seed = 20261125;
    private const int MinimumRequests = 10_000;
    private const string CommittedDocument = "openapi/therapy-catalog.v1.json";

    private sealed record Outcome(HostileRequest Request, int Status, string? ProblemDefect, string? CreatedId);

    [Fact]
    public async Task Ten_thousand_hostile_requests_get_no_5xx_only_problem_documents_and_leave_the_catalog_unchanged()
    {
        var client = api.CreateClient();
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write", "catalog:admin"]);
        var target = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())));
        Assert.Equal(HttpStatusCode.Created, target.StatusCode);
        var targetId = JsonDocument.Parse(await target.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        var (document, source) = await OpenApiDocumentAsync(client);
        var before = await TherapyIdsAsync();
        var seeded = before.Where(id => id != targetId).ToArray();
        var fingerprint = await FingerprintAsync(seeded);

        var generator = new HostileRequests(document, new Random(Seed), new Dictionary<string, string> { ["id"] = targetId, ["idOrSlug"] = "kymriah" });
        var requests = new List<(HostileRequest Request, HttpRequestMessage Message)>();
        var unsendable = 0;
        while (requests.Count < MinimumRequests)
        {
            foreach (var request in generator.Round())
            {
                if (HostileRequests.ToMessage(request, key) is { } message)
                {
                    requests.Add((request, message));
                }
                else
                {
                    unsendable++;
                }
            }
        }

        var clock = Stopwatch.StartNew();
        var outcomes = new ConcurrentBag<Outcome>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (item, ct) =>
        {
            using var message = item.Message;
            HttpResponseMessage response;
            string body;
            try
            {
                response = await client.SendAsync(message, ct);
                body = await response.Content.ReadAsStringAsync(ct);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException)
            {
                outcomes.Add(new Outcome(item.Request, 0, $"no answer: {e.GetType().Name}: {e.Message}", null));
                return;
            }

            using var _ = response;
            var status = (int)response.StatusCode;
            var created = item.Request.Method == "POST" && status == 201 && response.Headers.Location is { } location
                ? location.OriginalString.Split('/')[^1] : null;
            outcomes.Add(new Outcome(item.Request, status, status is >= 400 and < 500 ? ProblemDocument.Defect(response, body) : null, created));
        });
        clock.Stop();

        var all = outcomes.ToList();
        var serverErrors = all.Where(o => o.Status is >= 500 or 0).ToList();
        var clientErrors = all.Where(o => o.Status is >= 400 and < 500).ToList();
        var notProblems = clientErrors.Where(o => o.ProblemDefect is not null).ToList();
        var acceptedWrites = all.Where(o => o.Status is >= 200 and < 300 && o.Request.Method is not ("GET" or "HEAD" or "OPTIONS")).ToList();
        var createdIds = acceptedWrites.Where(o => o.CreatedId is not null && o.Request.Operation.StartsWith("POST /v1/therapies", StringComparison.Ordinal))
            .Select(o => o.CreatedId!).ToHashSet();
        var after = await TherapyIdsAsync();
        var unexplained = after.Except(before).Where(id => !createdIds.Contains(id)).ToList();

        output.WriteLine($"OpenAPI document: {source}; {generator.OperationNames.Count} operations: {string.Join(", ", generator.OperationNames)}");
        output.WriteLine($"{all.Count} requests (seed {Seed}, {unsendable} generated ones .NET's HTTP client will not send were left out) in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("by family: " + string.Join(", ", all.GroupBy(o => o.Request.Family).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));
        output.WriteLine("by status: " + string.Join(", ", all.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}")));
        output.WriteLine($"5xx: {serverErrors.Count}");
        output.WriteLine($"4xx: {clientErrors.Count}, valid problem documents: {clientErrors.Count - notProblems.Count} ({Share(clientErrors.Count - notProblems.Count, clientErrors.Count)})");
        output.WriteLine($"accepted writes (valid despite hostile values): {acceptedWrites.Count}, of which new therapies: {createdIds.Count}");
        foreach (var o in serverErrors.Take(15))
        {
            output.WriteLine($"  5xx {o.Status}: {o.Request.Describe()} {o.ProblemDefect}");
        }

        foreach (var o in notProblems.Take(15))
        {
            output.WriteLine($"  not a problem ({o.ProblemDefect}) {o.Status}: {o.Request.Describe()}");
        }

        foreach (var o in acceptedWrites.Take(10))
        {
            output.WriteLine($"  accepted {o.Status}: {o.Request.Describe()}");
        }

        var unchanged = fingerprint == await FingerprintAsync(seeded) && unexplained.Count == 0 && before.All(after.Contains);
        output.WriteLine($"catalog unchanged (the {seeded.Length} therapies present before, byte for byte; no therapy but the accepted creations added): {unchanged}");

        Assert.True(all.Count >= MinimumRequests, $"only {all.Count} requests sent");
        Assert.Empty(serverErrors.Select(o => $"{o.Status}: {o.Request.Describe()}"));
        Assert.Empty(notProblems.Select(o => $"{o.Status} {o.ProblemDefect}: {o.Request.Describe()}"));
        Assert.Empty(unexplained);
        Assert.Equal(fingerprint, await FingerprintAsync(seeded));
    }

    // The product bugs the generated requests found, one test each.

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"slug\":\"x\",\"indications\":null,\"approvals\":null,\"ndcs\":null,\"sources\":null}")]
    public async Task A_therapy_body_without_its_lists_is_a_400_naming_them_not_a_500(string body)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);

        var response = await api.CreateClient().SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key,
            new StringContent(body, System.Text.Encoding.UTF8, "application/json")));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        // ndcs may be left out: it is derived from packages.
        foreach (var member in new[] { "indications", "approvals", "sources" })
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(member, out _), $"no error for '{member}'");
        }
    }

    [Theory]
    [InlineData("GET", "/v1/nothing-here", null, HttpStatusCode.NotFound)]
    [InlineData("GET", "/v1/therapies?limit=0", null, HttpStatusCode.BadRequest)]
    [InlineData("GET", "/v1/therapies/no-such-therapy", null, HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/v1/therapies/00000000-0000-0000-0000-000000000001", "unknown-key", HttpStatusCode.Unauthorized)]
    public async Task An_error_is_a_problem_document_whatever_the_request_accepts(string method, string path, string? key, HttpStatusCode status)
    {
        var request = TherapyBodies.Request(new HttpMethod(method), path, key);
        request.Headers.TryAddWithoutValidation("Accept", "text/csv");

        var response = await api.CreateClient().SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, status);
    }

    [Theory]
    [InlineData("{\"proprietaryName\":\"\\ud800\"}")]
    [InlineData("{\"mechanism\":\"\\udc00\\ud800\"}")]
    public async Task A_merge_patch_with_an_unpaired_surrogate_is_a_400_not_a_500(string patch)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var client = api.CreateClient();
        var created = await client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(TherapyBodies.NewCarT())));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        var response = await client.SendAsync(TherapyBodies.Request(HttpMethod.Patch, $"/v1/therapies/{id}", key,
            new StringContent(patch, System.Text.Encoding.UTF8, "application/merge-patch+json")));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Minting_a_key_with_a_charset_the_service_cannot_read_is_a_415_not_a_500()
    {
        var admin = await TestApiKeys.CreateAsync(api, ["catalog:admin"]);
        var content = new ByteArrayContent("{\"name\":\"x\",\"scopes\":[\"catalog:write\"]}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"utf-8\"");

        var response = await api.CreateClient().SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", admin, content));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    private static string Share(int part, int whole) => whole == 0 ? "-" : $"{100.0 * part / whole:F2} %";

    /// <summary>The committed document (what clients are promised); the served one only while none is committed.</summary>
    private static async Task<(JsonElement Document, string Source)> OpenApiDocumentAsync(HttpClient client)
    {
        var committed = Path.Combine(PostgresServer.RepositoryRoot, CommittedDocument);
        if (File.Exists(committed) && new FileInfo(committed).Length > 0)
        {
            return (JsonDocument.Parse(await File.ReadAllTextAsync(committed)).RootElement.Clone(), CommittedDocument);
        }

        return (JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement.Clone(), $"served /openapi/v1.json ({CommittedDocument} is not committed)");
    }

    private async Task<HashSet<string>> TherapyIdsAsync()
    {
        await using var db = await api.OpenDatabaseAsync();
        return [.. await db.QueryAsync<string>("SELECT id::text FROM therapies")];
    }

    /// <summary><see cref="CatalogState"/>'s fingerprint, over the given therapies only.</summary>
    private const string FingerprintSql = """
        SELECT concat_ws('|',
            (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM therapies t WHERE t.id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(i::text, ',' ORDER BY i.therapy_id, i.ordinal), '')) FROM therapy_indications i WHERE i.therapy_id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(a::text, ',' ORDER BY a.therapy_id, a.ordinal), '')) FROM therapy_approvals a WHERE a.therapy_id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(n::text, ',' ORDER BY n.therapy_id, n.ordinal), '')) FROM therapy_ndcs n WHERE n.therapy_id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY s.therapy_id, s.ordinal), '')) FROM therapy_sources s WHERE s.therapy_id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(v.therapy_id::text || ':' || v.version || ':' || v.document::text, ',' ORDER BY v.therapy_id, v.version), '')) FROM therapy_versions v WHERE v.therapy_id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(c.therapy_id::text || ':' || c.version, ',' ORDER BY c.txid, c.seq), '')) FROM changes c WHERE c.therapy_id = ANY(@Ids)),
            (SELECT md5(coalesce(string_agg(k::text, ',' ORDER BY k.id), '')) FROM conditions k))
        """;

    private async Task<string> FingerprintAsync(string[] ids)
    {
        await using var db = await api.OpenDatabaseAsync();
        return await db.QuerySingleAsync<string>(FingerprintSql, new { Ids = ids.Select(Guid.Parse).ToArray() });
    }
}
