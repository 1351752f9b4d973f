using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The validator's limits (<c>maxLength</c>, <c>pattern</c>, <c>minItems</c>/<c>maxItems</c>,
/// <c>minimum</c>/<c>maximum</c>) on the therapy schemas, read from <see cref="TherapyInputValidator"/>'s
/// own rules (<see cref="ValidatorLimits"/>), so the document cannot drift from what the service
/// enforces. The read schemas (<c>Therapy</c>, <c>Indication</c>, <c>Package</c>) carry their write
/// members' limits, since every stored therapy passed them; <c>Therapy.sources</c> has no
/// <c>maxItems</c>, as it also gathers every fact's own source. A bound that depends on today (a
/// list price's latest year) is left out, so the document is the same every day.
/// </summary>
internal sealed class TherapyLimitSchemas : ISchemaFilter
{
    /// <summary>What the validator says. Its bounds that depend on today are rules that read the clock (<c>Must</c>), which carry no number.</summary>
    internal static readonly IReadOnlyDictionary<(Type Type, string Member), MemberLimits> Limits =
        ValidatorLimits.Of(new TherapyInputValidator(TimeProvider.System));

    /// <summary>The write type whose members' limits a read type carries.</summary>
    private static readonly Dictionary<Type, Type> ReadAs = new()
    {
        [typeof(Therapy)] = typeof(TherapyInput),
        [typeof(Indication)] = typeof(IndicationInput),
        [typeof(Package)] = typeof(PackageInput),
    };

    /// <summary>Members whose values come from the condition records (the database's CHECK holds the same pattern).</summary>
    private static readonly HashSet<(Type, string)> Icd10Members =
        [(typeof(Indication), "icd10"), (typeof(MatchedCondition), "icd10"), (typeof(ConditionItem), "icd10")];

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema target || target.Properties is null)
        {
            return;
        }

        var source = ReadAs.GetValueOrDefault(context.Type, context.Type);
        foreach (var (name, property) in target.Properties)
        {
            if (property is not OpenApiSchema member)
            {
                continue;
            }

            if (Limits.TryGetValue((source, name), out var limits))
            {
                if (context.Type == typeof(Therapy) && name == "sources")
                {
                    limits = limits with { MaxItems = null };
                }

                limits.ApplyTo(member);
            }

            if (Icd10Members.Contains((context.Type, name)))
            {
                member.Pattern = ConditionRecord.Icd10Pattern;
            }
        }
    }
}
