using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// A write body may be the representation the service handed out (a GET, an export line, a
/// change-feed document, a list item): the members the service manages (<c>id</c>, <c>version</c>,
/// the timestamps, an indication's <c>condition</c> and <c>icd10</c>, a list item's
/// <c>matchedConditions</c>) are accepted and ignored when they agree with the stored or referenced
/// value; one that disagrees is a 400 naming it. Unknown members are refused, all in one answer.
/// </summary>
public static class TherapyRepresentation
{
    /// <summary>The body's writable members as a <see cref="TherapyInput"/>, the server-managed ones it sent back, or the 400 that says why not.</summary>
    public static (TherapyInput? Input, IReadOnlyDictionary<string, JsonNode?> Sent, IResult? Problem) Read(JsonObject body)
    {
        var split = Split(body);
        if (split.Unknown.Count > 0)
        {
            return (null, split.ServerManaged, UnknownMembers(split.Unknown));
        }

        try
        {
            return (split.Writable.Deserialize<TherapyInput>(CatalogJson.Options), split.ServerManaged, null);
        }
        catch (JsonException e)
        {
            return (null, split.ServerManaged,
                Validation.Problem(JsonBody.ClientPath(e.Path ?? "$"), "The value has the wrong JSON type or format for this member."));
        }
    }

    public static WriteBody Split(JsonObject body) => WriteBody.Split(body, typeof(TherapyInput), typeof(Therapy), "matchedConditions");

    public static IResult UnknownMembers(IEnumerable<string> paths) =>
        Validation.Problem(paths.Select(path => new ValidationFailure(path, "This member is not part of the resource.")));

    /// <summary>The server-managed members sent back that disagree with <paramref name="current"/> (null for a create) or <paramref name="next"/>.</summary>
    public static IEnumerable<ValidationFailure> Disagreements(IReadOnlyDictionary<string, JsonNode?> sent, Therapy? current, Therapy next)
    {
        foreach (var (path, value) in sent)
        {
            var held = Held(path, current, next, out var what);
            if (what is null)
            {
                continue; // derived from the query that listed it (matchedConditions): nothing to agree with
            }

            if (!Agrees(value, held))
            {
                yield return new ValidationFailure(path, current is null && path is "id" or "version" or "createdAt" or "updatedAt"
                    ? $"'{path}' is assigned by the service: leave it out of a create."
                    : $"'{path}' is managed by the service and does not match {what} ({Show(held)}): leave it out, or send the value read.");
            }
        }
    }

    private static JsonNode? Held(string path, Therapy? current, Therapy next, out string? what)
    {
        what = "the stored value";
        switch (path)
        {
            case "id": return current is null ? null : JsonValue.Create(current.Id);
            case "version": return current is null ? null : JsonValue.Create(current.Version);
            case "createdAt": return current is null ? null : JsonSerializer.SerializeToNode(current.CreatedAt, CatalogJson.Options);
            case "updatedAt": return current is null ? null : JsonSerializer.SerializeToNode(current.UpdatedAt, CatalogJson.Options);
            case "matchedConditions": what = null; return null;
        }

        // indications[i].condition, indications[i].icd10: the referenced condition record's.
        var open = path.IndexOf('[', StringComparison.Ordinal);
        var close = path.IndexOf(']', StringComparison.Ordinal);
        if (path.StartsWith("indications[", StringComparison.Ordinal) && close > open
            && int.TryParse(path.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && i < next.Indications.Count)
        {
            what = $"the condition record '{next.Indications[i].ConditionId}'";
            return path[(close + 1)..] switch
            {
                ".condition" => JsonValue.Create(next.Indications[i].Condition),
                ".icd10" => next.Indications[i].Icd10 is { } code ? JsonValue.Create(code) : null,
                _ => null,
            };
        }

        return null;
    }

    /// <summary>Equal as JSON; timestamps as instants (a client may write them with another offset or precision).</summary>
    private static bool Agrees(JsonNode? sent, JsonNode? held)
    {
        if (sent?.ToJsonString() == held?.ToJsonString())
        {
            return true;
        }

        return sent is JsonValue s && held is JsonValue h
               && s.TryGetValue<string>(out var a) && h.TryGetValue<string>(out var b)
               && DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.None, out var x)
               && DateTimeOffset.TryParse(b, CultureInfo.InvariantCulture, DateTimeStyles.None, out var y)
               && x == y;
    }

    private static string Show(JsonNode? value) => value?.ToJsonString() ?? "null";
}
