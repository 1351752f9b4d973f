using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TherapyCatalog.Tests.Therapies;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>One generated request, described for the report.</summary>
public sealed record HostileRequest(string Operation, string Family, string Method, string Url, byte[]? Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public string Describe() =>
        $"{Method} {Truncate(Url)} [{Family}]" + (ContentType is null ? "" : $" {ContentType}") +
        (Body is null ? "" : " body: " + Truncate(Encoding.UTF8.GetString(Body))) +
        string.Concat(Headers.Select(h => $" {h.Key}: {Truncate(h.Value)}"));

    private static string Truncate(string value) => value.Length <= 160 ? value : value[..160] + $"…({value.Length} chars)";
}

/// <summary>
/// Generates invalid and edge-case requests from an OpenAPI document, deterministically (seeded):
/// for every operation, hostile values in each path and query parameter (wrong types, huge and
/// empty strings, Unicode edge cases, NUL, SQL/JSON/template injection, overflowing numbers,
/// forged cursors), bodies derived from the operation's schema with one or two members broken
/// (wrong types, hostile values, members missing or unknown, deep nesting), raw malformed or
/// oversized bodies, wrong content types, forged ETags and other hostile headers, and methods the
/// path does not have.
/// </summary>
public sealed class HostileRequests(JsonElement document, Random random, IReadOnlyDictionary<string, string> knownIds)
{
    public static readonly string[] HostileStrings =
    [
        "", " ", "\t", "\r\n", "a", new string('a', 10_000), new string('é', 3000), "\0", "a\0b", "\u0000\u0000",
        "' OR '1'='1", "'; DROP TABLE therapies; --", "\" OR 1=1 --", "1; SELECT pg_sleep(10)", "1' AND pg_sleep(10)--", "$$;--",
        "{\"$gt\":\"\"}", "{\"slug\":\"x\"}", "[1,2", "\\u0000", "\\", "\\\\", "<script>alert(1)</script>", "${jndi:ldap://x/a}", "{{7*7}}", "%s%n%x",
        "../../etc/passwd", "/", "//", "?", "#", "&", "=", "%", "%00", "%ZZ", "+", "*", ",", ";", "|",
        "\uFEFF", "\u202Ekymriah", "\u200B", "e\u0301", "😀", "👩‍👩‍👧‍👦", "\uFFFF", "\uFFFE", "İ", "ß", "ǅ", "\u0085", "\u2028", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\ud800", "\udfff",
        "null", "true", "false", "[]", "{}", "-1", "0", "-0", "1.5", "NaN", "Infinity", "-Infinity", "1e309", "1e-400", "0x10", "1_000",
        "2147483648", "-2147483649", "9223372036854775808", "99999999999999999999999999999", "-99999999999999999999999999999",
        "2024-02-30", "0000-01-01", "9999-12-31", "10000-01-01", "2024-13-01", "1899-12-31", "2024-01-15T00:00:00Z", "24/01/2015",
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "{00000000-0000-0000-0000-000000000000}", "00000000000000000000000000000000",
        "kymriah", "KYMRIAH", " kymriah", "kymriah ", "-kymriah-", "a--b", "kymriah%2Fhistory", new string('k', 101),
        "DLBCL", "C83.1", "c83", "lymphona", "a b c d e f g h i j k l m n o p", "%%%", "___", "'", "\"", "`",
        "relevance", "-approvedOn", "any", "gene", "CELL", "ndjson", "csv", "xml",
        "AAAAAAAAAAAAAAAAAAAAAAAA", "eyJrIjoxfQ", "eyJrIjoxfQ.AAAA", "not-a-cursor", "====", "-_-_", new string('A', 4000),
    ];

    /// <summary>The hostile strings a JSON writer can encode (lone surrogates go into bodies as escapes, in <see cref="HostileJson"/>).</summary>
    private static readonly string[] EncodableStrings = [.. HostileStrings.Where(s => !s.Any(char.IsSurrogate) || s.Any(char.IsHighSurrogate) && s.Any(char.IsLowSurrogate))];

