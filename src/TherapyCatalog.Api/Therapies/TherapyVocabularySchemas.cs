using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The closed vocabularies of <see cref="TherapyVocabulary"/> as enums on the resource's schemas
/// (read and write alike), so generated clients get typed values; a member that may be null also
/// lists null. The same arrays the validator checks, so the document cannot drift from it.
/// </summary>
internal sealed class TherapyVocabularySchemas : ISchemaFilter
{
    private static readonly Dictionary<(Type, string), string[]> Vocabularies = new()
    {
        [(typeof(Therapy), "modality")] = TherapyVocabulary.Modalities,
        [(typeof(Therapy), "cellSource")] = TherapyVocabulary.CellSources,
        [(typeof(Therapy), "delivery")] = TherapyVocabulary.Deliveries,
        [(typeof(Therapy), "mechanism")] = TherapyVocabulary.Mechanisms,
        [(typeof(Therapy), "vector")] = TherapyVocabulary.Vectors,
        [(typeof(Therapy), "route")] = TherapyVocabulary.Routes,
        [(typeof(Therapy), "status")] = TherapyVocabulary.Statuses,
        [(typeof(TherapyInput), "modality")] = TherapyVocabulary.Modalities,
        [(typeof(TherapyInput), "cellSource")] = TherapyVocabulary.CellSources,
        [(typeof(TherapyInput), "delivery")] = TherapyVocabulary.Deliveries,
        [(typeof(TherapyInput), "mechanism")] = TherapyVocabulary.Mechanisms,
        [(typeof(TherapyInput), "vector")] = TherapyVocabulary.Vectors,
        [(typeof(TherapyInput), "route")] = TherapyVocabulary.Routes,
        [(typeof(TherapyInput), "status")] = TherapyVocabulary.Statuses,
        [(typeof(Approval), "regulator")] = TherapyVocabulary.Regulators,
        [(typeof(Approval), "status")] = TherapyVocabulary.ApprovalStatuses,
        [(typeof(Approval), "sourceKind")] = TherapyVocabulary.SourceKinds,
        [(typeof(Indication), "regulator")] = TherapyVocabulary.Regulators,
        [(typeof(Indication), "sourceKind")] = TherapyVocabulary.SourceKinds,
        [(typeof(IndicationInput), "regulator")] = TherapyVocabulary.Regulators,
        [(typeof(IndicationInput), "sourceKind")] = TherapyVocabulary.SourceKinds,
        [(typeof(ListPrice), "sourceKind")] = TherapyVocabulary.SourceKinds,
        [(typeof(Package), "sourceKind")] = TherapyVocabulary.SourceKinds,
        [(typeof(PackageInput), "sourceKind")] = TherapyVocabulary.SourceKinds,
        [(typeof(OtherName), "kind")] = TherapyVocabulary.OtherNameKinds,
        [(typeof(OtherName), "regulator")] = TherapyVocabulary.Regulators,
    };

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema target || target.Properties is null)
        {
            return;
        }

        foreach (var (name, property) in target.Properties)
        {
            if (property is OpenApiSchema member && Vocabularies.TryGetValue((context.Type, name), out var values))
            {
                var nullable = member.Type?.HasFlag(JsonSchemaType.Null) == true;
                member.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!), .. nullable ? new JsonNode[] { null! } : []]; // JSON null is a null node
            }
        }
    }
}
