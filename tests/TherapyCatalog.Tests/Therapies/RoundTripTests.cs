using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using TherapyCatalog.Tests.Infrastructure;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// A client sends back what it read (API.md: server-managed members are ignored when they agree
/// with the stored or referenced value): a GET body, an export line, a change-feed document and a
/// list item are each a valid PUT, and one that changes nothing keeps the version.
/// </summary>
public class RoundTripTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private async Task<(string Key, string Id, string ETag)> CreateAsync()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = NewCarT();
        body["otherNames"] = new JsonArray(new JsonObject { ["name"] = $"TC-{Guid.NewGuid():N}"[..12], ["kind"] = "code" });
        var (id, etag) = await TherapyBodies.CreateAsync(_client, key, body);
        return (key, id, etag);
    }

    private async Task<HttpResponseMessage> PutAsync(string key, string id, JsonNode body, string etag) =>
        await _client.SendAsync(Request(HttpMethod.Put, $"/v1/therapies/{id}", key, Body(body), etag));

    private static int Version(JsonNode therapy) => therapy["version"]!.GetValue<int>();

    [Fact]
    public async Task Put_of_the_body_a_get_returned_is_200_and_keeps_the_version()
    {
        var (key, id, etag) = await CreateAsync();
        var read = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!;

        var response = await PutAsync(key, id, read, etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var written = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(Version(read), Version(written));
        Assert.Equal(etag, response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task Put_of_an_export_line_is_200_and_keeps_the_version()
    {
        var (key, id, etag) = await CreateAsync();
        var line = (await _client.GetStringAsync("/v1/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonNode.Parse(l)!).Single(t => t["id"]!.GetValue<string>() == id);

        var response = await PutAsync(key, id, line, etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, Version(JsonNode.Parse(await response.Content.ReadAsStringAsync())!));
    }

    [Fact]
    public async Task Put_of_a_change_feed_document_is_200_and_keeps_the_version()
    {
        var (key, id, etag) = await CreateAsync();
        // The feed hands a change out once it is settled (every older transaction of the cluster ended):
        // the long poll waits for that.
        JsonNode? document = null;
        for (var cursor = ""; document is null;)
        {
            var page = JsonNode.Parse(await _client.GetStringAsync($"/v1/changes?limit=1000&wait=30{cursor}"))!;
            var changes = page["changes"]!.AsArray();
            document = changes.LastOrDefault(c => c!["therapyId"]!.GetValue<string>() == id)?["therapy"];
            Assert.True(document is not null || changes.Count > 0, "the feed ended without the created therapy");
            cursor = "&after=" + Uri.EscapeDataString(page["nextCursor"]!.GetValue<string>());
        }

        var response = await PutAsync(key, id, document.DeepClone(), etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, Version(JsonNode.Parse(await response.Content.ReadAsStringAsync())!));
    }

    [Fact]
    public async Task Put_of_a_list_item_with_its_matched_conditions_is_200()
    {
        var (key, id, etag) = await CreateAsync();
        var name = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!["proprietaryName"]!.GetValue<string>();
        var page = await _client.GetFromJsonAsync<JsonObject>($"/v1/therapies?q={Uri.EscapeDataString(name)}");
        var item = page!["items"]!.AsArray().Single(i => i!["id"]!.GetValue<string>() == id)!;
        Assert.NotNull(item["matchedConditions"]);

        var response = await PutAsync(key, id, item.DeepClone(), etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_changed_member_in_a_read_body_is_written_and_the_version_moves()
    {
        var (key, id, etag) = await CreateAsync();
        var read = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!;
        read["vectorDetail"] = "pseudotyped with VSV-G";

        var response = await PutAsync(key, id, read, etag);

        var written = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, Version(written));
        Assert.Equal("pseudotyped with VSV-G", written["vectorDetail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("id", "\"00000000-0000-0000-0000-000000000001\"")]
    [InlineData("version", "7")]
    [InlineData("createdAt", "\"2001-01-01T00:00:00Z\"")]
    public async Task A_server_managed_member_that_disagrees_is_a_400_naming_it_and_changes_nothing(string member, string value)
    {
        var (key, id, etag) = await CreateAsync();
        var read = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!;
        read[member] = JsonNode.Parse(value);
        read["vectorDetail"] = "changed";

        var response = await PutAsync(key, id, read, etag);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(member, out _), problem.ToString());
        var after = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!;
        Assert.Equal(1, Version(after));
    }

    [Fact]
    public async Task A_condition_name_that_is_not_its_conditions_is_a_400_naming_it()
    {
        var (key, id, etag) = await CreateAsync();
        var read = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!;
        read["indications"]![0]!["condition"] = "Hemophilia B";

        var response = await PutAsync(key, id, read, etag);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("indications[0].condition", out _), problem.ToString());
    }

    [Fact]
    public async Task Every_unknown_member_is_named_in_one_answer()
    {
        var (key, id, etag) = await CreateAsync();
        var read = JsonNode.Parse(await _client.GetStringAsync($"/v1/therapies/{id}"))!;
        read["colour"] = "blue";
        read["administration"]!["speed"] = "fast";
        read["approvals"]![0]!["stamp"] = true;

        var response = await PutAsync(key, id, read, etag);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order().ToList();
        Assert.Equal(["administration.speed", "approvals[0].stamp", "colour"], errors);
    }

    [Fact]
    public async Task A_create_with_an_id_is_a_400_the_id_is_the_services()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = NewCarT();
        body["id"] = Guid.NewGuid().ToString();

        var response = await _client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", key, Body(body)));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("id", out _), problem.ToString());
    }

    [Fact]
    public async Task A_merge_patch_may_carry_the_version_it_read()
    {
        var (key, id, etag) = await CreateAsync();
        var patch = new JsonObject { ["version"] = 1, ["vectorDetail"] = "AAV9" };

        var response = await _client.SendAsync(Request(HttpMethod.Patch, $"/v1/therapies/{id}", key, Body(patch, "application/merge-patch+json"), etag));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("AAV9", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["vectorDetail"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_older_client_that_sends_only_ndcs_keeps_the_stored_packages_of_those_codes()
    {
        var (key, id, etag) = await CreateAsync();
        var packages = new JsonArray(
            new JsonObject { ["ndc"] = "12345-678-90", ["description"] = "1 bag", ["source"] = "https://example.org/label", ["sourceKind"] = "label" });
        var patch = new JsonObject { ["packages"] = packages };
        var patched = await _client.SendAsync(Request(HttpMethod.Patch, $"/v1/therapies/{id}", key, Body(patch, "application/merge-patch+json"), etag));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var read = JsonNode.Parse(await patched.Content.ReadAsStringAsync())!.AsObject();
        read.Remove("packages");
        read.Remove("otherNames");

        var response = await PutAsync(key, id, read, patched.Headers.ETag!.ToString());

        var written = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1 bag", written["packages"]![0]!["description"]!.GetValue<string>());
        Assert.Equal("12345-0678-90", written["packages"]![0]!["ndc11"]!.GetValue<string>());
        Assert.Single(written["otherNames"]!.AsArray());
    }
}
