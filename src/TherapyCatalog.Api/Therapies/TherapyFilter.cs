using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using FluentValidation;
using TherapyCatalog.Api.Conditions;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The filters of <c>GET /v1/therapies</c> and <c>GET /v1/facets</c>, as the query string gives them.
/// Repeating a filter means OR within it; different filters combine with AND.
/// </summary>
/// <param name="Condition">A condition as a person names it: name, synonym, abbreviation, lay term, misspelling, ICD-10 code or code prefix. Reaches the condition's subtypes.</param>
/// <param name="Q">Free text over therapy names, target and conditions.</param>
/// <param name="Modality">cell, gene, cell-based-gene</param>
/// <param name="CellSource">autologous, allogeneic</param>
/// <param name="Delivery">in-vivo, ex-vivo</param>
/// <param name="Mechanism">replace, inactivate, introduce, edit</param>
/// <param name="Vector">aav, lentiviral, gamma-retroviral, adenoviral, hsv-1, plasmid, crispr-cas9, other</param>
/// <param name="Target">Gene or antigen, case-insensitive exact (e.g. CD19).</param>
/// <param name="Route">Route of administration (e.g. intravenous).</param>
/// <param name="Manufacturer">Case-insensitive part of the license holder's name (e.g. kite).</param>
/// <param name="Regulator">FDA, EMA, MHRA, NMPA, PMDA, HEALTH-CANADA, TGA, SWISSMEDIC, MFDS: the therapy has an approval or an indication by it.</param>
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

/// <summary>A validated filter, normalised for SQL: vocabulary values in their stored spelling.</summary>
public sealed record TherapyFilter(
    ConditionQuery? Condition,
    ConditionQuery? Q,
    string[] Modalities,
    string[] CellSources,
    string[] Deliveries,
    string[] Mechanisms,
    string[] Vectors,
    string[] Targets,
    string[] Routes,
    string[] Manufacturers,
    string[] Regulators,
    DateOnly? ApprovedFrom,
    DateOnly? ApprovedTo,
    string[] Statuses)
{
    /// <summary>The texts the condition matcher runs: the condition filter, and free text (which also matches names).</summary>
    public IReadOnlyList<(string Source, ConditionQuery Query)> MatcherQueries =>
        [.. new (string Source, ConditionQuery? Query)[] { ("condition", Condition), ("q", Q) }
            .Where(s => s.Query is not null).Select(s => (s.Source, s.Query!))];

    /// <summary>True when results are matched to a query (and so carry <c>matchedConditions</c> and a relevance rank).</summary>
    public bool Matches => Condition is not null || Q is not null;

    /// <summary>Only call with a request the validator accepted.</summary>
    public static TherapyFilter From(TherapyFilterRequest r)
    {
        var status = r.Status?.ToLowerInvariant() ?? "active";
        return new TherapyFilter(
            ConditionMatcher.Normalize(r.Condition),
            ConditionMatcher.Normalize(r.Q),
            Spelled(r.Modality, TherapyVocabulary.Modalities),
            Spelled(r.CellSource, TherapyVocabulary.CellSources),
            Spelled(r.Delivery, TherapyVocabulary.Deliveries),
            Spelled(r.Mechanism, TherapyVocabulary.Mechanisms),
            Spelled(r.Vector, TherapyVocabulary.Vectors),
            [.. (r.Target ?? []).Select(t => TherapyFilterRequestValidator.Clean(t).ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)],
            Spelled(r.Route, TherapyVocabulary.Routes),
            [.. (r.Manufacturer ?? []).Select(m => TherapyFilterRequestValidator.Clean(m).ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)],
            Spelled(r.Regulator, TherapyVocabulary.Regulators),
            TherapyFilterRequestValidator.ParseDate(r.ApprovedFrom),
            TherapyFilterRequestValidator.ParseDate(r.ApprovedTo),
            status == "any" ? [] : [status]);
    }

    private static string[] Spelled(string[]? values, string[] vocabulary) =>
        [.. vocabulary.Where(v => (values ?? []).Contains(v, StringComparer.OrdinalIgnoreCase))];

    /// <summary>A digest of the filter: a page cursor carries it, so it cannot continue a different query.</summary>
    public string Fingerprint()
    {
        var canonical = string.Join('\u001e',
            Condition?.Text, Q?.Text, J(Modalities), J(CellSources), J(Deliveries), J(Mechanisms), J(Vectors), J(Targets),
            J(Routes), J(Manufacturers), J(Regulators), ApprovedFrom?.ToString("O", CultureInfo.InvariantCulture),
            ApprovedTo?.ToString("O", CultureInfo.InvariantCulture), J(Statuses));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)).AsSpan(0, 12));

        static string J(string[] values) => string.Join('\u001f', values);
    }
}

