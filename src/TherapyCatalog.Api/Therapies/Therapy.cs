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
    IReadOnlyList<Indication> Indications,
    IReadOnlyList<Approval> Approvals,
    ListPrice? ListPrice,
    IReadOnlyList<string> Ndcs,
    string Status,
    IReadOnlyList<string> Sources,
    int Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// The representation <paramref name="input"/> gives therapy <paramref name="id"/>. An indication's
    /// condition name and ICD-10 code come from the condition record it names (<paramref name="condition"/>).
    /// </summary>
    public static Therapy From(
        Guid id, TherapyInput input, Func<string, (string Name, string? Icd10)> condition, int version, DateTimeOffset createdAt,
        DateTimeOffset updatedAt) => new(
        id, input.Slug, input.ProprietaryName, input.ProperName, input.Manufacturer, input.Modality,
        input.CellSource, input.Delivery, input.Mechanism, input.Vector, input.VectorDetail, input.Target, input.Route,
        input.Administration,
        [.. input.Indications.Select(i =>
        {
            var (name, icd10) = condition(i.ConditionId);
            return new Indication(name, i.ConditionId, icd10, i.Population, i.Regulator, i.ApprovedOn);
        })],
        [.. input.Approvals], input.ListPrice, [.. input.Ndcs], input.Status, [.. input.Sources],
        version, createdAt, updatedAt);

    /// <summary>The writable members: what a client sends back to keep the therapy as it is.</summary>
    public TherapyInput ToInput() => new(
        Slug, ProprietaryName, ProperName, Manufacturer, Modality, CellSource, Delivery, Mechanism, Vector,
        VectorDetail, Target, Route, Administration,
        [.. Indications.Select(i => new IndicationInput(i.ConditionId, i.Population, i.Regulator, i.ApprovedOn))],
        Approvals, ListPrice, Ndcs, Status, Sources);
}

/// <summary>How the product reaches the patient, and the steps of the patient journey it needs.</summary>
public sealed record Administration(
    string? Summary,
    int? InfusionMinutes,
    bool RequiresLeukapheresis,
    bool RequiresLymphodepletion,
    bool Rems);

/// <summary>An approved use: the condition (from the condition records), for whom, by which regulator, since when.</summary>
public sealed record Indication(
    string Condition,
    string ConditionId,
    string? Icd10,
    string? Population,
    string Regulator,
    DateOnly? ApprovedOn);

public sealed record Approval(
    string Regulator,
    string? ApplicationNumber,
    DateOnly? ApprovedOn,
    string Status);

public sealed record ListPrice(
    decimal Amount,
    string Currency,
    int? Year,
    string? Source);

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
    IReadOnlyList<IndicationInput> Indications,
    IReadOnlyList<Approval> Approvals,
    ListPrice? ListPrice,
    IReadOnlyList<string> Ndcs,
    string Status,
    IReadOnlyList<string> Sources);

public sealed record IndicationInput(
    string ConditionId,
    string? Population,
    string Regulator,
    DateOnly? ApprovedOn);
