using System.Text.Json;
using System.Text.Json.Nodes;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Examples for the OpenAPI document, made from the catalog's own data files (embedded in this
/// assembly), so they are real records and need no database. Timestamps are fixed so the document
/// is the same on every build.
/// </summary>
public static class CatalogExamples
{
    private static readonly DateTimeOffset Loaded = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<Dictionary<string, ConditionRecord>> Conditions = new(() =>
        CatalogDataLoader.DataFiles()
            .Where(f => f.Name.StartsWith("data/conditions/", StringComparison.Ordinal))
            .SelectMany(f => JsonSerializer.Deserialize<List<ConditionRecord>>(f.Content, CatalogJson.Options)!)
            .ToDictionary(c => c.Id));

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
        var data = JsonSerializer.Deserialize<TherapyDataFile>(File(slug).Content, CatalogJson.Options)!;
        var therapy = new Therapy(
            data.Id, data.Slug, data.ProprietaryName, data.ProperName, data.Manufacturer, data.Modality, data.CellSource,
            data.Delivery, data.Mechanism, data.Vector, data.VectorDetail, data.Target, data.Route, data.Administration,
            [.. data.Indications.Select(i => new Indication(
                Conditions.Value[i.ConditionId].Name, i.ConditionId, Conditions.Value[i.ConditionId].Icd10, i.Population, i.Regulator, i.ApprovedOn))],
            data.Approvals, data.ListPrice, data.Ndcs, data.Status, data.Sources, Version: 1, CreatedAt: Loaded, UpdatedAt: Loaded);
        return JsonSerializer.SerializeToNode(therapy, CatalogJson.Options)!.AsObject();
    }

    private static CatalogDataLoader.DataFile File(string slug) =>
        CatalogDataLoader.DataFiles().Single(f => f.Name == $"data/therapies/{slug}.json");
}
