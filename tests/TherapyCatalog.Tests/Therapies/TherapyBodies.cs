using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>Write bodies for tests: a valid new therapy (from the contract's rules), each made unique.</summary>
public static class TherapyBodies
{
    public static JsonObject NewCarT(string? slug = null) => new()
    {
        ["slug"] = slug ?? $"test-car-t-{Guid.NewGuid():N}"[..30],
        ["proprietaryName"] = $"Testcel {Guid.NewGuid():N}"[..20],
        ["properName"] = "testcabtagene autoleucel",
        ["manufacturer"] = "Test Therapeutics",
        ["modality"] = "cell-based-gene",
        ["cellSource"] = "autologous",
        ["delivery"] = "ex-vivo",
        ["mechanism"] = "introduce",
        ["vector"] = "lentiviral",
        ["vectorDetail"] = null,
        ["target"] = "CD19",
        ["route"] = "intravenous",
        ["administration"] = new JsonObject
        {
            ["summary"] = "single intravenous infusion", ["infusionMinutes"] = 30,
            ["requiresLeukapheresis"] = true, ["requiresLymphodepletion"] = true, ["rems"] = false,
        },
        ["indications"] = new JsonArray(new JsonObject
        {
            ["conditionId"] = "large-b-cell-lymphoma", ["population"] = "adults with relapsed or refractory LBCL",
            ["regulator"] = "FDA", ["approvedOn"] = "2024-01-15",
        }),
        ["approvals"] = new JsonArray(new JsonObject
        {
            ["regulator"] = "FDA", ["applicationNumber"] = null, ["approvedOn"] = "2024-01-15", ["status"] = "approved",
        }),
        ["listPrice"] = new JsonObject { ["amount"] = 400000, ["currency"] = "USD", ["year"] = 2024, ["source"] = "https://example.org/price" },
        ["ndcs"] = new JsonArray(),
        ["status"] = "active",
        ["sources"] = new JsonArray("https://example.org/label"),
    };

    /// <summary>Creates <paramref name="body"/> through the API with <paramref name="apiKey"/> (asserting 201); returns the new therapy's id and ETag.</summary>
    public static async Task<(string Id, string ETag)> CreateAsync(HttpClient client, string apiKey, JsonObject body)
    {
        var response = await client.SendAsync(Request(HttpMethod.Post, "/v1/therapies", apiKey, Body(body)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        return (id, response.Headers.ETag!.ToString());
    }

    public static StringContent Body(JsonNode body, string mediaType = "application/json") =>
        new(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue(mediaType));

    public static HttpRequestMessage Request(HttpMethod method, string path, string? apiKey, HttpContent? content = null, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return request;
    }
}
