using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>A request body read and parsed, or the 4xx problem that says why it could not be.</summary>
public sealed record JsonBody<T>(T? Value, byte[] Raw, IResult? Problem) where T : class;

/// <summary>
/// Reads write bodies strictly and safely: the media type (415), at most <see cref="MaxBytes"/>
/// (413, without reading more than that), valid JSON of the expected shape with no unknown
/// members (400 naming the JSON path). Nothing reaches a handler that could make the database
/// fail on it (NUL characters are refused here: PostgreSQL text cannot hold them).
/// </summary>
public static class JsonBody
{
    public const long MaxBytes = 1024 * 1024;
    public const string Json = "application/json";
    public const string MergePatch = "application/merge-patch+json";

    public static async Task<JsonBody<T>> ReadAsync<T>(HttpRequest request, string mediaType, CancellationToken ct) where T : class
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase)
            || (contentType.Charset.HasValue && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return Fail<T>(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"The body must be sent as '{mediaType}' (UTF-8).");
        }

        if (request.ContentLength > MaxBytes)
        {
            return TooLarge<T>();
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxBytes)
                {
                    return TooLarge<T>();
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (IOException e) when (e is not BadHttpRequestException && !ct.IsCancellationRequested)
        {
            // Kestrel refuses a malformed chunked body with a BadHttpRequestException (a 400 already),
            // but a chunk size that overflows arrives as an IOException around an OverflowException.
            return Fail<T>(StatusCodes.Status400BadRequest, "Unreadable body", $"The request body could not be read: {e.Message}");
        }

        var raw = buffer.ToArray();
        if (raw.Length == 0)
        {
            return Fail<T>(StatusCodes.Status400BadRequest, "Empty body", "The request needs a JSON body.");
        }

        if (ContainsEscapedNul(raw))
        {
            return Invalid<T>("$", "NUL characters (\\u0000) are not accepted in any value.", raw);
        }

        if (HasUnpairedSurrogate(raw))
        {
            return Invalid<T>("$", "Text must be valid Unicode: an unpaired surrogate escape such as \\ud800 is not.", raw);
        }

        try
        {
            if (typeof(JsonNode).IsAssignableFrom(typeof(T)))
            {
                // A JsonObject takes a member given twice as a dictionary key clash (not a JsonException):
                // the document reader refuses it first, as the typed reads do (AllowDuplicateProperties).
                using var _ = JsonDocument.Parse(raw, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = CatalogJson.Options.MaxDepth });
            }

            var value = JsonSerializer.Deserialize<T>(raw, CatalogJson.Options);
            return value is null ? Invalid<T>("$", "The body must be a JSON object.", raw) : new JsonBody<T>(value, raw, null);
        }
        catch (JsonException e)
        {
            return Invalid<T>(e.Path ?? "$", Explain(e), raw);
        }
    }

    /// <summary>The JSON path of a member, as clients write it (<c>indications[0].icd10</c>).</summary>
    public static string ClientPath(string jsonPath) => jsonPath is "$" or "" ? "$" : jsonPath.TrimStart('$').TrimStart('.');

    private static string Explain(JsonException e) => e.Message switch
    {
        var m when m.Contains("could not be mapped", StringComparison.Ordinal) => "This member is not part of the resource.",
        var m when m.Contains("could not be converted", StringComparison.Ordinal) => "The value has the wrong JSON type or format for this member.",
        var m when m.Contains("maximum configured depth", StringComparison.Ordinal) => "The JSON is nested too deeply.",
        var m when m.Contains("Duplicate property", StringComparison.Ordinal) => "A member is given twice.",
        _ => "The body is not valid JSON" + (e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})." : "."),
    };

    /// <summary>
    /// An escaped lone surrogate (<c>"\ud800"</c>) is valid JSON but not text: a typed read refuses
    /// it, while a merge patch (a JsonObject) carried it until it was written out, a 500.
    /// </summary>
    private static bool HasUnpairedSurrogate(byte[] raw)
    {
        if (raw.AsSpan().IndexOf("\\u"u8) < 0)
        {
            return false;
        }

        var reader = new Utf8JsonReader(raw, new JsonReaderOptions { MaxDepth = 1000 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    reader.GetString();
                }
            }
        }
        catch (InvalidOperationException)
        {
            return true;
        }
        catch (JsonException)
        {
            return false; // malformed JSON: the parse that follows says where
        }

        return false;
    }

    private static bool ContainsEscapedNul(byte[] raw) =>
        raw.AsSpan().IndexOf("\\u0000"u8) >= 0 || Encoding.UTF8.GetString(raw).Contains("\\u0000", StringComparison.OrdinalIgnoreCase);

    private static JsonBody<T> Invalid<T>(string path, string message, byte[] raw) where T : class =>
        new(null, raw, TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [ClientPath(path)] = [message] },
            title: "The request body is invalid",
            detail: "See 'errors' for what is wrong, by JSON path."));

    private static JsonBody<T> TooLarge<T>() where T : class =>
        Fail<T>(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body may be at most {MaxBytes} bytes.");

    private static JsonBody<T> Fail<T>(int status, string title, string detail) where T : class =>
        new(null, [], TypedResults.Problem(statusCode: status, title: title, detail: detail));
}
