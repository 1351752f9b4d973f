using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// The document's limits (maxLength, pattern, minItems/maxItems, minimum/maximum) are the
/// validator's: read from its rules, on every schema that carries them, and they hold when a body
/// is validated (a value at a limit passes, one past it is refused on that member).
/// </summary>
public class SchemaLimitTests
{
    private static readonly JsonNode Document = JsonNode.Parse(File.ReadAllText(OpenApiDocumentTests.CommittedPath))!;
    private static readonly JsonObject Schemas = Document["components"]!["schemas"]!.AsObject();
    private static readonly TherapyInputValidator Validator = new(TimeProvider.System);

    /// <summary>The component schemas that show a write type's limits: its own, and the read (and patch) schemas of the same members.</summary>
    private static readonly Dictionary<Type, string[]> ShownIn = new()
    {
        [typeof(TherapyInput)] = ["TherapyInput", "TherapyPatch", "Therapy"],
        [typeof(IndicationInput)] = ["IndicationInput", "Indication"],
        [typeof(PackageInput)] = ["PackageInput", "Package"],
        [typeof(Administration)] = ["Administration"],
        [typeof(Approval)] = ["Approval"],
        [typeof(OtherName)] = ["OtherName"],
        [typeof(ListPrice)] = ["ListPrice"],
    };

