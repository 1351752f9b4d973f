using System.Globalization;
using System.Text.Json.Nodes;
using FluentValidation;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The filters of <c>GET /v1/therapies</c> and <c>GET /v1/facets</c>, as the query string gives them.
/// Repeating a filter means OR within it; different filters combine with AND.
/// </summary>
/// <param name="Condition">A condition as a person names it: name, synonym, abbreviation, lay term, misspelling, ICD-10 code or code prefix. Reaches the condition's subtypes (a condition may have several parents). Qualifiers are exact: a letter, a type number or a roman numeral (`hemophilia A`, `SMA type 2`, `LAD-I`) is never dropped or corrected, so `hemophilia A` finds no hemophilia B product; other English stop words may be left out.</param>
/// <param name="Q">Free text over therapy names (regional brands and code names too), target, manufacturer (`novartis`, `kite`), vector detail (`oncolytic`), platform and modality words (`CAR-T`, `AAV`, `lentiviral`, `CRISPR`, `gene therapy`, `cell therapy`, `gene-modified cell therapy`) and conditions (matched as `condition` is). An exact name, brand, slug or target ranks first.</param>
/// <param name="Modality">cell, gene, cell-based-gene</param>
/// <param name="CellSource">autologous, allogeneic</param>
/// <param name="Delivery">in-vivo, ex-vivo</param>
/// <param name="Mechanism">replace, inactivate, introduce, edit</param>
/// <param name="Vector">aav, lentiviral, gamma-retroviral, adenoviral, hsv-1, plasmid, crispr-cas9, other</param>
/// <param name="Target">Gene or antigen, case-insensitive exact (e.g. CD19).</param>
/// <param name="Route">Route of administration (e.g. intravenous).</param>
/// <param name="Manufacturer">Case-insensitive part of the license holder's name (e.g. kite).</param>
/// <param name="Regulator">FDA, EMA, MHRA, NMPA, PMDA, MFDS, CDSCO, HEALTH-CANADA, TGA, SWISSMEDIC, MINZDRAV (Russia), MOH-UKRAINE: the therapy has an approval or an indication by it.</param>
/// <param name="ApprovedFrom">YYYY-MM-DD: some approval of the therapy is on or after this date.</param>
/// <param name="ApprovedTo">YYYY-MM-DD: that same approval is on or before this date.</param>
/// <param name="Status">active (default), withdrawn, or any.</param>
public sealed record TherapyFilterRequest(
    string? Condition,
    string? Q,
    string[]? Modality,
    string[]? CellSource,
    string[]? Delivery,
    string[]? Mechanism,
    string[]? Vector,
    string[]? Target,
    string[]? Route,
    string[]? Manufacturer,
    string[]? Regulator,
    string? ApprovedFrom,
    string? ApprovedTo,
    string? Status);

public sealed class TherapyFilterRequestValidator : AbstractValidator<TherapyFilterRequest>
{
    public const int MaxValuesPerFilter = 50;
    public const int MaxValueLength = 200;
    private static readonly string[] None = [];
    public static readonly string[] StatusValues = [.. TherapyVocabulary.Statuses, "any"];