/// <summary>
/// The SQL of a filter, shared by the list and the facets: fixed fragments appended for the
/// filters present, every value bound as a parameter. The result set is <c>t</c> (therapies),
/// joined to <c>h</c> (<c>therapy_hit</c>: therapy_id, rank) when the filter matches a query; then
/// <c>condition_match</c> holds the <see cref="ConditionMatch"/>es, bound as arrays.
/// </summary>
public sealed record FilteredTherapies(string With, string From, string Rank, string Where, DynamicParameters Parameters)
{
    private const string NameHitCte = """
        name_hit AS (
            SELECT t.id AS therapy_id,
                   CASE WHEN lower(t.proprietary_name) = @Q OR lower(t.proper_name) = @Q OR lower(t.target) = @Q OR t.slug = @Q THEN 1
                        WHEN to_tsvector('simple'::regconfig, t.proprietary_name || ' ' || t.proper_name || ' ' || coalesce(t.target, ''))
                             @@ plainto_tsquery('simple'::regconfig, @Q) THEN 3
                        ELSE 5 END AS rank
            FROM therapies t
            WHERE t.deleted_at IS NULL
              AND (lower(t.proprietary_name) = @Q OR lower(t.proper_name) = @Q OR lower(t.target) = @Q OR t.slug = @Q
                   OR to_tsvector('simple'::regconfig, t.proprietary_name || ' ' || t.proper_name || ' ' || coalesce(t.target, ''))
                      @@ plainto_tsquery('simple'::regconfig, @Q)
                   OR lower(t.proprietary_name) % @Q OR lower(t.proper_name) % @Q)
        )
        """;

    private const string ConditionMatchCte = """
        condition_match (source, condition_id, rank, how, term, via) AS (
            SELECT m.source, m.condition_id, m.rank, m.how, m.term, m.via
            FROM unnest(@MatchSources::text[], @MatchConditionIds::text[], @MatchRanks::integer[],
                        @MatchHows::text[], @MatchTerms::text[], @MatchVias::text[])
                 AS m(source, condition_id, rank, how, term, via)
        )
        """;

    private const string ConditionHitCte = """
        condition_hit AS (
            SELECT m.source, i.therapy_id, min(m.rank) AS rank
            FROM condition_match m
            JOIN therapy_indications i ON i.condition_id = m.condition_id
            GROUP BY m.source, i.therapy_id
        )
        """;

    private const string ConditionFilterHitCte = """
        condition_filter_hit AS (
            SELECT therapy_id, rank FROM condition_hit WHERE source = 'condition'
        )
        """;

    private const string QHitCte = """
        q_hit AS (
            SELECT x.therapy_id, min(x.rank) AS rank
            FROM (SELECT therapy_id, rank FROM condition_hit WHERE source = 'q'
                  UNION ALL
                  SELECT therapy_id, rank FROM name_hit) AS x
            GROUP BY x.therapy_id
        )
        """;

    private const string ConditionOnlyHitCte = "therapy_hit AS (SELECT therapy_id, rank FROM condition_filter_hit)";
    private const string QOnlyHitCte = "therapy_hit AS (SELECT therapy_id, rank FROM q_hit)";

    // With both, a therapy must match both; the condition's match ranks it.
    private const string BothHitCte = """
        therapy_hit AS (
            SELECT c.therapy_id, c.rank
            FROM condition_filter_hit c
            WHERE EXISTS (SELECT 1 FROM q_hit q WHERE q.therapy_id = c.therapy_id)
        )
        """;

    private const string HitFrom = "therapy_hit h\nJOIN therapies t ON t.id = h.therapy_id";
    private const string PlainFrom = "therapies t";

    private const string Live = "t.deleted_at IS NULL";
    private const string StatusFragment = "\n  AND t.status = ANY(@Statuses)";
    private const string ModalityFragment = "\n  AND t.modality = ANY(@Modalities)";
    private const string CellSourceFragment = "\n  AND t.cell_source = ANY(@CellSources)";
    private const string DeliveryFragment = "\n  AND t.delivery = ANY(@Deliveries)";
    private const string MechanismFragment = "\n  AND t.mechanism = ANY(@Mechanisms)";
    private const string VectorFragment = "\n  AND t.vector = ANY(@Vectors)";
    private const string TargetFragment = "\n  AND lower(t.target) = ANY(@Targets)";
    private const string RouteFragment = "\n  AND t.route = ANY(@Routes)";
    // One ILIKE per value (not ILIKE ANY), so the trigram index can serve each.
    private const string ManufacturerOpen = "\n  AND (";
    private const string ManufacturerTerm = "t.manufacturer ILIKE @Manufacturer";
    private const string ManufacturerOr = " OR ";
    private const char ManufacturerClose = ')';

