using System.Text.Json.Nodes;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// What a generated client needs from the document to use the API as it is: the conditional and
/// idempotency headers as parameters, the ETag of a create, a merge-patch schema that asks for
/// nothing, and anonymous reads that say they need no key.
/// </summary>
public class GeneratedClientContractTests
{
    private static readonly JsonNode Document = JsonNode.Parse(File.ReadAllText(OpenApiDocumentTests.CommittedPath))!;

    private static JsonNode Operation(string method, string path) => Document["paths"]![path]![method]!;

    private static string[] Headers(JsonNode operation) =>
        [.. (operation["parameters"]?.AsArray() ?? []).Where(p => p!["in"]!.GetValue<string>() == "header").Select(p => p!["name"]!.GetValue<string>())];

    [Theory]
    [InlineData("get", "/v1/therapies/{idOrSlug}", "If-None-Match")]
    [InlineData("put", "/v1/therapies/{idOrSlug}", "If-Match")]
    [InlineData("patch", "/v1/therapies/{idOrSlug}", "If-Match")]
    [InlineData("delete", "/v1/therapies/{idOrSlug}", "If-Match")]
    [InlineData("post", "/v1/therapies", "Idempotency-Key")]
    public void The_headers_the_service_reads_are_parameters(string method, string path, string header)
    {
        Assert.Contains(header, Headers(Operation(method, path)));
    }

    [Fact]
    public void A_create_declares_the_etag_it_answers_with()
    {
        Assert.NotNull(Operation("post", "/v1/therapies")["responses"]!["201"]!["headers"]!["ETag"]);
    }

    [Fact]
    public void The_merge_patch_body_requires_no_member()
    {
        var reference = Operation("patch", "/v1/therapies/{idOrSlug}")["requestBody"]!["content"]!["application/merge-patch+json"]!["schema"]!["$ref"]!.GetValue<string>();
        var schema = Document["components"]!["schemas"]![reference.Split('/')[^1]]!;

        Assert.Null(schema["required"]);
        Assert.NotNull(schema["properties"]!["vectorDetail"]);
    }

    [Fact]
    public void Anonymous_reads_say_they_need_no_key_and_writes_name_the_key()
    {
        Assert.Empty(Operation("get", "/v1/therapies")["security"]!.AsArray());
        Assert.NotEmpty(Operation("put", "/v1/therapies/{idOrSlug}")["security"]!.AsArray());
    }

    [Fact]
    public void Therapies_come_first_among_the_tags_and_every_tag_is_described()
    {
        var tags = Document["tags"]!.AsArray();

        Assert.Equal("Therapies", tags[0]!["name"]!.GetValue<string>());
        Assert.All(tags, tag => Assert.False(string.IsNullOrWhiteSpace(tag!["description"]?.GetValue<string>())));
    }

    [Theory]
    [InlineData("Therapy", "modality", new[] { "cell", "gene", "cell-based-gene" })]          // API.md
    [InlineData("TherapyInput", "cellSource", new[] { "autologous", "allogeneic", null })]  // null: no cells given
    [InlineData("Approval", "status", new[] { "approved", "withdrawn", "suspended" })]
    [InlineData("Package", "sourceKind", new[] { "regulator", "label", "company", "press", null })]
    [InlineData("ChangeItem", "kind", new[] { "upsert", "delete" })]                       // API.md: upserts and tombstones
    public void Vocabularies_are_enums_on_the_resource_schemas(string schema, string member, string?[] values)
    {
        var declared = Document["components"]!["schemas"]![schema]!["properties"]![member]!["enum"]!.AsArray()
            .Select(v => v?.GetValue<string>());

        Assert.Equal(values, declared);
    }

    [Fact]
    public void Every_error_answer_has_an_example_of_its_own_status()
    {
        var errors = Document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().SelectMany(op => op.Value!["responses"]!.AsObject()
                .Where(r => r.Key[0] is '4' or '5')
                .Select(r => (Where: $"{op.Key} {path.Key} {r.Key}", Status: int.Parse(r.Key),
                    Example: r.Value!["content"]?["application/problem+json"]?["example"]))))
            .ToList();

        Assert.NotEmpty(errors);
        Assert.Empty(errors.Where(e => e.Example?["status"]?.GetValue<int>() != e.Status).Select(e => e.Where));
    }
}
