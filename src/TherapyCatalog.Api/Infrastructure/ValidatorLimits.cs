using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FluentValidation;
using FluentValidation.Validators;
using Microsoft.OpenApi;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// The limits a FluentValidation validator enforces on each member, read from its rules (length,
/// regular expression, inclusive range, comparison with a constant, <see cref="CountValidator{T,TCollection}"/>),
/// through child rules and collection rules, so the OpenAPI document shows the validator's own
/// numbers and cannot drift from them. A rule it does not recognise (<c>Must</c>, cross-member
/// rules such as <c>Equal</c> under a condition) adds nothing.
/// </summary>
public sealed record MemberLimits(
    int? MinLength = null, int? MaxLength = null, string? Pattern = null,
    decimal? Minimum = null, decimal? Maximum = null, int? MinItems = null, int? MaxItems = null, MemberLimits? Items = null)
{
    /// <summary>The limits of both, the stricter where both say something.</summary>
    public MemberLimits With(MemberLimits other) => new(
        Max(MinLength, other.MinLength), Min(MaxLength, other.MaxLength), other.Pattern ?? Pattern,
        Max(Minimum, other.Minimum), Min(Maximum, other.Maximum), Max(MinItems, other.MinItems), Min(MaxItems, other.MaxItems),
        Items is null ? other.Items : other.Items is null ? Items : Items.With(other.Items));

    /// <summary>Writes the limits on a member's schema (and an array's item schema).</summary>
    public void ApplyTo(OpenApiSchema schema)
    {
        // An enum says more than "not empty".
        schema.MinLength = schema.Enum is { Count: > 0 } ? schema.MinLength : MinLength ?? schema.MinLength;
        schema.MaxLength = MaxLength ?? schema.MaxLength;
        schema.Pattern = Pattern ?? schema.Pattern;
        schema.Minimum = Minimum?.ToString(CultureInfo.InvariantCulture) ?? schema.Minimum;
        schema.Maximum = Maximum?.ToString(CultureInfo.InvariantCulture) ?? schema.Maximum;
        schema.MinItems = MinItems ?? schema.MinItems;
        schema.MaxItems = MaxItems ?? schema.MaxItems;
        if (Items is not null && schema.Items is OpenApiSchema items)
        {
            Items.ApplyTo(items);
        }
    }

    private static T? Min<T>(T? a, T? b) where T : struct, IComparable<T> => a is null ? b : b is null ? a : a.Value.CompareTo(b.Value) <= 0 ? a : b;

    private static T? Max<T>(T? a, T? b) where T : struct, IComparable<T> => a is null ? b : b is null ? a : a.Value.CompareTo(b.Value) >= 0 ? a : b;
}

public static class ValidatorLimits
{
    /// <summary>
    /// Every member's limits, keyed by the type that declares the member and its JSON (camelCase) name:
    /// <c>(TherapyInput, "slug")</c>, <c>(Administration, "summary")</c>, <c>(IndicationInput, "conditionId")</c>.
    /// </summary>
    public static Dictionary<(Type Type, string Member), MemberLimits> Of<T>(IValidator<T> validator)
    {
        var limits = new Dictionary<(Type, string), MemberLimits>();
        Walk(validator, typeof(T), limits);
        return limits;
    }

