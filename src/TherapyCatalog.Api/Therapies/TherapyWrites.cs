using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>Raised when an indication names a condition the catalog does not have.</summary>
public sealed class UnknownConditionsException(IReadOnlyList<string> conditionIds)
    : Exception($"Unknown condition ids: {string.Join(", ", conditionIds)}")
{
    public IReadOnlyList<string> ConditionIds { get; } = conditionIds;
}

/// <summary>
/// The one write path for therapies. Every write stores, in the caller's transaction, the
/// queryable rows, the new version's document with what changed and who changed it, and the
/// change-log row the sync feed reads.
/// </summary>
public static class TherapyWrites
{
    // Two statements, on purpose: the lock waits for concurrent writers, and only a statement started
    // after it (READ COMMITTED takes a new snapshot per statement) sees the version they committed.
    // Joined into one, a waiting lock would re-check the join against the old version row and find nothing.
    private const string LockSql = "SELECT deleted_at IS NOT NULL FROM therapies WHERE id = @Id FOR UPDATE";

    private const string CurrentDocumentSql = """
        SELECT v.document::text
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.id = @Id
        """;

    private const string ConditionsSql = """
        SELECT id AS Id, name AS Name, icd10 AS Icd10
        FROM conditions
        WHERE id = ANY(@Ids)
        """;

    private const string UpsertSql = """
        INSERT INTO therapies (
            id, slug, proprietary_name, proper_name, manufacturer, modality, cell_source, delivery,
            mechanism, vector, vector_detail, target, route, administration_summary, infusion_minutes,
            requires_leukapheresis, requires_lymphodepletion, rems, list_price_amount, list_price_currency,
            list_price_year, list_price_source, list_price_source_kind, status, version, created_at, updated_at, deleted_at)
        VALUES (
            @Id, @Slug, @ProprietaryName, @ProperName, @Manufacturer, @Modality, @CellSource, @Delivery,
            @Mechanism, @Vector, @VectorDetail, @Target, @Route, @AdministrationSummary, @InfusionMinutes,
            @RequiresLeukapheresis, @RequiresLymphodepletion, @Rems, @ListPriceAmount, @ListPriceCurrency,
            @ListPriceYear, @ListPriceSource, @ListPriceSourceKind, @Status, @Version, @CreatedAt, @UpdatedAt, @DeletedAt)
        ON CONFLICT (id) DO UPDATE SET
            slug = excluded.slug, proprietary_name = excluded.proprietary_name, proper_name = excluded.proper_name,
            manufacturer = excluded.manufacturer, modality = excluded.modality, cell_source = excluded.cell_source,
            delivery = excluded.delivery, mechanism = excluded.mechanism, vector = excluded.vector,
            vector_detail = excluded.vector_detail, target = excluded.target, route = excluded.route,
            administration_summary = excluded.administration_summary, infusion_minutes = excluded.infusion_minutes,
            requires_leukapheresis = excluded.requires_leukapheresis,
            requires_lymphodepletion = excluded.requires_lymphodepletion, rems = excluded.rems,
            list_price_amount = excluded.list_price_amount, list_price_currency = excluded.list_price_currency,
            list_price_year = excluded.list_price_year, list_price_source = excluded.list_price_source,
            list_price_source_kind = excluded.list_price_source_kind,
            status = excluded.status, version = excluded.version, updated_at = excluded.updated_at,
            deleted_at = excluded.deleted_at;

        DELETE FROM therapy_indications WHERE therapy_id = @Id;
        INSERT INTO therapy_indications (therapy_id, ordinal, condition_id, population, regulator, approved_on, source, source_kind)
        SELECT @Id, i.ordinal, i.condition_id, i.population, i.regulator, i.approved_on, i.source, i.source_kind
        FROM unnest(@IndicationConditionIds, @IndicationPopulations, @IndicationRegulators, @IndicationApprovedOns,
                    @IndicationSources, @IndicationSourceKinds)
             WITH ORDINALITY AS i(condition_id, population, regulator, approved_on, source, source_kind, ordinal);

        DELETE FROM therapy_approvals WHERE therapy_id = @Id;
        INSERT INTO therapy_approvals (therapy_id, ordinal, regulator, application_number, approved_on, status, source, source_kind)
        SELECT @Id, a.ordinal, a.regulator, a.application_number, a.approved_on, a.status, a.source, a.source_kind
        FROM unnest(@ApprovalRegulators, @ApprovalApplicationNumbers, @ApprovalApprovedOns, @ApprovalStatuses,
                    @ApprovalSources, @ApprovalSourceKinds)
             WITH ORDINALITY AS a(regulator, application_number, approved_on, status, source, source_kind, ordinal);

        DELETE FROM therapy_ndcs WHERE therapy_id = @Id;
        INSERT INTO therapy_ndcs (therapy_id, ordinal, ndc, ndc11, description, source, source_kind)
        SELECT @Id, n.ordinal, n.ndc, n.ndc11, n.description, n.source, n.source_kind
        FROM unnest(@PackageNdcs, @PackageNdc11s, @PackageDescriptions, @PackageSources, @PackageSourceKinds)
             WITH ORDINALITY AS n(ndc, ndc11, description, source, source_kind, ordinal);

        DELETE FROM therapy_other_names WHERE therapy_id = @Id;
        INSERT INTO therapy_other_names (therapy_id, ordinal, name, kind, regulator)
        SELECT @Id, o.ordinal, o.name, o.kind, o.regulator
        FROM unnest(@OtherNameNames, @OtherNameKinds, @OtherNameRegulators) WITH ORDINALITY AS o(name, kind, regulator, ordinal);

        DELETE FROM therapy_sources WHERE therapy_id = @Id;
        INSERT INTO therapy_sources (therapy_id, ordinal, url)
        SELECT @Id, s.ordinal, s.url FROM unnest(@Sources) WITH ORDINALITY AS s(url, ordinal);

        INSERT INTO therapy_versions (therapy_id, version, kind, document, changed_members, changed_by, api_key_id, changed_at)
        VALUES (@Id, @Version, @Kind, @Document::json, @ChangedMembers, @ChangedBy, @ApiKeyId, @UpdatedAt);

        INSERT INTO changes (therapy_id, version) VALUES (@Id, @Version);
        """;

