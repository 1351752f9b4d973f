using System.Text.Json.Nodes;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>JSON Merge Patch (RFC 7396): null removes, an object merges member by member, anything else replaces.</summary>
public static class JsonMergePatch
{
    /// <summary>
    /// Merges <paramref name="value"/> into member <paramref name="name"/> of <paramref name="target"/>.
    /// A removed member is kept as null: every member of a resource is always present.
    /// </summary>
    public static void Merge(JsonObject target, string name, JsonNode? value)
    {
        if (value is JsonObject patch && target[name] is JsonObject existing)
        {
            foreach (var (member, memberValue) in patch.ToList())
            {
                Merge(existing, member, memberValue?.DeepClone());
            }
        }
        else if (value is null)
        {
            target[name] = null;
        }
        else
        {
            target[name] = value.DeepClone();
        }
    }
}
