using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using TherapyCatalog.Api.Conditions;

namespace TherapyCatalog.Api.Therapies;

/// <summary>A validated filter, normalised for SQL: vocabulary values in their stored spelling.</summary>
public sealed record TherapyFilter(
    ConditionQuery? Condition,
    ConditionQuery? Q,
    string[] Modalities,
    string[] CellSources,
    string[] Deliveries,
    string[] Mechanisms,
    string[] Vectors,
    string[] Targets,
    string[] Routes,
    string[] Manufacturers,
    string[] Regulators,
    DateOnly? ApprovedFrom,
    DateOnly? ApprovedTo,
    string[] Statuses)
{
    /// <summary>The texts the condition matcher runs: the condition filter, and free text (which also matches names).</summary>
    [JsonIgnore]
    public IReadOnlyList<(string Source, ConditionQuery Query)> MatcherQueries =>
        [.. new (string Source, ConditionQuery? Query)[] { ("condition", Condition), ("q", Q) }
            .Where(s => s.Query is not null).Select(s => (s.Source, s.Query!))];

    /// <summary>True when results are matched to a query (and so carry <c>matchedConditions</c> and a relevance rank).</summary>
    [JsonIgnore]
    public bool Matches => Condition is not null || Q is not null;

    /// <summary>Only call with a request the validator accepted.</summary>
    public static TherapyFilter From(TherapyFilterRequest r)
    {
        var status = r.Status?.ToLowerInvariant() ?? "active";
        return new TherapyFilter(
            ConditionMatcher.Normalize(r.Condition),
            ConditionMatcher.Normalize(r.Q),
            Spelled(r.Modality, TherapyVocabulary.Modalities),
            Spelled(r.CellSource, TherapyVocabulary.CellSources),
            Spelled(r.Delivery, TherapyVocabulary.Deliveries),
            Spelled(r.Mechanism, TherapyVocabulary.Mechanisms),
            Spelled(r.Vector, TherapyVocabulary.Vectors),
            [.. (r.Target ?? []).Select(t => TherapyFilterRequestValidator.Clean(t).ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)],
            Spelled(r.Route, TherapyVocabulary.Routes),
            [.. (r.Manufacturer ?? []).Select(m => TherapyFilterRequestValidator.Clean(m).ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)],
            Spelled(r.Regulator, TherapyVocabulary.Regulators),
            TherapyFilterRequestValidator.ParseDate(r.ApprovedFrom),
            TherapyFilterRequestValidator.ParseDate(r.ApprovedTo),
            status == "any" ? [] : [status]);
    }

    private static string[] Spelled(string[]? values, string[] vocabulary) =>
        [.. vocabulary.Where(v => (values ?? []).Contains(v, StringComparer.OrdinalIgnoreCase))];

    /// <summary>
    /// A digest of the filter: a page cursor carries it, so it cannot continue a different query.
    /// It is taken over every member of the record, so a new filter is part of it by being declared.
    /// </summary>
    public string Fingerprint() =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this)).AsSpan(0, 12));
}
