using System.Text.RegularExpressions;
using FluentValidation;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The rules of a therapy body: the contract's required members and vocabularies, and the
/// domain's cross-member rules as the seed texts explain them. The catalog data files pass
/// through the same validator when they are loaded.
/// </summary>
public sealed class TherapyInputValidator : AbstractValidator<TherapyInput>
{
    public static readonly DateOnly EarliestApproval = new(1990, 1, 1);

    /// <summary>The longest source URL.</summary>
    public const int MaxUrlLength = 2000;

    public TherapyInputValidator(TimeProvider clock)
    {
        // Read at each validation, not once: the validator is a singleton, and a service that runs
        // past midnight must take the new day's approvals (and, past New Year, its prices).
        DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        bool InApprovalRange(DateOnly? day) => day is not { } d || (d >= EarliestApproval && d <= Today());

        RuleFor(t => t.Slug).NotEmpty().MaximumLength(100).MatchesWhole(TherapyVocabulary.SlugPattern)
            .WithMessage("'slug' must be lower-case words of letters and digits joined by single hyphens, e.g. 'kymriah'.");
        RuleFor(t => t.ProprietaryName).NotEmpty().MaximumLength(200).SingleLine();
        RuleFor(t => t.ProperName).NotEmpty().MaximumLength(300).SingleLine();
        RuleFor(t => t.Manufacturer).NotEmpty().MaximumLength(300).SingleLine();
        RuleFor(t => t.Modality).NotEmpty().OneOf(TherapyVocabulary.Modalities);
        RuleFor(t => t.CellSource).OneOf(TherapyVocabulary.CellSources);
        RuleFor(t => t.Delivery).OneOf(TherapyVocabulary.Deliveries);
        RuleFor(t => t.Mechanism).OneOf(TherapyVocabulary.Mechanisms);
        RuleFor(t => t.Vector).OneOf(TherapyVocabulary.Vectors);
        RuleFor(t => t.VectorDetail).MaximumLength(200).SingleLine();
        RuleFor(t => t.Target).MaximumLength(200).SingleLine();
        RuleFor(t => t.Route).NotEmpty().OneOf(TherapyVocabulary.Routes);
        RuleFor(t => t.Status).NotEmpty().OneOf(TherapyVocabulary.Statuses);

        RuleFor(t => t.Administration).NotNull();
        RuleFor(t => t.Administration.Summary).MaximumLength(1000).When(t => t.Administration is not null);
        RuleFor(t => t.Administration.InfusionMinutes).InclusiveBetween(1, 24 * 60).When(t => t.Administration is not null);

        // Cascade stop: a missing (null) list gets its one message, and the count rules never see the null.
        RuleFor(t => t.Indications).Cascade(CascadeMode.Stop).NotNull().Count(0, 100).WithMessage("'indications' may hold at most 100 items.");
        RuleForEach(t => t.Indications).NotNull().ChildRules(indication =>
        {
            indication.RuleFor(i => i.ConditionId).NotEmpty().MaximumLength(100).MatchesWhole(TherapyVocabulary.SlugPattern)
                .WithMessage("'conditionId' must be the id of a condition, e.g. 'large-b-cell-lymphoma' (see GET /v1/conditions).");
            indication.RuleFor(i => i.Population).MaximumLength(1000);
            indication.RuleFor(i => i.Regulator).NotEmpty().OneOf(TherapyVocabulary.Regulators);
            indication.RuleFor(i => i.ApprovedOn).Must(InApprovalRange)
                .WithMessage($"'approvedOn' must lie between {EarliestApproval:yyyy-MM-dd} and today.");
            indication.RuleFor(i => i.Source).Sourced(i => i.SourceKind);
            indication.RuleFor(i => i.SourceKind).OneOf(TherapyVocabulary.SourceKinds);
        });

        RuleFor(t => t.Approvals).Cascade(CascadeMode.Stop).NotNull().Count(0, 50).WithMessage("'approvals' may hold at most 50 items.");
        RuleForEach(t => t.Approvals).NotNull().ChildRules(approval =>
        {
            approval.RuleFor(a => a.Regulator).NotEmpty().OneOf(TherapyVocabulary.Regulators);
            approval.RuleFor(a => a.ApplicationNumber).MaximumLength(100).SingleLine();
            approval.RuleFor(a => a.ApprovedOn).Must(InApprovalRange)
                .WithMessage($"'approvedOn' must lie between {EarliestApproval:yyyy-MM-dd} and today.");
            approval.RuleFor(a => a.Status).NotEmpty().OneOf(TherapyVocabulary.ApprovalStatuses);
            approval.RuleFor(a => a.Source).Sourced(a => a.SourceKind);
            approval.RuleFor(a => a.SourceKind).OneOf(TherapyVocabulary.SourceKinds);
        });

        RuleFor(t => t.OtherNames).Count(0, 50)
            .WithMessage("'otherNames' may hold at most 50 items.");
        RuleForEach(t => t.OtherNames).NotNull().ChildRules(name =>
        {
            name.RuleFor(o => o.Name).NotEmpty().MaximumLength(200).SingleLine();
            name.RuleFor(o => o.Kind).NotEmpty().OneOf(TherapyVocabulary.OtherNameKinds);
            name.RuleFor(o => o.Regulator).OneOf(TherapyVocabulary.Regulators);
        });

        RuleFor(t => t.ListPrice!).ChildRules(price =>
        {
            price.RuleFor(p => p.Amount).GreaterThanOrEqualTo(0).LessThanOrEqualTo(TherapyVocabulary.MaxListPrice)
                .Must(amount => decimal.Round(amount, 2) == amount).WithMessage("'amount' may have at most two decimal places.");
            price.RuleFor(p => p.Currency).NotEmpty().MatchesWhole(TherapyVocabulary.CurrencyPattern).WithMessage("'currency' must be an ISO 4217 code such as 'USD'.");
            price.RuleFor(p => p.Year).GreaterThanOrEqualTo(EarliestApproval.Year)
                .Must(year => year <= Today().Year).WithMessage("'year' must not be later than this year.");
            price.RuleFor(p => p.Source).Sourced(p => p.SourceKind);
            price.RuleFor(p => p.SourceKind).OneOf(TherapyVocabulary.SourceKinds);
        }).When(t => t.ListPrice is not null);

        RuleFor(t => t.Ndcs!).Cascade(CascadeMode.Stop).Count(0, 50).WithMessage("'ndcs' may hold at most 50 items.")
            .Must(n => n.Distinct().Count() == n.Count).WithMessage("'ndcs' must not repeat a code.")
            .When(t => t.Ndcs is not null);
        RuleForEach(t => t.Ndcs).Cascade(CascadeMode.Stop).NotEmpty().MatchesWhole(TherapyVocabulary.NdcPattern)
            .WithMessage("Each NDC must be a hyphenated 10-digit National Drug Code such as '0078-0846-19'.");

        RuleFor(t => t.Packages!).Cascade(CascadeMode.Stop).Count(0, 50).WithMessage("'packages' may hold at most 50 items.")
            .Must(p => p.Where(x => x is not null).DistinctBy(x => x.Ndc).Count() == p.Count).WithMessage("'packages' must not repeat an NDC.")
            .When(t => t.Packages is not null);
        RuleForEach(t => t.Packages).NotNull().ChildRules(package =>
        {
            package.RuleFor(p => p.Ndc).NotEmpty().MatchesWhole(TherapyVocabulary.NdcPattern)
                .WithMessage("'ndc' must be a hyphenated 10-digit National Drug Code such as '0078-0846-19'.");
            package.RuleFor(p => p.Ndc11).Must((p, ndc11) => ndc11 is null || p.Ndc is null || ndc11 == Package.Ndc11Of(p.Ndc))
                .WithMessage("'ndc11' is the 5-4-2 form of 'ndc' (derived by the service): leave it out or send the value read.");
            package.RuleFor(p => p.Description).MaximumLength(1000);
            package.RuleFor(p => p.Source).Sourced(p => p.SourceKind);
            package.RuleFor(p => p.SourceKind).OneOf(TherapyVocabulary.SourceKinds);
        });
        RuleFor(t => t.Ndcs).Must((t, ndcs) => ndcs!.SequenceEqual(t.Packages!.Select(p => p?.Ndc)))
            .When(t => t.Ndcs is not null && t.Packages is not null)
            .WithMessage("'ndcs' must list the packages' NDCs, in their order (or be left out: it is derived from 'packages').");

        RuleFor(t => t.Sources).Cascade(CascadeMode.Stop).NotNull().Count(1, 50)
            .WithMessage("'sources' must hold between 1 and 50 URLs: every fact needs a source.");
        RuleForEach(t => t.Sources).Cascade(CascadeMode.Stop).NotEmpty().MaximumLength(MaxUrlLength)
            .MatchesWhole(TherapyVocabulary.SourceUrlPattern).WithMessage("Each source must be an absolute http(s) URL.")
            .Must(url => BeAbsoluteHttpUrl(url!)).WithMessage("Each source must be an absolute http(s) URL.");

        // The domain's cross-member rules.
        RuleFor(t => t.CellSource).NotNull().When(t => t.Modality is "cell" or "cell-based-gene")
            .WithMessage("A cell or cell-based gene therapy must say where its cells come from ('autologous' or 'allogeneic').");
        RuleFor(t => t.Delivery).Equal("ex-vivo").When(t => t.Modality == "cell-based-gene")
            .WithMessage("A cell-based gene therapy modifies cells outside the body: 'delivery' must be 'ex-vivo'.");
        RuleFor(t => t.Vector).Null().When(t => t.Modality == "cell")
            .WithMessage("A cell therapy carries no genetic material: 'vector' must be null.");
        RuleFor(t => t.CellSource).Null().When(t => t.Modality == "gene" && t.Vector is not null)
            .WithMessage("A gene therapy given as a vector gives no cells: 'cellSource' must be null.");
        RuleFor(t => t.Delivery).Equal("in-vivo").When(t => t.Modality == "gene" && t.Vector is not null)
            .WithMessage("A gene therapy given as a vector works inside the body: 'delivery' must be 'in-vivo'.");
    }

