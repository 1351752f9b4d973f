using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>
/// <c>GET /fhir/r4/MedicationKnowledge?...</c>: token, string and date parameters over the same
/// tables as <c>GET /v1/therapies</c>; <c>condition</c> runs the JSON API's condition matcher. Keyset
/// paging in name order (the last row's name and id in a signed <c>_cursor</c>), so rows written
/// between pages neither shift nor repeat the rest. A comma within a value means OR; a repeated
/// parameter means AND, as FHIR says.
/// </summary>
public static class FhirSearch
{
    public const int DefaultCount = 20;
    public const int MaxCount = 100;

    public sealed record Parameter(string Name, M.SearchParamType Type, string? Definition, string Documentation);

    public static readonly Parameter[] Parameters =
    [
        new("_id", M.SearchParamType.Token, "http://hl7.org/fhir/SearchParameter/Resource-id", "The therapy's uuid."),
        new("_lastUpdated", M.SearchParamType.Date, "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated", "When the therapy last changed; prefixes eq, gt, ge, lt, le."),
        new("code", M.SearchParamType.Token, "http://hl7.org/fhir/SearchParameter/medicationknowledge-code",
            "An NDC package code (system http://hl7.org/fhir/sid/ndc), as labelled (10 digits with hyphens) or in the 11-digit 5-4-2 form, with or without hyphens. Other systems match nothing."),
        new("classification", M.SearchParamType.Token, "http://hl7.org/fhir/SearchParameter/medicationknowledge-classification",
            "system|code over this project's CodeSystems (modality, cell-source, delivery, mechanism, vector); a code alone matches any of them."),
        new("status", M.SearchParamType.Token, "http://hl7.org/fhir/SearchParameter/medicationknowledge-status", "active or inactive (a withdrawn product)."),
        new("manufacturer", M.SearchParamType.String, null, "A case-insensitive part of the manufacturer's name (the reference carries a display only)."),
        new("condition", M.SearchParamType.String, null,
            "A condition as a person names it, matched as the JSON API's condition filter matches it: names, synonyms, abbreviations, misspellings, ICD-10 codes or prefixes, and subtypes."),
    ];

    /// <summary>Result parameters this server understands besides the search parameters.</summary>
    private static readonly string[] Controls = ["_count", "_summary", "_cursor", "_format"];

    private const string SelectSql = """
        SELECT t.id AS Id, lower(t.proprietary_name) AS SortName, v.document::text AS Document
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.deleted_at IS NULL{where}{after}
        ORDER BY lower(t.proprietary_name), t.id
        LIMIT @Take
        """;

    private const string CountSql = "SELECT count(*) FROM therapies t WHERE t.deleted_at IS NULL{where}";

    private const string AfterSql = "\n  AND (lower(t.proprietary_name), t.id) > (@AfterName, @AfterId)";

    private sealed record Row(Guid Id, string SortName, string Document);

    private sealed record Position(string Name, Guid Id);