    public TherapyFilterRequestValidator()
    {
        RuleFor(r => r.Condition).MaximumLength(ConditionMatcher.MaxQueryLength).OverridePropertyName("condition")
            .WithMessage($"'condition' may be at most {ConditionMatcher.MaxQueryLength} characters long.");
        RuleFor(r => r.Q).MaximumLength(ConditionMatcher.MaxQueryLength).OverridePropertyName("q")
            .WithMessage($"'q' may be at most {ConditionMatcher.MaxQueryLength} characters long.");
        Vocabulary(r => r.Modality ?? None, "modality", TherapyVocabulary.Modalities);
        Vocabulary(r => r.CellSource ?? None, "cellSource", TherapyVocabulary.CellSources);
        Vocabulary(r => r.Delivery ?? None, "delivery", TherapyVocabulary.Deliveries);
        Vocabulary(r => r.Mechanism ?? None, "mechanism", TherapyVocabulary.Mechanisms);
        Vocabulary(r => r.Vector ?? None, "vector", TherapyVocabulary.Vectors);
        Vocabulary(r => r.Route ?? None, "route", TherapyVocabulary.Routes);
        Vocabulary(r => r.Regulator ?? None, "regulator", TherapyVocabulary.Regulators);
        FreeValues(r => r.Target ?? None, "target");
        FreeValues(r => r.Manufacturer ?? None, "manufacturer");
        RuleFor(r => r.ApprovedFrom).Must(BeDate).OverridePropertyName("approvedFrom")
            .WithMessage("'approvedFrom' must be a date written YYYY-MM-DD.");
        RuleFor(r => r.ApprovedTo).Must(BeDate).OverridePropertyName("approvedTo")
            .WithMessage("'approvedTo' must be a date written YYYY-MM-DD.");
        RuleFor(r => r).Must(r => ParseDate(r.ApprovedFrom) <= ParseDate(r.ApprovedTo))
            .When(r => ParseDate(r.ApprovedFrom) is not null && ParseDate(r.ApprovedTo) is not null)
            .OverridePropertyName("approvedFrom")
            .WithMessage("'approvedFrom' must not be after 'approvedTo'.");
        RuleFor(r => r.Status).Must(s => s is null || StatusValues.Contains(s, StringComparer.OrdinalIgnoreCase))
            .OverridePropertyName("status")
            .WithMessage(r => $"'{r.Status}' is not a status; allowed: {string.Join(", ", StatusValues)}.");
    }

    private void Vocabulary(System.Linq.Expressions.Expression<Func<TherapyFilterRequest, IEnumerable<string>>> member, string name, string[] allowed)
    {
        RuleFor(member).Must(v => v.Count() <= MaxValuesPerFilter).OverridePropertyName(name)
            .WithMessage($"'{name}' may be repeated at most {MaxValuesPerFilter} times.");
        RuleForEach(member).Must(v => allowed.Contains(v, StringComparer.OrdinalIgnoreCase)).OverridePropertyName(name)
            .WithMessage((_, value) => $"'{Shorten(value)}' is not a valid {name}; allowed: {string.Join(", ", allowed)}.");
    }

    private void FreeValues(System.Linq.Expressions.Expression<Func<TherapyFilterRequest, IEnumerable<string>>> member, string name)
    {
        RuleFor(member).Must(v => v.Count() <= MaxValuesPerFilter).OverridePropertyName(name)
            .WithMessage($"'{name}' may be repeated at most {MaxValuesPerFilter} times.");
        RuleForEach(member).Must(v => v is { Length: <= MaxValueLength } && Clean(v).Length > 0).OverridePropertyName(name)
            .WithMessage($"Each '{name}' must hold 1 to {MaxValueLength} characters.");
    }

    private static string Shorten(string? value) => value is null ? "" : value.Length > 40 ? value[..40] + "…" : Clean(value);

    private static bool BeDate(string? value) => value is null || ParseDate(value) is not null;

    public static DateOnly? ParseDate(string? value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    /// <summary>PostgreSQL text cannot hold NUL; control characters mean nothing in a filter either.</summary>
    public static string Clean(string value) => new string([.. value.Where(c => !char.IsControl(c))]).Trim();
}

/// <summary>The filters' OpenAPI details: their closed vocabularies and date formats (their descriptions come from the record's XML docs).</summary>
internal static class TherapyFilterDocs
{
    public static RouteHandlerBuilder WithFilterDocs(this RouteHandlerBuilder builder) => builder
        .WithParameterDoc("condition", example: () => JsonValue.Create("SMA"))
        .WithParameterDoc("modality", values: TherapyVocabulary.Modalities)
        .WithParameterDoc("cellSource", values: TherapyVocabulary.CellSources)
        .WithParameterDoc("delivery", values: TherapyVocabulary.Deliveries)
        .WithParameterDoc("mechanism", values: TherapyVocabulary.Mechanisms)
        .WithParameterDoc("vector", values: TherapyVocabulary.Vectors)
        .WithParameterDoc("route", values: TherapyVocabulary.Routes)
        .WithParameterDoc("regulator", values: TherapyVocabulary.Regulators)
        .WithParameterDoc("status", values: TherapyFilterRequestValidator.StatusValues)
        .WithParameterDoc("approvedFrom", format: "date")
        .WithParameterDoc("approvedTo", format: "date");
}