    [Fact]
    public void Every_limit_the_validator_states_is_on_the_schemas_of_its_member()
    {
        var limits = ValidatorLimits.Of<TherapyInput>(Validator);
        Assert.True(limits.Count >= 30, $"Only {limits.Count} members with limits were read from the validator.");

        var wrong = new List<string>();
        foreach (var ((type, member), expected) in limits)
        {
            Assert.True(ShownIn.ContainsKey(type), $"{type.Name} has limits but no schema is checked for them.");
            foreach (var name in ShownIn[type])
            {
                var schema = Schemas[name]!["properties"]![member];
                if (schema is null)
                {
                    wrong.Add($"{name}.{member}: not in the document");
                    continue;
                }

                var shown = expected with { MaxItems = name == "Therapy" && member == "sources" ? null : expected.MaxItems };
                Compare($"{name}.{member}", shown, schema, wrong);
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void A_limit_changed_in_a_validator_is_what_is_read_from_it()
    {
        var changed = new InlineValidator<TherapyInput>();
        changed.RuleFor(t => t.Slug).MaximumLength(42).MatchesWhole("^x+$");
        changed.RuleFor(t => t.Sources).Count(2, 7);
        changed.RuleForEach(t => t.Sources).MaximumLength(9);
        changed.RuleFor(t => t.Administration.InfusionMinutes).InclusiveBetween(5, 6);
        changed.RuleFor(t => t.ListPrice!).ChildRules(p => p.RuleFor(x => x.Amount).LessThanOrEqualTo(3.5m));
        changed.RuleForEach(t => t.Indications).ChildRules(i => i.RuleFor(x => x.Population).MaximumLength(11));

        var limits = ValidatorLimits.Of<TherapyInput>(changed);

        Assert.Equal(new MemberLimits(MaxLength: 42, Pattern: "^x+$"), limits[(typeof(TherapyInput), "slug")]);
        Assert.Equal(new MemberLimits(MinItems: 2, MaxItems: 7, Items: new MemberLimits(MaxLength: 9)), limits[(typeof(TherapyInput), "sources")]);
        Assert.Equal(new MemberLimits(Minimum: 5, Maximum: 6), limits[(typeof(Administration), "infusionMinutes")]);
        Assert.Equal(new MemberLimits(Maximum: 3.5m), limits[(typeof(ListPrice), "amount")]);
        Assert.Equal(new MemberLimits(MaxLength: 11), limits[(typeof(IndicationInput), "population")]);
        Assert.Equal(5, limits.Count);
    }

    /// <summary>
    /// Independently of how the limits were read: each text member's maxLength, each list's maxItems
    /// and minItems and each number's range in the document, tried on a real body (Zolgensma's).
    /// </summary>
    [Fact]
    public void The_documented_limits_are_where_the_validator_refuses()
    {
        var body = TherapyExamples.Input("zolgensma");
        var tried = new List<string>();
        var wrong = new List<string>();
        Walk(Schemas["TherapyInput"]!, body, "", "", body, tried, wrong);

        Assert.Empty(wrong);
        // The members with limits that the body reaches (so a missing walk cannot pass by trying nothing).
        Assert.Contains("slug (maxLength)", tried);
        Assert.Contains("proprietaryName (maxLength)", tried);
        Assert.Contains("administration.summary (maxLength)", tried);
        Assert.Contains("indications[0].population (maxLength)", tried);
        Assert.Contains("listPrice.amount (maximum)", tried);
        Assert.Contains("sources (minItems)", tried);
        Assert.Contains("approvals (maxItems)", tried);
        Assert.True(tried.Count >= 15, string.Join(", ", tried));
    }

    private static void Walk(JsonNode schema, JsonObject value, string path, string fvPath, JsonObject root, List<string> tried, List<string> wrong)
    {
        foreach (var (name, member) in schema["properties"]!.AsObject())
        {
            var memberPath = path.Length == 0 ? name : $"{path}.{name}";
            var memberFvPath = (fvPath.Length == 0 ? "" : fvPath + ".") + char.ToUpperInvariant(name[0]) + name[1..];
            var resolved = Resolve(member!);
            // Letters only: tried where the pattern allows them (a slug), so only the length can be refused.
            if (resolved["maxLength"] is { } max && resolved["enum"] is null
                && (resolved["pattern"] is not { } pattern || System.Text.RegularExpressions.Regex.IsMatch(
                    new string('a', max.GetValue<int>() + 1), pattern.GetValue<string>(), System.Text.RegularExpressions.RegexOptions.ECMAScript)))
            {
                var n = max.GetValue<int>();
                tried.Add($"{memberPath} (maxLength)");
                Try(root, memberPath, memberFvPath, JsonValue.Create(new string('a', n)), refused: false, wrong);
                Try(root, memberPath, memberFvPath, JsonValue.Create(new string('a', n + 1)), refused: true, wrong);
            }

            if (resolved["maximum"] is { } maximum)
            {
                var m = maximum.GetValue<decimal>();
                tried.Add($"{memberPath} (maximum)");
                Try(root, memberPath, memberFvPath, JsonValue.Create(m), refused: false, wrong);
                Try(root, memberPath, memberFvPath, JsonValue.Create(m + 1), refused: true, wrong);
            }

            if (resolved["minimum"] is { } minimum)
            {
                var m = minimum.GetValue<decimal>();
                tried.Add($"{memberPath} (minimum)");
                Try(root, memberPath, memberFvPath, JsonValue.Create(m), refused: false, wrong);
                Try(root, memberPath, memberFvPath, JsonValue.Create(m - 1), refused: true, wrong);
            }

            var current = value[name];
            if (resolved["maxItems"] is { } maxItems && current is JsonArray { Count: > 0 } some)
            {
                tried.Add($"{memberPath} (maxItems)");
                var over = new JsonArray([.. Enumerable.Range(0, maxItems.GetValue<int>() + 1).Select(_ => some[0]!.DeepClone())]);
                Try(root, memberPath, memberFvPath, over, refused: true, wrong);
            }

            if (resolved["minItems"] is { } minItems && minItems.GetValue<int>() > 0)
            {
                tried.Add($"{memberPath} (minItems)");
                Try(root, memberPath, memberFvPath, new JsonArray(), refused: true, wrong);
            }

            if (current is JsonObject nested && resolved["properties"] is not null)
            {
                Walk(resolved, nested, memberPath, memberFvPath, root, tried, wrong);
            }
            else if (current is JsonArray { Count: > 0 } list && list[0] is JsonObject first && resolved["items"] is { } items)
            {
                Walk(Resolve(items), first, memberPath + "[0]", memberFvPath + "[0]", root, tried, wrong);
            }
        }
    }

    /// <summary>A member's own schema: through a $ref, or the $ref of a "that or null" oneOf.</summary>
    private static JsonNode Resolve(JsonNode schema)
    {
        if (schema["oneOf"] is JsonArray oneOf && oneOf.FirstOrDefault(s => s?["$ref"] is not null) is { } reference)
        {
            schema = reference;
        }

        return schema["$ref"] is { } target ? Schemas[target.GetValue<string>().Split('/')[^1]]! : schema;
    }

    private static void Try(JsonObject root, string path, string fvPath, JsonNode value, bool refused, List<string> wrong)
    {
        var body = root.DeepClone().AsObject();
        JsonNode parent = body;
        var steps = path.Split('.');
        foreach (var step in steps[..^1])
        {
            parent = step.EndsWith("[0]", StringComparison.Ordinal) ? parent[step[..^3]]![0]! : parent[step]!;
        }

        parent[steps[^1]] = value;
        var input = body.Deserialize<TherapyInput>(CatalogJson.Options)!;
        var errors = Validator.Validate(input).Errors.Where(e => e.PropertyName == fvPath).Select(e => e.ErrorMessage).ToList();
        if (refused && errors.Count == 0)
        {
            wrong.Add($"{path} = {Shorten(value)} passes");
        }
        else if (!refused && errors.Count > 0)
        {
            wrong.Add($"{path} = {Shorten(value)} is refused: {string.Join(" ", errors)}");
        }
    }

    private static string Shorten(JsonNode value)
    {
        var text = value.ToJsonString();
        return text.Length > 40 ? $"{text[..20]}… ({text.Length} characters)" : text;
    }

    private static void Compare(string where, MemberLimits expected, JsonNode schema, List<string> wrong)
    {
        void Check(string keyword, object? want, JsonNode? node)
        {
            var have = node?.ToJsonString();
            var wanted = want is null ? null : JsonSerializer.Serialize(want);
            if (have != wanted && !(want is decimal d && node is not null && node.GetValue<decimal>() == d))
            {
                wrong.Add($"{where}.{keyword}: document {have ?? "none"}, validator {wanted ?? "none"}");
            }
        }

        var hasEnum = schema["enum"] is not null;
        Check("minLength", hasEnum ? null : expected.MinLength, hasEnum ? null : schema["minLength"]);
        Check("maxLength", expected.MaxLength, schema["maxLength"]);
        Check("pattern", expected.Pattern, schema["pattern"]);
        Check("minimum", expected.Minimum, schema["minimum"]);
        Check("maximum", expected.Maximum, schema["maximum"]);
        Check("minItems", expected.MinItems, schema["minItems"]);
        Check("maxItems", expected.MaxItems, schema["maxItems"]);
        if (expected.Items is { } items)
        {
            Compare(where + ".items", items, schema["items"]!, wrong);
        }
    }
}
