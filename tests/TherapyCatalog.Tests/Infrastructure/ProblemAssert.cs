using System.Net;
using System.Text.Json;

namespace TherapyCatalog.Tests.Infrastructure;

public static class ProblemAssert
{
    /// <summary>Asserts an RFC 9457 problem document with the members API.md requires, and returns it.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        foreach (var member in new[] { "type", "title", "detail", "traceId" })
        {
            Assert.True(problem.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String
                        && value.GetString()!.Length > 0, $"problem lacks '{member}': {body}");
        }

        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Npgsql", body, StringComparison.Ordinal);
        return problem;
    }
}
