using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>
/// Every member of a write body, one at a time, set to the values where a validator and a database
/// tend to disagree: a trailing newline or CR, NUL, lone surrogates, upper-case and backslash URLs,
/// numbers just past a column's precision and range, huge strings, wrong JSON types. And every
/// field of a list cursor and a change-feed cursor set to junk under a valid signature (the
/// development key, which anybody can read in the source code). No answer may be a 5xx, every 4xx
/// is a problem document, and nothing is written but what a 2xx says was.
/// </summary>
public class BoundarySweepTests(UnlimitedCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<UnlimitedCatalogApiFactory>
{
    /// <summary>Stands for the value under test in a serialized body; replaced by the raw JSON of each variant.</summary>
    private const string Marker = "\"__sweep__\"";

    private static readonly string Huge = new('a', 100_000);

    private static readonly string[] WrongTypes = ["1", "true", "{}", "[]", "null"];

    private static readonly string[] StringVariants =
    [
        "\"\"", "\" \"", "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"a\\udc00\"", "\"\\u00a0\"", $"\"{Huge}\"",
        "\"HTTPS://EXAMPLE.ORG/A\"", "\"Http://example.org/a\"", "\"https:\\\\\\\\example.org\\\\a\"", "\"https://\"", "\"https://exa mple.org\"",
        "\"javascript:alert(1)\"", "\"x'); DROP TABLE therapies;--\"",
    ];

    private static readonly string[] NumberVariants =
    [
        "-1", "0", "0.001", "1.005", "1.5", "999999999999.99", "999999999999.995", "1000000000000", "1e308", "-1e308", "1e400",
        "2147483647", "2147483648", "-2147483649", "9223372036854775808", "\"1\"",
    ];

    private static readonly string[] DateVariants =
    [
        "\"0001-01-01\"", "\"1989-12-31\"", "\"9999-12-31\"", "\"2024-02-30\"", "\"2024-1-5\"", "\"2024-01-15T00:00:00Z\"", "\"-2024-01-01\"", "\"yesterday\"",
    ];

    private static readonly string[] BooleanVariants = ["\"true\"", "0", "1"];

    private static readonly string[] ListVariants = ["[null]", "[1]", "[[]]", "[{}]", "[\"\"]"];

    [Fact]
    public async Task Every_member_at_its_boundaries_is_answered_without_a_5xx_and_writes_only_what_it_says()
    {
        var client = api.CreateClient();
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var (targetId, _) = await TherapyBodies.CreateAsync(client, key, FullBody());
        var before = await CountAsync();

        var requests = new List<(string Describe, Func<HttpRequestMessage> Make)>();
        var template = FullBody();
        var members = Leaves(template, "").ToList();
        foreach (var (path, value) in members)
        {
            foreach (var variant in VariantsOf(path, value))
            {
                var body = Substitute(path, variant);
                requests.Add(($"POST {path} = {Short(variant)}", () => Json(HttpMethod.Post, "/v1/therapies", body, "application/json")));
                if (!path.Contains('.', StringComparison.Ordinal) && !path.Contains('[', StringComparison.Ordinal))
                {
                    var patch = $"{{\"{path}\":{variant}}}";
                    requests.Add(($"PATCH {path} = {Short(variant)}", () => Json(HttpMethod.Patch, $"/v1/therapies/{targetId}", patch, "application/merge-patch+json")));
                }
            }
        }

        var outcomes = await SendAllAsync(client, key, requests);
        var created = outcomes.Count(o => o.Describe.StartsWith("POST", StringComparison.Ordinal) && o.Status == 201);

        Report($"write-body boundary sweep: {members.Count} members", outcomes);
        Assert.True(members.Count >= 45, $"only {members.Count} members swept");
        Assert.Empty(outcomes.Where(o => o.Status is >= 500 or 0).Select(o => $"{o.Status} {o.Describe}"));
        Assert.Empty(outcomes.Where(o => o.Defect is not null).Select(o => $"{o.Status} {o.Defect}: {o.Describe}"));
        Assert.Equal(before + created, await CountAsync());
    }

    [Fact]
    public async Task Every_cursor_field_with_junk_under_a_valid_signature_is_a_400()
    {
        var client = api.CreateClient();
        var signer = new OpaqueCursor(Encoding.UTF8.GetBytes(OpaqueCursor.DevelopmentKey));
        var requests = new List<(string Describe, Func<HttpRequestMessage> Make)>();
        string[] junk =
        [
            "\"a\\u0000b\"", "\"\\ud800\"", $"\"{new string('z', 700)}\"", "\"2024-13-45\"", "\"not-a-date\"", "\"\"", "\"relevance\\n\"",
            "null", "1e400", "-1", "2147483648", "\"00000000-0000-0000-0000-00000000000g\"", "\"x'); DROP TABLE therapies;--\"", "[]", "{}", "true",
        ];
        foreach (var query in new[] { "sort=name", "sort=approvedOn", "sort=-approvedOn", "condition=lymphoma", "q=car-t&sort=relevance" })
        {
            var page = JsonNode.Parse(await client.GetStringAsync($"/v1/therapies?limit=1&{query}"))!;
            var payload = signer.Decode(page["nextCursor"]!.GetValue<string>())!;
            Assert.StartsWith("p1:", payload, StringComparison.Ordinal);
            var position = JsonNode.Parse(payload[3..])!.AsObject();
            foreach (var field in position.Select(p => p.Key).ToList())
            {
                foreach (var value in junk)
                {
                    var forged = (JsonObject)position.DeepClone();
                    forged[field] = "__sweep__";
                    var text = "p1:" + forged.ToJsonString().Replace(Marker, value, StringComparison.Ordinal);
                    requests.Add(($"list {query} {field} = {Short(value)}", () => Get($"/v1/therapies?limit=1&{query}&cursor={Uri.EscapeDataString(signer.Encode(text))}")));
                }

                var without = (JsonObject)position.DeepClone();
                without.Remove(field);
                requests.Add(($"list {query} without {field}", () => Get($"/v1/therapies?limit=1&{query}&cursor={Uri.EscapeDataString(signer.Encode("p1:" + without.ToJsonString()))}")));
            }

            foreach (var whole in new[] { "p1:", "p1:null", "p1:[]", "p1:{", "p2:" + position.ToJsonString(), "c1:1:2", "", "\u0000" })
            {
                requests.Add(($"list {query} payload {Short(whole)}", () => Get($"/v1/therapies?limit=1&{query}&cursor={Uri.EscapeDataString(signer.Encode(whole))}")));
            }
        }

        string[] numbers = ["", "-1", "+1", "1.5", "1e3", "x", "\u0000", "18446744073709551616", "99999999999999999999999999", "9223372036854775808", " 1"];
        foreach (var transaction in numbers.Append("1"))
        {
            foreach (var sequence in numbers.Append("1"))
            {
                var text = $"c1:{transaction}:{sequence}";
                requests.Add(($"changes {Short(text)}", () => Get($"/v1/changes?after={Uri.EscapeDataString(signer.Encode(text))}")));
            }
        }

        foreach (var whole in new[] { "c1", "c1:1", "c1:1:2:3", "c2:1:2", "p1:{}", "c1:18446744073709551615:9223372036854775807" })
        {
            requests.Add(($"changes {Short(whole)}", () => Get($"/v1/changes?after={Uri.EscapeDataString(signer.Encode(whole))}")));
        }

        var outcomes = await SendAllAsync(client, apiKey: null, requests);

        Report("cursor sweep", outcomes);
        Assert.True(outcomes.Count >= 500, $"only {outcomes.Count} cursor requests");
        Assert.Empty(outcomes.Where(o => o.Status is >= 500 or 0).Select(o => $"{o.Status} {o.Describe}"));
        Assert.Empty(outcomes.Where(o => o.Defect is not null).Select(o => $"{o.Status} {o.Defect}: {o.Describe}"));
        // A forged position either reads as one the service could have made (a 200 page), is refused
        // (400), or is a change-feed position the feed no longer holds (410).
        Assert.All(outcomes, o => Assert.True(o.Status is 200 or 400 or 410, $"{o.Status} {o.Describe}"));
    }

    private sealed record Outcome(string Describe, int Status, string? Defect);

    private static async Task<List<Outcome>> SendAllAsync(HttpClient client, string? apiKey, List<(string Describe, Func<HttpRequestMessage> Make)> requests)
    {
        var outcomes = new List<Outcome>();
        var lockOutcomes = new Lock();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (request, ct) =>
        {
            using var message = request.Make();
            if (apiKey is not null)
            {
                message.Headers.Add("X-Api-Key", apiKey);
            }

            Outcome outcome;
            try
            {
                using var response = await client.SendAsync(message, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                var status = (int)response.StatusCode;
                outcome = new Outcome(request.Describe, status, status is >= 400 and < 500 ? ProblemDocument.Defect(response, body) : null);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                outcome = new Outcome(request.Describe, 0, $"no answer: {e.Message}");
            }

            lock (lockOutcomes)
            {
                outcomes.Add(outcome);
            }
        });
        return outcomes;
    }

    private void Report(string what, List<Outcome> outcomes)
    {
        output.WriteLine($"{what}: {outcomes.Count} requests");
        output.WriteLine("by status: " + string.Join(", ", outcomes.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}")));
        output.WriteLine($"5xx: {outcomes.Count(o => o.Status >= 500)}");
        foreach (var o in outcomes.Where(o => o.Status is >= 500 or 0 or 201 or 410 || o.Defect is not null).Take(400))
        {
            output.WriteLine($"  {o.Status} {o.Describe} {o.Defect}");
        }
    }

    /// <summary>A valid body with every member of the resource present (so each one is swept).</summary>
    private static JsonObject FullBody()
    {
        var body = TherapyBodies.NewCarT();
        body["vectorDetail"] = "third-generation self-inactivating lentiviral vector";
        body["otherNames"] = new JsonArray(new JsonObject { ["name"] = "TC-19", ["kind"] = "code", ["regulator"] = "FDA" });
        var indication = body["indications"]![0]!.AsObject();
        indication["source"] = "https://example.org/label";
        indication["sourceKind"] = "label";
        var approval = body["approvals"]![0]!.AsObject();
        approval["applicationNumber"] = "BLA 125000";
        approval["source"] = "https://example.org/letter";
        approval["sourceKind"] = "regulator";
        body["listPrice"]!["sourceKind"] = "company";
        body["packages"] = new JsonArray(new JsonObject
        {
            ["ndc"] = "0078-0846-19", ["ndc11"] = "00078-0846-19", ["description"] = "1 infusion bag",
            ["source"] = "https://example.org/spl", ["sourceKind"] = "label",
        });
        body["ndcs"] = new JsonArray("0078-0846-19");
        return body;
    }

    /// <summary>Every member, as a path (<c>indications[0].approvedOn</c>) and its valid value: leaves, objects and lists alike.</summary>
    private static IEnumerable<(string Path, JsonNode? Value)> Leaves(JsonNode? node, string prefix)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                    yield return (path, value);
                    foreach (var inner in value is JsonObject or JsonArray ? Leaves(value, path) : [])
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonArray { Count: > 0 } list:
                yield return ($"{prefix}[0]", list[0]);
                foreach (var inner in list[0] is JsonObject ? Leaves(list[0], $"{prefix}[0]") : [])
                {
                    yield return inner;
                }

                break;
        }
    }

    private static IEnumerable<string> VariantsOf(string path, JsonNode? value)
    {
        IEnumerable<string> specific = value switch
        {
            JsonValue v when v.TryGetValue<string>(out var text) => path.EndsWith("approvedOn", StringComparison.Ordinal)
                ? DateVariants.Append(Quote(text + "\n"))
                : StringVariants.Concat(new[] { text + "\n", text + "\r", text + "\r\n", "\n" + text, text.ToUpperInvariant(), text + "\u2028" }.Select(Quote)),
            JsonValue v when v.TryGetValue<bool>(out _) => BooleanVariants,
            JsonValue => NumberVariants,
            JsonArray list => ListVariants.Append("[" + string.Join(",", Enumerable.Repeat(list.Count > 0 ? list[0]!.ToJsonString() : "\"x\"", 101)) + "]"),
            JsonObject => ["[]", "\"x\""],
            _ => StringVariants,
        };
        return specific.Concat(WrongTypes).Distinct(StringComparer.Ordinal);
    }

    /// <summary>A fresh valid body (own slug) with the member at <paramref name="path"/> replaced by raw JSON <paramref name="variant"/>.</summary>
    private static string Substitute(string path, string variant)
    {
        JsonNode body = FullBody();
        var segments = path.Replace("[", ".[", StringComparison.Ordinal).Split('.');
        var parent = body;
        foreach (var segment in segments[..^1])
        {
            parent = segment.StartsWith('[') ? parent[int.Parse(segment[1..^1], System.Globalization.CultureInfo.InvariantCulture)]! : parent[segment]!;
        }

        var last = segments[^1];
        if (last.StartsWith('['))
        {
            parent.AsArray()[int.Parse(last[1..^1], System.Globalization.CultureInfo.InvariantCulture)] = "__sweep__";
        }
        else
        {
            parent[last] = "__sweep__";
        }

        return body.ToJsonString().Replace(Marker, variant, StringComparison.Ordinal);
    }

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static string Short(string text) => text.Length > 40 ? $"{text[..20]}…({text.Length} chars)" : text.ReplaceLineEndings("\\n");

    private static HttpRequestMessage Json(HttpMethod method, string path, string body, string mediaType) =>
        new(method, path) { Content = new StringContent(body, Encoding.UTF8, mediaType) };

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private async Task<int> CountAsync()
    {
        await using var db = await api.OpenDatabaseAsync();
        return await db.QuerySingleAsync<int>("SELECT count(*)::int FROM therapies");
    }
}