    // An approval or an indication by one of them: the therapy's own set of those regulators
    // (therapies.regulators, kept by triggers on both child tables), not a lookup into each.
    private const string RegulatorFragment = "\n  AND t.regulators && @Regulators::text[]";

    private const string ApprovedFragment = """

          AND EXISTS (SELECT 1 FROM therapy_approvals a
                      WHERE a.therapy_id = t.id
                        AND a.approved_on >= coalesce(@ApprovedFrom::date, '-infinity'::date)
                        AND a.approved_on <= coalesce(@ApprovedTo::date, 'infinity'::date))
        """;

    public static FilteredTherapies For(TherapyFilter filter, IReadOnlyList<ConditionMatch> matches)
    {
        var parameters = new DynamicParameters();
        var with = "";
        var from = PlainFrom;
        var rank = "0::integer"; // a cast, not a bare 0: ORDER BY 0 would name a column position
        if (filter.Matches)
        {
            if (filter.Q is { } q)
            {
                parameters.Add("Q", q.Text);
            }

            parameters.Add("MatchSources", matches.Select(m => m.Source).ToArray());
            parameters.Add("MatchConditionIds", matches.Select(m => m.ConditionId).ToArray());
            parameters.Add("MatchRanks", matches.Select(m => m.Rank).ToArray());
            parameters.Add("MatchHows", matches.Select(m => m.How).ToArray());
            parameters.Add("MatchTerms", matches.Select(m => m.Term).ToArray());
            parameters.Add("MatchVias", matches.Select(m => m.Via).ToArray());

            var ctes = new List<string> { ConditionMatchCte, ConditionHitCte };
            if (filter.Condition is not null)
            {
                ctes.Add(ConditionFilterHitCte);
            }

            if (filter.Q is not null)
            {
                ctes.Add(NameHitCte);
                ctes.Add(QHitCte);
            }

            ctes.Add(filter switch
            {
                { Condition: not null, Q: not null } => BothHitCte,
                { Condition: not null } => ConditionOnlyHitCte,
                _ => QOnlyHitCte,
            });
            with = "WITH\n" + string.Join(",\n", ctes) + "\n";
            from = HitFrom;
            rank = "h.rank";
        }

        var where = new StringBuilder(Live);
        Add(filter.Statuses, StatusFragment, "Statuses");
        Add(filter.Modalities, ModalityFragment, "Modalities");
        Add(filter.CellSources, CellSourceFragment, "CellSources");
        Add(filter.Deliveries, DeliveryFragment, "Deliveries");
        Add(filter.Mechanisms, MechanismFragment, "Mechanisms");
        Add(filter.Vectors, VectorFragment, "Vectors");
        Add(filter.Targets, TargetFragment, "Targets");
        Add(filter.Routes, RouteFragment, "Routes");
        if (filter.Manufacturers.Length > 0)
        {
            where.Append(ManufacturerOpen);
            for (var i = 0; i < filter.Manufacturers.Length; i++)
            {
                var name = "Manufacturer" + i.ToString(CultureInfo.InvariantCulture);
                where.Append(i == 0 ? "" : ManufacturerOr).Append(ManufacturerTerm).Append(i.ToString(CultureInfo.InvariantCulture));
                parameters.Add(name, "%" + EscapeLike(filter.Manufacturers[i]) + "%");
            }

            where.Append(ManufacturerClose);
        }

        Add(filter.Regulators, RegulatorFragment, "Regulators");
        if (filter.ApprovedFrom is not null || filter.ApprovedTo is not null)
        {
            where.Append(ApprovedFragment);
            parameters.Add("ApprovedFrom", filter.ApprovedFrom?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            parameters.Add("ApprovedTo", filter.ApprovedTo?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        return new FilteredTherapies(with, from, rank, where.ToString(), parameters);

        void Add(string[] values, string fragment, string name)
        {
            if (values.Length > 0)
            {
                where.Append(fragment);
                parameters.Add(name, values);
            }
        }
    }

    /// <summary>A LIKE pattern matches the value literally: its wildcards and escape character are escaped.</summary>
    public static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
