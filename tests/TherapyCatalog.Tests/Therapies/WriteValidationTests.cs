using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TherapyCatalog.Tests.Infrastructure;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>Every bad body is a 400/413/415 problem that says what is wrong, and nothing is written.</summary>
public class WriteValidationTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        // description, JSON path to change (value after '='), the error key the contract names
        { "missing slug", "slug=null", "slug" },
        { "slug with capitals", "slug=\"Bad Slug\"", "slug" },
        { "unknown modality", "modality=\"virus\"", "modality" },
        { "unknown route", "route=\"oral\"", "route" },
        { "cell-based gene therapy given in vivo", "delivery=\"in-vivo\"", "delivery" },
        { "cell-based gene therapy without a cell source", "cellSource=null", "cellSource" },
        { "approval date in the future", "indications.0.approvedOn=\"2999-01-01\"", "indications[0].approvedOn" },
        { "approval date before 1990", "approvals.0.approvedOn=\"1985-06-01\"", "approvals[0].approvedOn" },
        { "unknown regulator", "approvals.0.regulator=\"XYZ\"", "approvals[0].regulator" },
        { "unknown condition", "indications.0.conditionId=\"no-such-condition\"", "indications[0].conditionId" },
        { "source that is not a URL", "sources.0=\"not a url\"", "sources[0]" },
        { "source with another scheme", "sources.0=\"ftp://example.org/x\"", "sources[0]" },
        { "no sources", "sources=[]", "sources" },
        { "negative price", "listPrice.amount=-1", "listPrice.amount" },
        { "currency not ISO 4217", "listPrice.currency=\"usd\"", "listPrice.currency" },
        { "malformed NDC", "ndcs=[\"12345\"]", "ndcs[0]" },
        { "name too long", $"proprietaryName=\"{new string('x', 201)}\"", "proprietaryName" },
        { "unknown member", "color=\"blue\"", "color" },
        { "wrong JSON type", "administration.infusionMinutes=\"thirty\"", "administration.infusionMinutes" },
        { "date in another format", "indications.0.approvedOn=\"15/01/2024\"", "indications[0].approvedOn" },
        { "NUL character", "manufacturer=\"Test\\u0000Corp\"", "$" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Post_with_an_invalid_body_returns_400_keyed_by_json_path_and_changes_nothing(string description, string change, string errorKey)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = Apply(NewCarT(), change);
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, new StringContent(body, Encoding.UTF8, "application/json")));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(errorKey, out var messages), $"{description}: no error for '{errorKey}' in {problem}");
        Assert.True(messages.GetArrayLength() > 0);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }

    [Fact]
    public async Task An_unknown_enum_value_is_answered_with_the_allowed_values()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key,
            new StringContent(Apply(NewCarT(), "vector=\"retro\""), Encoding.UTF8, "application/json")));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("vector")[0].GetString()!;
        foreach (var allowed in new[] { "aav", "lentiviral", "gamma-retroviral", "adenoviral", "hsv-1", "plasmid", "crispr-cas9", "other" })
        {
            Assert.Contains(allowed, message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("{\"slug\": ")]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("null")]
    [InlineData("\"a string\"")]
    public async Task Malformed_json_returns_400_and_changes_nothing(string body)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, new StringContent(body, Encoding.UTF8, "application/json")));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }

    [Fact]
    public async Task Deeply_nested_json_returns_400()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = "{\"administration\":" + string.Concat(Enumerable.Repeat("{\"a\":", 500)) + "1" + new string('}', 501);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, new StringContent(body, Encoding.UTF8, "application/json")));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_over_1_MB_returns_413_and_changes_nothing()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = NewCarT();
        body["administration"]!["summary"] = new string('x', 1024 * 1024 + 10);
        var before = await CatalogState.FingerprintAsync(api);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, Body(body)));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(before, await CatalogState.FingerprintAsync(api));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/merge-patch+json")]
    public async Task A_body_of_another_media_type_returns_415(string mediaType)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var content = new StringContent(NewCarT().ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, content));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("12345")]
    public async Task A_write_to_an_id_that_is_not_a_uuid_is_a_4xx_problem(string id)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);

        var response = await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(NewCarT())));

        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Sets one member, addressed as a dotted path (array items by index), to a raw JSON value.</summary>
    private static string Apply(JsonObject body, string change)
    {
        var (path, raw) = (change[..change.IndexOf('=')], change[(change.IndexOf('=') + 1)..]);
        var segments = path.Split('.');
        JsonNode node = body;
        foreach (var segment in segments[..^1])
        {
            node = int.TryParse(segment, out var index) ? node[index]! : node[segment]!;
        }

        // Raw text is spliced in so values no JsonNode would produce (NUL escapes) reach the service as sent.
        const string marker = "\"__value__\"";
        if (int.TryParse(segments[^1], out var last))
        {
            node[last] = "__value__";
        }
        else
        {
            node[segments[^1]] = "__value__";
        }

        return body.ToJsonString().Replace(marker, raw, StringComparison.Ordinal);
    }
}
