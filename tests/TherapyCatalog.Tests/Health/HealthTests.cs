using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Health;

public class HealthTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_answers_200_when_the_database_answers(string path)
    {
        var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("healthy", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Swagger_ui_and_the_openapi_document_are_served()
    {
        var ui = await _client.GetAsync("/swagger/index.html");
        var document = await _client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        var openApi = JsonDocument.Parse(await document.Content.ReadAsStringAsync()).RootElement;
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/therapies/{idOrSlug}", out _));
    }

    [Fact]
    public async Task Unknown_route_returns_404_problem()
    {
        var response = await _client.GetAsync("/v1/nothing-here");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Wrong_method_returns_405_problem()
    {
        var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/therapies/kymriah"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.MethodNotAllowed);
    }
}
