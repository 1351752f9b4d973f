using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// A write body taken apart by what each member is, so a client can send back the representation
/// it read: members of the input type are written; members only the representation has (ids,
/// versions, timestamps, names copied from a referenced record) are the service's, and are handed
/// to the feature to compare with what it holds; anything else is unknown, and every unknown member
/// is reported at once.
/// </summary>
public sealed record WriteBody(JsonObject Writable, IReadOnlyDictionary<string, JsonNode?> ServerManaged, IReadOnlyList<string> Unknown)
{
    /// <summary>
    /// Splits <paramref name="body"/> (taken over, not copied) against <paramref name="input"/> and
    /// <paramref name="representation"/>, walking objects and lists of objects. Paths are written as
    /// clients write them: <c>indications[0].condition</c>. <paramref name="alsoServerManaged"/> names
    /// top-level members that other representations carry (a list item's <c>matchedConditions</c>).
    /// </summary>
    public static WriteBody Split(JsonObject body, Type input, Type representation, params string[] alsoServerManaged)
    {
        var serverManaged = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var unknown = new List<string>();
        Walk(body, input, representation, "", alsoServerManaged, serverManaged, unknown);
        return new WriteBody(body, serverManaged, unknown);
    }

    private static void Walk(
        JsonObject node, Type input, Type? representation, string prefix, string[] extra,
        Dictionary<string, JsonNode?> serverManaged, List<string> unknown)
    {
        foreach (var (name, value) in node.ToList())
        {
            var path = prefix + name;
            var writable = Member(input, name);
            if (writable is null)
            {
                if (Member(representation, name) is not null || (prefix.Length == 0 && extra.Contains(name, StringComparer.Ordinal)))
                {
                    serverManaged[path] = value?.DeepClone();
                }
                else
                {
                    unknown.Add(path);
                }

                node.Remove(name);
                continue;
            }

            var representationType = Member(representation, name)?.PropertyType;
            if (value is JsonObject inner && IsRecord(Unwrap(writable.PropertyType)))
            {
                Walk(inner, Unwrap(writable.PropertyType), representationType is null ? null : Unwrap(representationType), path + ".", [], serverManaged, unknown);
            }
            else if (value is JsonArray items && ItemType(writable.PropertyType) is { } itemType && IsRecord(itemType))
            {
                var representationItem = representationType is null ? null : ItemType(representationType);
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is JsonObject item)
                    {
                        Walk(item, itemType, representationItem, $"{path}[{i}].", [], serverManaged, unknown);
                    }
                }
            }
        }
    }

    private static PropertyInfo? Member(Type? type, string jsonName) =>
        type?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name) == jsonName);

    private static Type Unwrap(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    private static Type? ItemType(Type type) =>
        type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type != typeof(string) ? type.GetGenericArguments()[0] : null;

    private static bool IsRecord(Type type) => type.IsClass && type != typeof(string);
}