    /// <summary>The current representation of a therapy, locked for the rest of the transaction; null if there is none.</summary>
    public static async Task<(Therapy Therapy, bool Deleted)?> LoadForUpdateAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Guid id, CancellationToken ct)
    {
        var deleted = await db.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(LockSql, new { Id = id }, tx, cancellationToken: ct));
        if (deleted is null)
        {
            return null;
        }

        var document = await db.QuerySingleAsync<string>(new CommandDefinition(CurrentDocumentSql, new { Id = id }, tx, cancellationToken: ct));
        return (JsonSerializer.Deserialize<Therapy>(document, CatalogJson.Options)!, deleted.Value);
    }

    /// <summary>
    /// The representation <paramref name="input"/> gives therapy <paramref name="id"/> as its next
    /// version after <paramref name="current"/>. Condition names and codes are copied from the
    /// condition records.
    /// </summary>
    public static async Task<Therapy> BuildAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Guid id, TherapyInput input, Therapy? current, DateTimeOffset now, CancellationToken ct)
    {
        var ids = input.Indications.Select(i => i.ConditionId).Distinct().ToArray();
        var conditions = (await db.QueryAsync<ConditionRef>(new CommandDefinition(ConditionsSql, new { Ids = ids }, tx, cancellationToken: ct)))
            .ToDictionary(c => c.Id);
        var unknown = ids.Where(c => !conditions.ContainsKey(c)).ToArray();
        if (unknown.Length > 0)
        {
            throw new UnknownConditionsException(unknown);
        }

        return Therapy.From(
            id, input, c => (conditions[c].Name, conditions[c].Icd10), current,
            version: (current?.Version ?? 0) + 1, createdAt: current?.CreatedAt ?? now, updatedAt: now);
    }

    /// <summary>The members whose value differs between two versions (bookkeeping members aside).</summary>
    public static string[] ChangedMembers(Therapy? before, Therapy after)
    {
        var next = JsonSerializer.SerializeToNode(after, CatalogJson.Options)!.AsObject();
        var previous = before is null ? null : JsonSerializer.SerializeToNode(before, CatalogJson.Options)!.AsObject();
        string[] bookkeeping = ["version", "createdAt", "updatedAt"];
        return [.. next
            .Where(member => !bookkeeping.Contains(member.Key))
            .Where(member => previous is null || !JsonNode.DeepEquals(member.Value, previous[member.Key]))
            .Select(member => member.Key)];
    }

    /// <summary>Stores <paramref name="therapy"/> as its new version, with its history and change-log rows.</summary>
    public static async Task WriteAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Therapy therapy, string kind, IReadOnlyList<string> changedMembers,
        Actor actor, CancellationToken ct)
    {
        var parameters = new
        {
            therapy.Id, therapy.Slug, therapy.ProprietaryName, therapy.ProperName, therapy.Manufacturer, therapy.Modality,
            therapy.CellSource, therapy.Delivery, therapy.Mechanism, therapy.Vector, therapy.VectorDetail, therapy.Target,
            therapy.Route,
            AdministrationSummary = therapy.Administration.Summary,
            therapy.Administration.InfusionMinutes,
            therapy.Administration.RequiresLeukapheresis,
            therapy.Administration.RequiresLymphodepletion,
            therapy.Administration.Rems,
            ListPriceAmount = therapy.ListPrice?.Amount,
            ListPriceCurrency = therapy.ListPrice?.Currency,
            ListPriceYear = therapy.ListPrice?.Year,
            ListPriceSource = therapy.ListPrice?.Source,
            ListPriceSourceKind = therapy.ListPrice?.SourceKind,
            therapy.Status,
            therapy.Version,
            therapy.CreatedAt,
            therapy.UpdatedAt,
            DeletedAt = kind == "delete" ? therapy.UpdatedAt : (DateTimeOffset?)null,
            IndicationConditionIds = therapy.Indications.Select(i => i.ConditionId).ToArray(),
            IndicationPopulations = therapy.Indications.Select(i => i.Population).ToArray(),
            IndicationRegulators = therapy.Indications.Select(i => i.Regulator).ToArray(),
            IndicationApprovedOns = therapy.Indications.Select(i => i.ApprovedOn).ToArray(),
            IndicationSources = therapy.Indications.Select(i => i.Source).ToArray(),
            IndicationSourceKinds = therapy.Indications.Select(i => i.SourceKind).ToArray(),
            ApprovalRegulators = therapy.Approvals.Select(a => a.Regulator).ToArray(),
            ApprovalApplicationNumbers = therapy.Approvals.Select(a => a.ApplicationNumber).ToArray(),
            ApprovalApprovedOns = therapy.Approvals.Select(a => a.ApprovedOn).ToArray(),
            ApprovalStatuses = therapy.Approvals.Select(a => a.Status).ToArray(),
            ApprovalSources = therapy.Approvals.Select(a => a.Source).ToArray(),
            ApprovalSourceKinds = therapy.Approvals.Select(a => a.SourceKind).ToArray(),
            PackageNdcs = therapy.Packages.Select(p => p.Ndc).ToArray(),
            PackageNdc11s = therapy.Packages.Select(p => p.Ndc11).ToArray(),
            PackageDescriptions = therapy.Packages.Select(p => p.Description).ToArray(),
            PackageSources = therapy.Packages.Select(p => p.Source).ToArray(),
            PackageSourceKinds = therapy.Packages.Select(p => p.SourceKind).ToArray(),
            OtherNameNames = therapy.OtherNames.Select(o => o.Name).ToArray(),
            OtherNameKinds = therapy.OtherNames.Select(o => o.Kind).ToArray(),
            OtherNameRegulators = therapy.OtherNames.Select(o => o.Regulator).ToArray(),
            Sources = therapy.Sources.ToArray(),
            Kind = kind,
            Document = JsonSerializer.Serialize(therapy, CatalogJson.Options),
            ChangedMembers = changedMembers.ToArray(),
            ChangedBy = actor.Name,
            actor.ApiKeyId,
        };
        await db.ExecuteAsync(new CommandDefinition(UpsertSql, parameters, tx, cancellationToken: ct));
    }

    /// <summary>A timestamp at PostgreSQL's precision, so the stored document and the row agree.</summary>
    public static DateTimeOffset Now(TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        return now.AddTicks(-(now.Ticks % 10));
    }

    private sealed record ConditionRef(string Id, string Name, string? Icd10);
}
