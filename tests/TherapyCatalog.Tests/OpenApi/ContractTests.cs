using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// Real answers from every endpoint, successes and errors, validate against the committed OpenAPI
/// document: the status code is documented for the operation, the media type too, and the body
/// matches that response's schema (JSON Schema 2020-12, as OpenAPI 3.1 defines it).
/// </summary>
public partial class ContractTests(BootstrappedCatalogApiFactory api) : IClassFixture<BootstrappedCatalogApiFactory>
{
    private static readonly Uri DocumentUri = new("https://therapy-catalog.example/openapi.json");
    private static readonly JsonNode Document = JsonNode.Parse(File.ReadAllText(OpenApiDocumentTests.CommittedPath))!;
    private readonly HttpClient _client = api.CreateClient();
    private const string Admin = BootstrappedCatalogApiFactory.BootstrapKey;

    [Fact]
    public async Task Read_answers_match_the_document()
    {
        var kymriah = JsonNode.Parse(await _client.GetStringAsync("/v1/therapies/kymriah"))!;
        var etag = $"\"{Guid.Parse(kymriah["id"]!.GetValue<string>()):N}-{kymriah["version"]}\"";
        var notModified = new HttpRequestMessage(HttpMethod.Get, "/v1/therapies/kymriah");
        notModified.Headers.TryAddWithoutValidation("If-None-Match", etag);

        await AssertAllMatchAsync(
            (Get("/health/live"), HttpStatusCode.OK),
            (Get("/health/ready"), HttpStatusCode.OK),
            (Get("/v1/therapies?condition=lymphoma"), HttpStatusCode.OK),
            (Get("/v1/therapies?condition=blood%20cancer&modality=cell-based-gene&limit=2"), HttpStatusCode.OK),
            (Get("/v1/therapies?condition=headache"), HttpStatusCode.OK),
            (Get("/v1/therapies?modality=virus"), HttpStatusCode.BadRequest),
            (Get("/v1/therapies?limit=0"), HttpStatusCode.BadRequest),
            (Get("/v1/therapies?cursor=forged"), HttpStatusCode.BadRequest),
            (Get("/v1/facets?regulator=FDA"), HttpStatusCode.OK),
            (Get("/v1/facets?route=oral"), HttpStatusCode.BadRequest),
            (Get("/v1/conditions?q=lymph"), HttpStatusCode.OK),
            (Get("/v1/conditions?limit=1000"), HttpStatusCode.BadRequest),
            (Get("/v1/therapies/kymriah"), HttpStatusCode.OK),
            (notModified, HttpStatusCode.NotModified),
            (Get("/v1/therapies/nope"), HttpStatusCode.NotFound),
            (Get("/v1/therapies/Not%20A%20Slug"), HttpStatusCode.BadRequest),
            (Get("/v1/therapies/zolgensma/history"), HttpStatusCode.OK),
            (Get("/v1/therapies/nope/history"), HttpStatusCode.NotFound),
            (Get("/v1/changes?limit=5"), HttpStatusCode.OK),
            (Get("/v1/changes?limit=0"), HttpStatusCode.BadRequest),
            (Get("/v1/changes?after=forged"), HttpStatusCode.BadRequest),
            (Get("/v1/export?format=ndjson"), HttpStatusCode.OK),
            (Get("/v1/export?format=csv"), HttpStatusCode.OK),
            (Get("/v1/export?format=xml"), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Write_answers_match_the_document()
    {
        var writer = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = TherapyBodies.NewCarT();
        var created = await _client.SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", writer, TherapyBodies.Body(body)));
        await AssertMatchesAsync(HttpMethod.Post, "/v1/therapies", created, HttpStatusCode.Created);
        var therapy = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var id = therapy["id"]!.GetValue<string>();
        var etag = created.Headers.ETag!.ToString();
        var idempotent = TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", writer, TherapyBodies.Body(TherapyBodies.NewCarT()));
        idempotent.Headers.Add("Idempotency-Key", "contract-1");
        var reused = TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", writer, TherapyBodies.Body(TherapyBodies.NewCarT()));
        reused.Headers.Add("Idempotency-Key", "contract-1");
        body["target"] = "CD22";

        await AssertAllMatchAsync(
            (idempotent, HttpStatusCode.Created),
            (reused, HttpStatusCode.UnprocessableEntity),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", null, TherapyBodies.Body(TherapyBodies.NewCarT())), HttpStatusCode.Unauthorized),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", writer, TherapyBodies.Body(TherapyBodies.NewCarT("kymriah"))), HttpStatusCode.Conflict),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", writer, new StringContent("{\"slug\":1}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", writer, new StringContent("x", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType),
            (TherapyBodies.Request(HttpMethod.Put, $"/v1/therapies/{id}", writer, TherapyBodies.Body(body), ifMatch: "\"stale-1\""), HttpStatusCode.PreconditionFailed),
            (TherapyBodies.Request(HttpMethod.Put, $"/v1/therapies/{id}", writer, TherapyBodies.Body(body), ifMatch: etag), HttpStatusCode.OK),
            (TherapyBodies.Request(HttpMethod.Put, $"/v1/therapies/{Guid.NewGuid()}", writer, TherapyBodies.Body(body)), HttpStatusCode.NotFound),
            (TherapyBodies.Request(HttpMethod.Put, "/v1/therapies/kymriah", writer, TherapyBodies.Body(body)), HttpStatusCode.BadRequest),
            (TherapyBodies.Request(HttpMethod.Patch, $"/v1/therapies/{id}", writer, TherapyBodies.Body(new JsonObject { ["target"] = "BCMA" }, "application/merge-patch+json")), HttpStatusCode.OK),
            (TherapyBodies.Request(HttpMethod.Delete, $"/v1/therapies/{id}", writer), HttpStatusCode.NoContent),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", writer, new StringContent("{\"name\":\"x\",\"scopes\":[\"catalog:write\"]}", Encoding.UTF8, "application/json")), HttpStatusCode.Forbidden),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", Admin, new StringContent("{\"name\":\"x\",\"scopes\":[\"catalog:write\"]}", Encoding.UTF8, "application/json")), HttpStatusCode.Created),
            (TherapyBodies.Request(HttpMethod.Post, "/v1/api-keys", Admin, new StringContent("{\"name\":\"x\",\"scopes\":[\"root\"]}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest),
            (TherapyBodies.Request(HttpMethod.Get, "/v1/api-keys", Admin), HttpStatusCode.OK),
            (TherapyBodies.Request(HttpMethod.Delete, $"/v1/api-keys/{Guid.NewGuid()}", Admin), HttpStatusCode.NotFound));
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private async Task AssertAllMatchAsync(params (HttpRequestMessage Request, HttpStatusCode Expected)[] exchanges)
    {
        var failures = new List<string>();
        foreach (var (request, expected) in exchanges)
        {
            var method = request.Method;
            var path = request.RequestUri!.OriginalString;
            var response = await _client.SendAsync(request);
            try
            {
                await AssertMatchesAsync(method, path, response, expected);
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException)
            {
                failures.Add($"{method} {path}: {e.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static async Task AssertMatchesAsync(HttpMethod method, string path, HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        var template = Template(path.Split('?')[0]);
        var operation = Document["paths"]![template]?[method.Method.ToLowerInvariant()];
        Assert.True(operation is not null, $"{method} {template} is not in the document");
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var documented = operation!["responses"]![status];
        Assert.True(documented is not null, $"{method} {template} answered {status}, which the document does not list");

        var body = await response.Content.ReadAsStringAsync();
        if (body.Length == 0)
        {
            Assert.True(documented!["content"] is null || documented["content"]!.AsObject().Count == 0, "an empty body where the document promises content");
            return;
        }

        var mediaType = response.Content.Headers.ContentType!.MediaType!;
        var content = documented!["content"]?[mediaType];
        Assert.True(content is not null, $"{status} answered as {mediaType}, which the document does not list for it");
        if (content!["schema"] is null || mediaType == "text/csv")
        {
            return;
        }

        var pointer = $"#/paths/{Escape(template)}/{method.Method.ToLowerInvariant()}/responses/{status}/content/{Escape(mediaType)}/schema";
        string[] documents = [body];
        if (mediaType == "application/x-ndjson")
        {
            // The body is text (the media type's schema); each line is a document of the line schema (x-itemSchema, as OpenAPI 3.2's itemSchema).
            var text = Validate(pointer, JsonValue.Create(body));
            Assert.True(text.Length == 0, $"the body does not match {pointer}: {text}");
            Assert.EndsWith("\n", body, StringComparison.Ordinal);
            pointer = pointer[..^"/schema".Length] + "/x-itemSchema";
            Assert.True(content["x-itemSchema"] is not null, $"{mediaType} has no x-itemSchema for its lines");
            documents = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        foreach (var instance in documents)
        {
            var errors = Validate(pointer, JsonNode.Parse(instance));
            Assert.True(errors.Length == 0, $"the body does not match {pointer}: {errors}\n{instance[..Math.Min(instance.Length, 600)]}");
        }
    }

    private static string Validate(string pointer, JsonNode? instance)
    {
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
        options.SchemaRegistry.Register(DocumentUri, new JsonNodeBaseDocument(Document, DocumentUri));
        var schema = JsonSchema.FromText($$"""{ "$ref": "{{DocumentUri}}{{pointer}}" }""");
        var result = schema.Evaluate(instance, options);
        return result.IsValid
            ? ""
            : string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}")).Take(10));
    }

    // The document's path for a request path: a literal segment beats a parameter.
    private static string Template(string path)
    {
        var matches = Document["paths"]!.AsObject().Select(p => p.Key)
            .Where(t => Regex.IsMatch(path, "^" + Parameter().Replace(Regex.Escape(t).Replace(@"\{", "{", StringComparison.Ordinal), "[^/]+") + "$"))
            .OrderBy(t => t.Count(c => c == '{'))
            .ToList();
        return matches.FirstOrDefault() ?? path;
    }

    private static string Escape(string segment) => segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
