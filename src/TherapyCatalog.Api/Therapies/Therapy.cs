namespace TherapyCatalog.Api.Therapies;

/// <summary>A cell or gene therapy product as the API represents it.</summary>
public sealed record Therapy(
    Guid Id,
    string Slug,
    string ProprietaryName,
    string ProperName,
    string Manufacturer,
    string Modality,
    string? CellSource,
    string? Delivery,
    string? Mechanism,
    string? Vector,
    string? VectorDetail,
    string? Target,
    string Route,
    Administration Administration,
    IReadOnlyList<OtherName> OtherNames,
    IReadOnlyList<Indication> Indications,
    IReadOnlyList<Approval> Approvals,
    ListPrice? ListPrice,
    IReadOnlyList<Package> Packages,
    IReadOnlyList<string> Ndcs,
    string Status,
    IReadOnlyList<string> Sources,
    int Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// The representation <paramref name="input"/> gives therapy <paramref name="id"/>, whose version
    /// before it is <paramref name="current"/> (null for a new one). An indication's condition name and
    /// ICD-10 code come from the condition record it names (<paramref name="condition"/>). Members added
    /// to the resource after its first release (<c>otherNames</c>, <c>packages</c>) that the body leaves
    /// out keep their stored value, so a client that does not know them cannot erase them; a body with
    /// only <c>ndcs</c> keeps the stored package of each code it lists. <c>ndcs</c> are the packages'
    /// codes; <c>sources</c> is the body's list plus every fact's own source.
    /// </summary>
    public static Therapy From(
        Guid id, TherapyInput input, Func<string, (string Name, string? Icd10)> condition, Therapy? current, int version,
        DateTimeOffset createdAt, DateTimeOffset updatedAt)
    {
        IReadOnlyList<Package> packages = input.Packages is { } given
            ? [.. given.Select(Package.From)]
            : input.Ndcs is { } codes
                ? [.. codes.Select(ndc => current?.Packages.FirstOrDefault(p => p.Ndc == ndc) ?? Package.From(new PackageInput(ndc)))]
                : current?.Packages ?? [];
        IReadOnlyList<Indication> indications = [.. input.Indications.Select(i =>
        {
            var (name, icd10) = condition(i.ConditionId);
            return new Indication(name, i.ConditionId, icd10, i.Population, i.Regulator, i.ApprovedOn, i.Source, i.SourceKind);
        })];
        IEnumerable<string?> factSources =
        [
            .. input.Approvals.Select(a => a.Source), .. indications.Select(i => i.Source), input.ListPrice?.Source,
            .. packages.Select(p => p.Source),
        ];
        return new Therapy(
            id, input.Slug, input.ProprietaryName, input.ProperName, input.Manufacturer, input.Modality,
            input.CellSource, input.Delivery, input.Mechanism, input.Vector, input.VectorDetail, input.Target, input.Route,
            input.Administration, [.. input.OtherNames ?? current?.OtherNames ?? []], indications, [.. input.Approvals],
            input.ListPrice, packages, [.. packages.Select(p => p.Ndc)], input.Status,
            [.. input.Sources.Concat(factSources.OfType<string>()).Distinct(StringComparer.Ordinal)],
            version, createdAt, updatedAt);
    }

    /// <summary>The writable members: what a client sends back to keep the therapy as it is.</summary>
    public TherapyInput ToInput() => new(
        Slug, ProprietaryName, ProperName, Manufacturer, Modality, CellSource, Delivery, Mechanism, Vector,
        VectorDetail, Target, Route, Administration, OtherNames,
        [.. Indications.Select(i => new IndicationInput(i.ConditionId, i.Population, i.Regulator, i.ApprovedOn, i.Source, i.SourceKind))],
        Approvals, ListPrice, [.. Packages.Select(p => new PackageInput(p.Ndc, p.Ndc11, p.Description, p.Source, p.SourceKind))],
        Ndcs, Status, Sources);
}

/// <summary>How the product reaches the patient, and the steps of the patient journey it needs.</summary>
public sealed record Administration(
    string? Summary,
    int? InfusionMinutes,
    bool RequiresLeukapheresis,
    bool RequiresLymphodepletion,
    bool Rems);

/// <summary>Another name the product goes by: a regional brand (with the regulator it is used under), a former brand, a code name.</summary>
public sealed record OtherName(
    string Name,
    string Kind,
    string? Regulator);

/// <summary>An approved use: the condition (from the condition records), for whom, by which regulator, since when, and who says so.</summary>
public sealed record Indication(
    string Condition,
    string ConditionId,
    string? Icd10,
    string? Population,
    string Regulator,
    DateOnly? ApprovedOn,
    string? Source = null,
    string? SourceKind = null);

/// <summary>A marketing authorisation: by which regulator, its application number, since when, whether it stands, and who says so.</summary>
public sealed record Approval(
    string Regulator,
    string? ApplicationNumber,
    DateOnly? ApprovedOn,
    string Status,
    string? Source = null,
    string? SourceKind = null);

/// <summary>A published list price (US WAC, UK list price): amount, currency, the year it applies to, and who says so.</summary>
public sealed record ListPrice(
    decimal Amount,
    string Currency,
    int? Year,
    string? Source,
    string? SourceKind = null);

/// <summary>A package of the product: its NDC as labelled, the 11-digit (5-4-2) billing form, the label's description, and who says so.</summary>
public sealed record Package(
    string Ndc,
    string Ndc11,
    string? Description,
    string? Source,
    string? SourceKind)
{
    public static Package From(PackageInput input) =>
        new(input.Ndc, Ndc11Of(input.Ndc), input.Description, input.Source, input.SourceKind);

    /// <summary>The 5-4-2 form of a hyphenated 10-digit NDC (4-4-2, 5-3-2 or 5-4-1): the short segment gains a leading zero.</summary>
    public static string Ndc11Of(string ndc)
    {
        var parts = ndc.Split('-');
        return parts.Length == 3 ? $"{parts[0].PadLeft(5, '0')}-{parts[1].PadLeft(4, '0')}-{parts[2].PadLeft(2, '0')}" : ndc;
    }
}

/// <summary>
/// The body of a create or full replace, and the shape of a data file in db/data/therapies.
/// Members are declared as the contract requires them; the validator enforces it, so a missing
/// member is a 400 that names it rather than a deserialization error.
/// </summary>
public record TherapyInput(
    string Slug,
    string ProprietaryName,
    string ProperName,
    string Manufacturer,
    string Modality,
    string? CellSource,
    string? Delivery,
    string? Mechanism,
    string? Vector,
    string? VectorDetail,
    string? Target,
    string Route,
    Administration Administration,
    IReadOnlyList<OtherName>? OtherNames,
    IReadOnlyList<IndicationInput> Indications,
    IReadOnlyList<Approval> Approvals,
    ListPrice? ListPrice,
    IReadOnlyList<PackageInput>? Packages,
    IReadOnlyList<string>? Ndcs,
    string Status,
    IReadOnlyList<string> Sources);

public sealed record IndicationInput(
    string ConditionId,
    string? Population,
    string Regulator,
    DateOnly? ApprovedOn,
    string? Source = null,
    string? SourceKind = null);

/// <summary>A package in a write body. <c>ndc11</c> is derived from <c>ndc</c>; a body may send it back, and then it must agree.</summary>
public sealed record PackageInput(
    string Ndc,
    string? Ndc11 = null,
    string? Description = null,
    string? Source = null,
    string? SourceKind = null);