    /// <summary>
    /// An absolute URL with a host, written as the database's CHECK wants it: <c>HTTPS://…</c> and
    /// <c>https:\\…</c> are URLs to <see cref="Uri"/>, but not to the CHECK.
    /// </summary>
    internal static bool BeAbsoluteHttpUrl(string url) =>
        SourceUrl.IsMatch(url) && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0;

    private static readonly Regex SourceUrl = TextPattern.Whole(TherapyVocabulary.SourceUrlPattern);
}

internal static class VocabularyRules
{
    /// <summary>
    /// A fact's source: an absolute http(s) URL. Its kind needs it; a source without a kind is allowed
    /// (list prices had sources before kinds), though the catalog's own data always gives both. The
    /// length and pattern are rules of their own, so the OpenAPI document reads them (<see cref="ValidatorLimits"/>).
    /// </summary>
    public static IRuleBuilderOptions<T, string?> Sourced<T>(this IRuleBuilderInitial<T, string?> rule, Func<T, string?> kind) =>
        rule.Cascade(CascadeMode.Stop)
            .MaximumLength(TherapyInputValidator.MaxUrlLength).WithMessage("'source' must be an absolute http(s) URL.")
            .MatchesWhole(TherapyVocabulary.SourceUrlPattern).WithMessage("'source' must be an absolute http(s) URL.")
            .Must(url => url is null || TherapyInputValidator.BeAbsoluteHttpUrl(url))
            .WithMessage("'source' must be an absolute http(s) URL.")
            .Must((fact, url) => url is not null || kind(fact) is null)
            .WithMessage("'sourceKind' says what kind of document the 'source' is: give the source too.");

    /// <summary>A name or code is one line: a line break, tab or other control character in it is a mistake (and breaks the CSV export's rows for its readers).</summary>
    public static IRuleBuilderOptions<T, string?> SingleLine<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(value => value is null || !value.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029'))
            .WithMessage("'{PropertyName}' is one line of text: no line breaks, tabs or other control characters.");

    /// <summary>Null passes (optional members say NotNull separately); any other value must be one of <paramref name="allowed"/>.</summary>
    public static IRuleBuilderOptions<T, string?> OneOf<T>(this IRuleBuilder<T, string?> rule, string[] allowed) =>
        rule.Must(value => value is null || allowed.Contains(value, StringComparer.Ordinal))
            .WithMessage($"'{{PropertyName}}' must be one of: {string.Join(", ", allowed)}.");
}