    private static void Walk(IValidator validator, Type model, Dictionary<(Type, string), MemberLimits> limits)
    {
        if (validator is not IEnumerable<IValidationRule> rules)
        {
            return;
        }

        foreach (var rule in rules)
        {
            if (rule.PropertyName is not { Length: > 0 } path)
            {
                continue;
            }

            // A chain (Administration.Summary) belongs to the type that declares its last member.
            var owner = model;
            var names = path.Split('.');
            foreach (var name in names[..^1])
            {
                owner = owner.GetProperty(name)?.PropertyType ?? owner;
            }

            var memberType = owner.GetProperty(names[^1])?.PropertyType;
            var isCollectionRule = rule.GetType().GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICollectionRule<,>));
            var valueType = isCollectionRule && memberType is not null ? ElementType(memberType) : memberType;
            var key = (owner, JsonNamingPolicy.CamelCase.ConvertName(names[^1]));
            foreach (var component in rule.Components)
            {
                if (component.Validator is IChildValidatorAdaptor child && valueType is not null)
                {
                    if (ChildValidator(child) is { } nested)
                    {
                        Walk(nested, valueType, limits);
                    }

                    continue;
                }

                if (Read(component.Validator, valueType) is not { } found)
                {
                    continue;
                }

                var add = isCollectionRule ? new MemberLimits(Items: found) : found;
                limits[key] = limits.TryGetValue(key, out var known) ? known.With(add) : add;
            }
        }
    }

    private static MemberLimits? Read(IPropertyValidator validator, Type? valueType) => validator switch
    {
        ILengthValidator length => new MemberLimits(MinLength: length.Min > 0 ? length.Min : null, MaxLength: length.Max >= 0 ? length.Max : null),
        IRegularExpressionValidator regex => new MemberLimits(Pattern: TextPattern.Anchored(regex.Expression)),
        INotEmptyValidator when valueType == typeof(string) => new MemberLimits(MinLength: 1),
        IBetweenValidator between when validator.Name == "InclusiveBetweenValidator"
                                       && Number(between.From) is { } from && Number(between.To) is { } to => new MemberLimits(Minimum: from, Maximum: to),
        IComparisonValidator { MemberToCompare: null, Comparison: Comparison.GreaterThanOrEqual } c when Number(c.ValueToCompare) is { } min => new MemberLimits(Minimum: min),
        IComparisonValidator { MemberToCompare: null, Comparison: Comparison.LessThanOrEqual } c when Number(c.ValueToCompare) is { } max => new MemberLimits(Maximum: max),
        ICountValidator count => new MemberLimits(MinItems: count.Min > 0 ? count.Min : null, MaxItems: count.Max),
        _ => null,
    };

    private static decimal? Number(object? value) => value switch
    {
        int i => i,
        long l => l,
        decimal d => d,
        _ => null,
    };

    private static Type? ElementType(Type collection) =>
        collection.IsArray ? collection.GetElementType()
        : collection.GetInterfaces().Append(collection)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    /// <summary>The validator a <c>ChildRules</c> or <c>SetValidator</c> rule runs (one fixed instance, not a provider).</summary>
    private static IValidator? ChildValidator(IChildValidatorAdaptor adaptor)
    {
        var method = adaptor.GetType().GetMethod("GetValidator", BindingFlags.Public | BindingFlags.Instance);
        if (method?.GetParameters() is not [{ ParameterType: var contextType }, _] || !contextType.IsGenericType
            || contextType.GetGenericTypeDefinition() != typeof(ValidationContext<>))
        {
            return null;
        }

        // A context over no instance: a fixed child validator is handed out without looking at it.
        var context = Activator.CreateInstance(contextType, [null]);
        return method.Invoke(adaptor, [context, null]) as IValidator;
    }
}

/// <summary>The bounds of a <see cref="CountValidator{T,TCollection}"/>, as <see cref="ValidatorLimits"/> reads them.</summary>
public interface ICountValidator : IPropertyValidator
{
    int Min { get; }

    int Max { get; }
}

/// <summary>A list holds between <see cref="Min"/> and <see cref="Max"/> items (null passes: say NotNull separately).</summary>
public sealed class CountValidator<T, TCollection>(int min, int max) : PropertyValidator<T, TCollection>, ICountValidator
    where TCollection : IEnumerable?
{
    public int Min => min;

    public int Max => max;

    public override string Name => "CountValidator";

    public override bool IsValid(ValidationContext<T> context, TCollection value)
    {
        if (value is null)
        {
            return true;
        }

        var count = value.Cast<object?>().Count();
        return count >= min && count <= max;
    }

    protected override string GetDefaultMessageTemplate(string errorCode) => $"'{{PropertyName}}' must hold between {min} and {max} items.";
}

public static class CountRules
{
    /// <summary>The list holds between <paramref name="min"/> and <paramref name="max"/> items.</summary>
    public static IRuleBuilderOptions<T, TCollection> Count<T, TCollection>(this IRuleBuilder<T, TCollection> rule, int min, int max)
        where TCollection : IEnumerable? =>
        rule.SetValidator(new CountValidator<T, TCollection>(min, max));
}
