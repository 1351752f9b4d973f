using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// Examples for the OpenAPI document, made from the catalog's own data files (embedded in this
/// assembly), so they are real records and need no database. Timestamps are fixed so the document
/// is the same on every build.
/// </summary>
public static class TherapyExamples
{
    private static readonly DateTimeOffset Loaded = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<IReadOnlyDictionary<string, ConditionRecord>> Conditions = new(ConditionData.FromFiles);

    /// <summary>The write body of a catalog product, as its data file holds it (less its id).</summary>
    public static JsonObject Input(string slug)
    {
        var node = JsonNode.Parse(File(slug).Content)!.AsObject();
        node.Remove("id");
        return node;
    }

    /// <summary>A catalog product as the API represents it at version 1.</summary>
    public static JsonObject Therapy(string slug)
    {
        var (id, input) = TherapyData.Read(File(slug));
        var therapy = Therapies.Therapy.From(
            id, input, c => (Conditions.Value[c].Name, Conditions.Value[c].Icd10), current: null, version: 1, createdAt: Loaded, updatedAt: Loaded);
        return JsonSerializer.SerializeToNode(therapy, CatalogJson.Options)!.AsObject();
    }

    private static CatalogDataFile File(string slug) =>
        CatalogData.Files("therapies").Single(f => f.Name == $"data/therapies/{slug}.json");
}

/// <summary>
/// The therapy schemas' examples; a list item is a <c>Therapy</c>, whose optional
/// <c>matchedConditions</c> (built in SQL, so described here) only search results carry.
/// </summary>
internal sealed class TherapySchemaExamples : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema target)
        {
            return;
        }

        if (context.Type == typeof(Therapy))
        {
            target.Example = TherapyExamples.Therapy("kymriah");
            // Optional: only a list item matched by `condition` or `q` has it, so list items are plain Therapy documents.
            target.Properties ??= new Dictionary<string, IOpenApiSchema>();
            target.Properties["matchedConditions"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Description = "Only on the items of GET /v1/therapies with `condition` or `q`: which conditions matched this therapy, how (exact, synonym, " +
                              "code-prefix, word, descendant, fuzzy ...), by which term, and via which broader condition. A write may send it back; it is ignored.",
                Items = context.SchemaGenerator.GenerateSchema(typeof(MatchedCondition), context.SchemaRepository),
            };
        }
        else if (context.Type == typeof(TherapyInput))
        {
            target.Example = TherapyExamples.Input("zolgensma");
        }
        else if (context.Type == typeof(TherapyPage))
        {
            target.Properties!["items"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Items = context.SchemaGenerator.GenerateSchema(typeof(Therapy), context.SchemaRepository),
            };
            // A page as GET /v1/therapies?condition=SMA shapes it: each item is a therapy with the condition it matched by.
            var zolgensma = TherapyExamples.Therapy("zolgensma");
            zolgensma["matchedConditions"] = new JsonArray(new JsonObject
            {
                ["conditionId"] = "spinal-muscular-atrophy", ["condition"] = zolgensma["indications"]![0]!["condition"]!.DeepClone(),
                ["icd10"] = zolgensma["indications"]![0]!["icd10"]?.DeepClone(), ["match"] = "synonym", ["term"] = "SMA", ["via"] = null,
            });
            target.Example = new JsonObject { ["items"] = new JsonArray(zolgensma), ["nextCursor"] = null };
        }
    }
}