    public static async Task<IResult> Search(
        NpgsqlDataSource dataSource, ConditionMatchCache matcher, OpaqueCursor cursors, IOptions<CatalogOptions> options,
        HttpContext http, CancellationToken ct)
    {
        var request = http.Request;
        var strict = request.Headers["Prefer"].Any(p => p is not null && p.Replace(" ", "", StringComparison.Ordinal)
            .Split(',', ';').Contains("handling=strict", StringComparer.OrdinalIgnoreCase));

        var where = new StringBuilder();
        var parameters = new DynamicParameters();
        var used = new List<KeyValuePair<string, string>>();
        var ignored = new List<string>();
        var conditionQueries = new List<(int Index, List<ConditionQuery> Queries)>();
        var count = DefaultCount;
        var summaryCount = false;
        Position? after = null;
        var index = 0;

        foreach (var (name, values) in request.Query)
        {
            foreach (var value in values.OfType<string>())
            {
                var n = index++;
                string? error = null;
                switch (name)
                {
                    case "_id":
                        parameters.Add($"Ids{n}", Split(value).Select(v => Guid.TryParse(v, out var g) ? g : Guid.Empty).ToArray());
                        where.Append(CultureInfo.InvariantCulture, $"\n  AND t.id = ANY(@Ids{n})");
                        break;
                    case "code":
                        parameters.Add($"Ndcs{n}", Split(value).SelectMany(NdcCandidates).Distinct().ToArray());
                        where.Append(CultureInfo.InvariantCulture, $"\n  AND EXISTS (SELECT 1 FROM therapy_ndcs n WHERE n.therapy_id = t.id AND n.ndc = ANY(@Ndcs{n}))");
                        break;
                    case "classification":
                        where.Append("\n  AND (").Append(Classification(Split(value), parameters, n)).Append(')');
                        break;
                    case "status":
                        var statuses = Split(value).Select(FhirTerms.CatalogStatus).ToList();
                        if (statuses.Any(s => s is null))
                        {
                            error = $"status '{value}' is not a MedicationKnowledge status this server has: active, inactive.";
                            break;
                        }

                        parameters.Add($"Statuses{n}", statuses.ToArray());
                        where.Append(CultureInfo.InvariantCulture, $"\n  AND t.status = ANY(@Statuses{n})");
                        break;
                    case "manufacturer":
                        parameters.Add($"Manufacturers{n}", Split(value).Select(v => Clean(v).ToLowerInvariant()).Where(v => v.Length > 0).ToArray());
                        where.Append(CultureInfo.InvariantCulture, $"\n  AND EXISTS (SELECT 1 FROM unnest(@Manufacturers{n}::text[]) m WHERE strpos(lower(t.manufacturer), m) > 0)");
                        break;
                    case "condition":
                        var queries = Split(value).Select(ConditionMatcher.Normalize).OfType<ConditionQuery>().ToList();
                        if (value.Length > ConditionMatcher.MaxQueryLength)
                        {
                            error = $"condition may be at most {ConditionMatcher.MaxQueryLength} characters long.";
                            break;
                        }

                        conditionQueries.Add((n, queries));
                        where.Append(CultureInfo.InvariantCulture, $"\n  AND EXISTS (SELECT 1 FROM therapy_indications i WHERE i.therapy_id = t.id AND i.condition_id = ANY(@Conditions{n}))");
                        break;
                    case "_lastUpdated":
                        error = LastUpdated(value, parameters, where, n);
                        break;
                    case "_count":
                        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count))
                        {
                            error = $"_count must be a whole number from 0 to {MaxCount}.";
                            break;
                        }

                        count = Math.Min(count, MaxCount);
                        summaryCount |= count == 0;
                        used.Add(new(name, count.ToString(CultureInfo.InvariantCulture)));
                        continue;
                    case "_summary":
                        if (value != "count" && value != "false")
                        {
                            error = $"_summary={value} is not supported; this server answers _summary=count and _summary=false.";
                            break;
                        }

                        summaryCount |= value == "count";
                        break;
                    case "_cursor":
                        after = DecodeCursor(cursors, value);
                        if (after is null)
                        {
                            error = "_cursor is not one this server handed out (in a next link), unaltered.";
                            break;
                        }

                        continue;
                    case "_format":
                        break;
                    default:
                        if (strict)
                        {
                            return FhirResponses.Error(StatusCodes.Status400BadRequest, M.OperationOutcome.IssueType.NotSupported,
                                $"Unknown search parameter '{name}' (Prefer: handling=strict). Supported: {string.Join(", ", Parameters.Select(p => p.Name).Concat(Controls))}.");
                        }

                        ignored.Add(name);
                        continue;
                }

                if (error is not null)
                {
                    return FhirResponses.Error(StatusCodes.Status400BadRequest, M.OperationOutcome.IssueType.Invalid, error);
                }

                used.Add(new(name, value));
            }
        }

        var filter = where.ToString();
        List<Row> rows = [];
        long total;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            var snapshot = CatalogSnapshot.Begin(db, http.Response, cursors);
            foreach (var (n, queries) in conditionQueries)
            {
                var matches = await matcher.MatchAsync(snapshot, [.. queries.Select(q => ("condition", q))], ct);
                parameters.Add($"Conditions{n}", matches.Select(m => m.ConditionId).Distinct().ToArray());
            }

            total = (await snapshot.QueryAsync<long>(CountSql.Replace("{where}", filter, StringComparison.Ordinal), parameters, ct, last: summaryCount)).Single();
            if (!summaryCount)
            {
                parameters.Add("Take", count + 1);
                if (after is not null)
                {
                    parameters.Add("AfterName", after.Name);
                    parameters.Add("AfterId", after.Id);
                }

                var text = SelectSql.Replace("{where}", filter, StringComparison.Ordinal).Replace("{after}", after is null ? "" : AfterSql, StringComparison.Ordinal);
                rows = await snapshot.QueryAsync<Row>(text, parameters, ct, last: true);
            }
        }

        var publicBase = options.Value.PublicBaseUrl;
        var bundle = new M.Bundle
        {
            Type = M.Bundle.BundleType.Searchset,
            Total = (int)total,
            Meta = new M.Meta { LastUpdated = DateTimeOffset.UtcNow },
        };
        bundle.Link.Add(new M.Bundle.LinkComponent { Relation = "self", Url = FhirApi.Link(publicBase, "MedicationKnowledge" + Query(used, after is null ? null : request.Query["_cursor"].ToString())) });
        var page = rows.Take(count).ToList();
        if (rows.Count > count)
        {
            var last = page[^1];
            var next = cursors.Encode("f1:" + JsonSerializer.Serialize(new Position(last.SortName, last.Id)));
            bundle.Link.Add(new M.Bundle.LinkComponent { Relation = "next", Url = FhirApi.Link(publicBase, "MedicationKnowledge" + Query(used, next)) });
        }

        foreach (var row in page)
        {
            var resource = MedicationKnowledgeMap.From(FhirApi.Parse(row.Document));
            bundle.Entry.Add(new M.Bundle.EntryComponent
            {
                FullUrl = FhirApi.Link(publicBase, "MedicationKnowledge/" + resource.Id),
                Resource = resource,
                Search = new M.Bundle.SearchComponent { Mode = M.Bundle.SearchEntryMode.Match },
            });
        }

        if (ignored.Count > 0)
        {
            bundle.Entry.Add(new M.Bundle.EntryComponent
            {
                FullUrl = "urn:uuid:" + Guid.NewGuid(),
                Resource = FhirResponses.Outcome(M.OperationOutcome.IssueSeverity.Warning, M.OperationOutcome.IssueType.NotSupported,
                    $"Ignored unknown search parameters: {string.Join(", ", ignored.Distinct())} (send Prefer: handling=strict to have them refused)."),
                Search = new M.Bundle.SearchComponent { Mode = M.Bundle.SearchEntryMode.Outcome },
            });
        }

        return FhirResponses.Resource(bundle);
    }

    private static string Query(List<KeyValuePair<string, string>> used, string? cursor)
    {
        var pairs = cursor is null ? used : [.. used, new("_cursor", cursor)];
        return pairs.Count == 0 ? "" : "?" + string.Join("&", pairs.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
    }

    private static IEnumerable<string> Split(string value) => value.Split(',').Select(v => v.Trim());

    private static string Clean(string value) => new string([.. value.Where(c => !char.IsControl(c))]).Trim();

    /// <summary>The labelled (10-digit, hyphenated) NDCs a token may mean: as given, or each 10-digit reading of an 11-digit 5-4-2 code.</summary>
    public static IEnumerable<string> NdcCandidates(string token)
    {
        var bar = token.IndexOf('|', StringComparison.Ordinal);
        if (bar >= 0)
        {
            var system = token[..bar];
            if (system != FhirTerms.Ndc)
            {
                yield break; // another system (or none: "|code"), which this catalog does not code in
            }

            token = token[(bar + 1)..];
        }

        var parts = token.Split('-');
        if (parts.Length == 3 && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            if (parts[0].Length + parts[1].Length + parts[2].Length == 10)
            {
                yield return token;
                yield break;
            }

            if (parts is [{ Length: 5 }, { Length: 4 }, { Length: 2 }])
            {
                parts = [string.Concat(parts)];
            }
        }

        if (parts is [{ Length: 11 } digits] && digits.All(char.IsAsciiDigit))
        {
            var (labeler, product, package) = (digits[..5], digits[5..9], digits[9..]);
            if (labeler[0] == '0')
            {
                yield return $"{labeler[1..]}-{product}-{package}";
            }

            if (product[0] == '0')
            {
                yield return $"{labeler}-{product[1..]}-{package}";
            }

            if (package[0] == '0')
            {
                yield return $"{labeler}-{product}-{package[1..]}";
            }
        }
    }

    private static string Classification(IEnumerable<string> tokens, DynamicParameters parameters, int n)
    {
        var clauses = new List<string>();
        var k = 0;
        foreach (var token in tokens)
        {
            var bar = token.IndexOf('|', StringComparison.Ordinal);
            var system = bar >= 0 ? token[..bar] : null;
            var code = bar >= 0 ? token[(bar + 1)..] : token;
            foreach (var codeSystem in FhirTerms.Classifications.Where(s => system is null || s.Url == system))
            {
                var name = $"Class{n}_{k++}";
                parameters.Add(name, code);
                // The column names are fixed by FhirTerms, never taken from the request.
                clauses.Add($"t.{codeSystem.Column} = @{name}");
            }
        }

        return clauses.Count == 0 ? "false" : string.Join(" OR ", clauses);
    }

    private static string? LastUpdated(string value, DynamicParameters parameters, StringBuilder where, int n)
    {
        var prefix = value.Length > 2 && char.IsAsciiLetterLower(value[0]) ? value[..2] : "eq";
        var text = value.Length > 2 && char.IsAsciiLetterLower(value[0]) ? value[2..] : value;
        DateTimeOffset start, end;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            end = start.AddDays(1);
        }
        else if (text.Contains('T', StringComparison.Ordinal)
                 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            start = instant;
            end = instant.AddTicks(TimeSpan.TicksPerSecond);
        }
        else
        {
            return $"_lastUpdated '{value}' is not a FHIR date (YYYY-MM-DD) or dateTime with a time zone, optionally prefixed by eq, gt, ge, lt or le.";
        }

        var clause = prefix switch
        {
            "eq" => $"t.updated_at >= @LuStart{n} AND t.updated_at < @LuEnd{n}",
            "ge" => $"t.updated_at >= @LuStart{n}",
            "gt" => $"t.updated_at >= @LuEnd{n}",
            "le" => $"t.updated_at < @LuEnd{n}",
            "lt" => $"t.updated_at < @LuStart{n}",
            _ => null,
        };
        if (clause is null)
        {
            return $"_lastUpdated prefix '{prefix}' is not supported: eq, gt, ge, lt, le.";
        }

        parameters.Add($"LuStart{n}", start.UtcDateTime);
        parameters.Add($"LuEnd{n}", end.UtcDateTime);
        where.Append("\n  AND ").Append(clause);
        return null;
    }

    private static Position? DecodeCursor(OpaqueCursor cursors, string cursor)
    {
        var payload = cursors.Decode(cursor);
        if (payload is null || !payload.StartsWith("f1:", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Position>(payload[3..]) is { Name: { Length: <= 1000 } name } position && !name.Contains('\0', StringComparison.Ordinal)
                ? position
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
