using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Reliability;

namespace TherapyCatalog.Tests.Infrastructure;

public static class ProblemAssert
{
    /// <summary>Asserts an RFC 9457 problem document with the members API.md requires (<see cref="ProblemDocument"/>), and returns it.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var defect = ProblemDocument.Defect(response, body);
        Assert.True(defect is null, $"not a valid problem document ({defect}): {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