    /// <summary>JSON values that are wrong or extreme for some member: every JSON type, numbers out of range, nesting.</summary>
    private static readonly string[] HostileJson =
    [
        "null", "true", "false", "0", "-1", "1.5", "-0", "1e309", "-1e309", "1e-400", "2147483648", "-2147483649", "9223372036854775808",
        "99999999999999999999999999999999999999", "0.0000000000000000000000000001", "[]", "{}", "[null]", "[[]]", "{\"a\":1}", "\"\"",
        "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\uffff\"", "\"\\\\\"", "\"\\\"\"",
        "[" + string.Join(',', Enumerable.Repeat("\"x\"", 2000)) + "]",
        new string('[', 200) + new string(']', 200),
        string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200),
    ];

    private static readonly string[] RawBodies =
    [
        "", " ", "{", "}", "[", "]", "nul", "{\"a\":}", "{'slug':'x'}", "{\"slug\":\"x\",}", "{\"slug\":\"x\"} {}", "{\"slug\":\"x\"}garbage",
        "/* comment */ {}", "{\"slug\":\"a\",\"slug\":\"b\"}", "[]", "[{}]", "\"string\"", "42", "true", "null", "1e400",
        "{\"indications\":" + new string('[', 100_000), new string('{', 50_000), new string('[', 2000) + new string(']', 2000),
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
        "application/json; charset=latin1", "application/JSON", "application/json;;", "*/*", "application/*", "application/merge-patch+json",
        "application/json", "application/problem+json", "application/octet-stream", "json", "application/json; charset=\"utf-8\"",
    ];

    private static readonly string[] HostileETags =
    [
        "*", "\"\"", "\"x\"", "W/\"x\"", "x", "\"00000000000000000000000000000000-1\"", "\"" + new string('9', 200) + "\"", "\"a\", \"b\"",
        "\"{id}-0\"", "\"{id}--1\"", "\"{id}-2147483648\"", "\"{id}-99999999999999999999\"", "W/\"{id}-1\"", "\"{id}-1\"", "\"{ID}-1\"", ",,,", "\"",
    ];

    private static readonly string[] OtherMethods = ["PUT", "PATCH", "DELETE", "POST", "OPTIONS", "TRACE", "PROPFIND", "GET"];

    private readonly List<(string Path, string Method, JsonElement Operation)> _operations = [.. Operations(document)];

    public IReadOnlyList<string> OperationNames => [.. _operations.Select(o => $"{o.Method} {o.Path}")];

    private static IEnumerable<(string, string, JsonElement)> Operations(JsonElement document)
    {
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete" or "head" or "options"))
            {
                yield return (path.Name, method.Name.ToUpperInvariant(), method.Value);
            }
        }
    }

    /// <summary>The requests of one round: every operation once, each with a family chosen at random.</summary>
    public IEnumerable<HostileRequest> Round()
    {
        foreach (var (path, method, operation) in _operations)
        {
            yield return Generate(path, method, operation);
        }
    }

    private HostileRequest Generate(string path, string method, JsonElement operation)
    {
        var parameters = Parameters(operation).ToList();
        var body = RequestBody(operation);
        var families = new List<string> { "path", "query", "query", "headers", "method" };
        if (body is not null)
        {
            families.AddRange(["body-member", "body-member", "body-member", "body-member", "body-raw", "content-type", "body-large"]);
        }

        var family = Pick(families);
        var operationName = $"{method} {path}";
        var headers = new List<KeyValuePair<string, string>>();
        var query = new List<string>();

        // Path parameters: a real id or slug most of the time, so the other families reach deep; hostile for the path family.
        var url = System.Text.RegularExpressions.Regex.Replace(path, @"\{(\w+)\}", m =>
            family == "path" || random.Next(10) == 0 ? EscapePathValue(Pick(HostileStrings)) : ValidPathValue(m.Groups[1].Value, method));

        foreach (var parameter in parameters.Where(p => p.In == "query"))
        {
            if (family == "query" ? random.Next(3) > 0 : random.Next(6) == 0)
            {
                var repeats = parameter.IsArray ? random.Next(1, 4) : random.Next(10) == 0 ? 2 : 1;
                for (var i = 0; i < repeats; i++)
                {
                    query.Add($"{EscapeQueryName(parameter.Name)}={EscapeQueryValue(QueryValue(parameter))}");
                }
            }
        }

        if (family == "query" && random.Next(5) == 0)
        {
            query.Add($"{EscapeQueryValue(Pick(HostileStrings))}={EscapeQueryValue(Pick(HostileStrings))}"); // an unknown parameter
        }

        foreach (var parameter in parameters.Where(p => p.In == "header"))
        {
            if (family == "headers" || random.Next(4) == 0)
            {
                headers.Add(new(parameter.Name, HeaderValue(parameter.Name, url)));
            }
        }

        if (family == "headers")
        {
            foreach (var name in new[] { "If-Match", "If-None-Match", "Idempotency-Key", "Accept", "Accept-Encoding", "X-Api-Key" })
            {
                if (random.Next(3) == 0 && headers.All(h => !h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)))
                {
                    headers.Add(new(name, HeaderValue(name, url)));
                }
            }
        }

        byte[]? content = null;
        string? contentType = null;
        if (body is { } b)
        {
            contentType = b.MediaType;
            content = family switch
            {
                "body-raw" => RawBody(),
                "body-large" => LargeBody(),
                _ => Encoding.UTF8.GetBytes(WithRawValues(BrokenBody(b.Schema, b.Name, b.MediaType).ToJsonString())),
            };
            if (family == "content-type")
            {
                contentType = random.Next(8) == 0 ? null : Pick(ContentTypes);
            }
        }

        if (family == "method")
        {
            method = Pick(OtherMethods);
            if (method is "POST" or "PUT" or "PATCH" && content is null && random.Next(2) == 0)
            {
                content = "{}"u8.ToArray();
                contentType = "application/json";
            }
        }

        var full = url + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return new HostileRequest(operationName, family, method, full, content, contentType, headers);
    }

    private sealed record Parameter(string Name, string In, bool IsArray, JsonElement Schema);

    private IEnumerable<Parameter> Parameters(JsonElement operation)
    {
        if (!operation.TryGetProperty("parameters", out var parameters))
        {
            yield break;
        }

        foreach (var p in parameters.EnumerateArray())
        {
            var parameter = Resolve(p);
            var schema = parameter.TryGetProperty("schema", out var s) ? Resolve(s) : default;
            yield return new Parameter(parameter.GetProperty("name").GetString()!, parameter.GetProperty("in").GetString()!,
                schema.ValueKind == JsonValueKind.Object && HasType(schema, "array"), schema);
        }
    }

    private (string MediaType, JsonElement Schema, string? Name)? RequestBody(JsonElement operation)
    {
        if (!operation.TryGetProperty("requestBody", out var body) || !Resolve(body).TryGetProperty("content", out var content))
        {
            return null;
        }

        var first = content.EnumerateObject().First();
        if (!first.Value.TryGetProperty("schema", out var schema))
        {
            return (first.Name, default, null);
        }

        var name = schema.TryGetProperty("$ref", out var reference) ? reference.GetString()!.Split('/')[^1] : null;
        return (first.Name, Resolve(schema), name);
    }

    private string QueryValue(Parameter parameter)
    {
        string value;
        do
        {
            value = random.Next(8) switch
            {
                0 when parameter.Schema.ValueKind == JsonValueKind.Object => ValidScalar(parameter.IsArray && parameter.Schema.TryGetProperty("items", out var items) ? Resolve(items) : parameter.Schema),
                1 => ForgedCursor(),
                _ => Pick(HostileStrings),
            };
        }
        // A long poll would hold the request for its wait: only the waits the contract refuses, or none.
        while (parameter.Name.Equals("wait", StringComparison.OrdinalIgnoreCase)
               && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 30);

        return value;
    }

    /// <summary>Cursor-shaped text: base64url of JSON, of random bytes, truncated or extended signatures.</summary>
    private string ForgedCursor()
    {
        var payloads = new[]
        {
            "{\"v\":1}", "{\"k\":[\"zzz\",\"00000000-0000-0000-0000-000000000000\"],\"s\":\"name\"}", "{\"txid\":99999999999999999999,\"seq\":-1}", "[]", "null", "\"\"",
        };
        var bytes = random.Next(2) == 0 ? Encoding.UTF8.GetBytes(Pick(payloads)) : RandomBytes(random.Next(1, 80));
        var text = System.Buffers.Text.Base64Url.EncodeToString(bytes);
        return random.Next(3) switch
        {
            0 => text,
            1 => text + "." + System.Buffers.Text.Base64Url.EncodeToString(RandomBytes(32)),
            _ => text[..random.Next(0, text.Length + 1)],
        };
    }

    private string HeaderValue(string name, string url)
    {
        var id = url.Split('/').FirstOrDefault(s => Guid.TryParse(s, out _)) ?? Guid.Empty.ToString();
        return name.ToUpperInvariant() switch
        {
            "IF-MATCH" or "IF-NONE-MATCH" => Pick(HostileETags).Replace("{id}", Guid.Parse(id).ToString("N"), StringComparison.Ordinal)
                .Replace("{ID}", Guid.Parse(id).ToString("N").ToUpperInvariant(), StringComparison.Ordinal),
            "IDEMPOTENCY-KEY" => random.Next(3) == 0 ? new string('k', random.Next(190, 400)) : Pick(HostileStrings),
            "ACCEPT" => Pick(["application/xml", "text/csv", "*/*", "application/json;q=0", "", "garbage", "application/problem+json"]),
            "ACCEPT-ENCODING" => Pick(["gzip", "br", "deflate", "identity;q=0", "*;q=0", "gzip;q=abc", ""]),
            "X-API-KEY" => Pick(HostileStrings),
            _ => Pick(HostileStrings),
        };
    }

    /// <summary>
    /// A real address: reads by the given slug or id, PUT and PATCH by the id of the therapy the test
    /// gave (writes take no slug); DELETE by an id that does not exist, so that therapy stays a target.
    /// </summary>
    private string ValidPathValue(string name, string method) =>
        method == "DELETE" ? Guid.NewGuid().ToString()
        : method != "GET" && knownIds.TryGetValue("id", out var id) ? id
        : knownIds.TryGetValue(name, out var value) ? value
        : name.Contains("slug", StringComparison.OrdinalIgnoreCase) ? "kymriah" : Guid.NewGuid().ToString();

    /// <summary>A body from the operation's schema (a valid example where the test has one) with one or two members broken.</summary>
    private JsonObject BrokenBody(JsonElement schema, string? name, string mediaType)
    {
        var body = Example(schema, name, mediaType);
        var breaks = random.Next(1, 3);
        for (var i = 0; i < breaks; i++)
        {
            Break(body);
        }

        return body;
    }

    private JsonObject Example(JsonElement schema, string? name, string mediaType)
    {
        JsonObject example = name switch
        {
            "TherapyInput" => TherapyBodies.NewCarT(),
            "MintRequest" => new JsonObject { ["name"] = "fuzz", ["scopes"] = new JsonArray("catalog:write") },
            _ => Sample(schema, 0) as JsonObject ?? [],
        };
        if (mediaType.Contains("merge-patch", StringComparison.Ordinal))
        {
            // A merge patch names a few members; the rest stay as they are.
            var keep = example.Select(p => p.Key).OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToHashSet();
            foreach (var key in example.Select(p => p.Key).ToList().Where(k => !keep.Contains(k)))
            {
                example.Remove(key);
            }
        }

        return example;
    }

    private JsonNode? Sample(JsonElement schema, int depth)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > 6)
        {
            return null;
        }

        schema = Resolve(schema);
        if (schema.TryGetProperty("enum", out var values) && values.GetArrayLength() > 0)
        {
            return JsonNode.Parse(values[0].GetRawText());
        }

        if (HasType(schema, "object") || schema.TryGetProperty("properties", out _))
        {
            var result = new JsonObject();
            if (schema.TryGetProperty("properties", out var properties))
            {
                foreach (var property in properties.EnumerateObject())
                {
                    result[property.Name] = Sample(property.Value, depth + 1);
                }
            }

            return result;
        }

        if (HasType(schema, "array"))
        {
            return schema.TryGetProperty("items", out var items) ? new JsonArray(Sample(items, depth + 1)) : [];
        }

        return JsonNode.Parse(ValidScalarJson(schema));
    }

    private static string ValidScalar(JsonElement schema)
    {
        var json = ValidScalarJson(schema);
        return json.StartsWith('"') ? JsonSerializer.Deserialize<string>(json)! : json;
    }

    private static string ValidScalarJson(JsonElement schema)
    {
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        if (schema.TryGetProperty("enum", out var values) && values.GetArrayLength() > 0)
        {
            return values[0].GetRawText();
        }

        return format switch
        {
            "date" => "\"2024-01-15\"",
            "date-time" => "\"2024-01-15T00:00:00Z\"",
            "uuid" => "\"00000000-0000-0000-0000-000000000001\"",
            "uri" => "\"https://example.org/x\"",
            _ when HasType(schema, "integer") => "1",
            _ when HasType(schema, "number") => "1.5",
            _ when HasType(schema, "boolean") => "true",
            _ => "\"x\"",
        };
    }

    /// <summary>Breaks one member somewhere in the body: a hostile value, a wrong type, removed, or an unknown one added.</summary>
    private void Break(JsonNode body)
    {
        var places = new List<JsonNode>();
        Collect(body, places);
        var place = Pick(places);
        switch (random.Next(10))
        {
            case 0 when place.Parent is JsonObject parent:
                parent.Remove(place.GetPropertyName());
                break;
            case 1 when place.Parent is JsonObject parent:
                parent[Pick(EncodableStrings.Where(s => s.Length < 100).ToArray())] = RawValue(Pick(HostileJson));
                break;
            default:
                var replacement = random.Next(2) == 0 ? RawValue(Pick(HostileJson)) : JsonValue.Create(Pick(EncodableStrings));
                if (place.Parent is JsonObject o)
                {
                    o[place.GetPropertyName()] = replacement;
                }
                else if (place.Parent is JsonArray a)
                {
                    a[place.GetElementIndex()] = replacement;
                }
                else if (body is JsonObject root)
                {
                    root["unknownMember"] = replacement;
                }

                break;
        }
    }

    // Hostile JSON goes into the body as text (a lone surrogate escape cannot pass through a JsonNode): a placeholder, replaced after writing.
    private readonly List<string> _raw = [];

    private JsonValue RawValue(string json)
    {
        _raw.Add(json);
        return JsonValue.Create($"@@raw{_raw.Count - 1}@@");
    }

    private string WithRawValues(string json)
    {
        for (var i = 0; i < _raw.Count; i++)
        {
            json = json.Replace($"\"@@raw{i}@@\"", _raw[i], StringComparison.Ordinal);
        }

        _raw.Clear();
        return json;
    }

    private static void Collect(JsonNode? node, List<JsonNode> places)
    {
        if (node is null)
        {
            return;
        }

        places.Add(node);
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, value) in o)
                {
                    if (value is null)
                    {
                        places.Add(o); // a null member: break its parent instead
                    }
                    else
                    {
                        Collect(value, places);
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    Collect(item, places);
                }

                break;
        }
    }

    private byte[] RawBody() => random.Next(6) switch
    {
        0 => [0xC3, 0x28, 0xA0, 0xA1],                                     // invalid UTF-8
        1 => [.. "{\"slug\":\""u8, 0xC0, 0xAF, .. "\"}"u8],                // overlong encoding
        2 => [0xEF, 0xBB, 0xBF, .. "{\"slug\":\"x\"}"u8],                  // a byte-order mark
        3 => Encoding.Unicode.GetBytes("{\"slug\":\"x\"}"),               // UTF-16
        4 => [.. "{\"slug\":\"a"u8, 0x00, .. "b\"}"u8],                     // a raw NUL byte
        _ => Encoding.UTF8.GetBytes(Pick(RawBodies)),
    };

    private byte[] LargeBody()
    {
        var size = random.Next(4) switch
        {
            0 => 1024 * 1024 + 1,
            1 => 2 * 1024 * 1024,
            2 => 1024 * 1024 - 10,
            _ => 200_000,
        };
        var filler = Encoding.UTF8.GetBytes("{\"slug\":\"" + new string('a', size) + "\"}");
        return filler;
    }

    private static string EscapePathValue(string value) =>
        value.Contains('\ud800') || value.Contains('\udfff') ? "%ED%A0%80" : value is "%ZZ" or "%" ? value.Replace("%", "%25", StringComparison.Ordinal) : Uri.EscapeDataString(value);

    private static string EscapeQueryName(string name) => Uri.EscapeDataString(name);

    private static string EscapeQueryValue(string value) =>
        value.Contains('\ud800') || value.Contains('\udfff') ? "%ED%A0%80" : value == "%ZZ" ? value : Uri.EscapeDataString(value);

    private JsonElement Resolve(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference))
        {
            var node = document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                node = node.GetProperty(part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
            }

            return Resolve(node);
        }

        if (element.ValueKind == JsonValueKind.Object && (element.TryGetProperty("allOf", out var all) || element.TryGetProperty("oneOf", out all) || element.TryGetProperty("anyOf", out all)))
        {
            var first = all.EnumerateArray().FirstOrDefault(e => !(e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "null"));
            return first.ValueKind == JsonValueKind.Undefined ? element : Resolve(first);
        }

        return element;
    }

    private static bool HasType(JsonElement schema, string type) =>
        schema.TryGetProperty("type", out var t) && (t.ValueKind == JsonValueKind.String ? t.GetString() == type : t.EnumerateArray().Any(x => x.GetString() == type));

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>The request as an HttpRequestMessage; null when .NET's client itself refuses to send it (reported, not counted).</summary>
    public static HttpRequestMessage? ToMessage(HostileRequest request, string? apiKey)
    {
        try
        {
            if (request.Url.Split('?')[0].Contains("%00", StringComparison.Ordinal))
            {
                return null; // a NUL in the path: Kestrel answers 400 before any application code (the test server throws)
            }

            var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(request.Url, UriKind.Relative));
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                if (request.ContentType is not null)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
                }
            }

            if (apiKey is not null && !request.Headers.Any(h => h.Key.Equals("X-Api-Key", StringComparison.OrdinalIgnoreCase)))
            {
                message.Headers.Add("X-Api-Key", apiKey);
            }

            foreach (var (name, value) in request.Headers)
            {
                if (value.Any(c => c is < ' ' or > '~'))
                {
                    return null; // not a valid header value on the wire: HTTP clients and servers refuse it before the app
                }

                message.Headers.TryAddWithoutValidation(name, value);
            }

            return message;
        }
        catch (Exception e) when (e is UriFormatException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}
