using System.Text.Json;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>
/// What makes an answer a valid RFC 9457 problem document, in one place: <see cref="Infrastructure.ProblemAssert"/>
/// asserts it, and tests that count thousands of answers call <see cref="Defect"/> directly.
/// </summary>
public static class ProblemDocument
{
    private static readonly string[] Required = ["type", "title", "detail", "traceId"];

    /// <summary>Why an answer is not a valid problem document, or null when it is.</summary>
    public static string? Defect(HttpResponseMessage response, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType?.MediaType ?? "(none)"}";
        }

        JsonElement problem;
        try
        {
            problem = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return "body is not JSON";
        }

        if (problem.ValueKind != JsonValueKind.Object)
        {
            return "body is not a JSON object";
        }

        foreach (var member in Required)
        {
            if (!problem.TryGetProperty(member, out var value) || value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
            {
                return $"no '{member}'";
            }
        }

        if (!problem.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Number || status.GetInt32() != (int)response.StatusCode)
        {
            return "'status' differs from the HTTP status";
        }

        if (body.Contains("   at ", StringComparison.Ordinal) || body.Contains("Npgsql", StringComparison.Ordinal))
        {
            return "leaks a stack trace or driver detail";
        }

        return null;
    }
}
