using System.Globalization;
using System.Text;
using Dapper;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The SQL of a filter, shared by the list and the facets: fixed fragments appended for the
/// filters present, every value bound as a parameter. The result set is <c>t</c> (therapies),
/// joined to <c>h</c> (<c>therapy_hit</c>: therapy_id, rank) when the filter matches a query; then
/// <c>condition_match</c> holds the <see cref="ConditionMatch"/>es, bound as arrays. <c>With</c> is
/// what goes in front of the query: its settings (<c>SET LOCAL</c>) and its <c>WITH</c> list.
/// </summary>
public sealed record FilteredTherapies(string With, string From, string Rank, string Where, DynamicParameters Parameters)
{
    // Free text over a therapy's own words: its names, target, manufacturer and vector detail
    // ("novartis", "kite", "oncolytic"), and its other names (regional brands, code names).
    // An exact name, brand, slug or target ranks 1, a word 3, a close name 5 (not when q is a declared
    // kind of product: "CAR T cell therapy" is no misspelt "UM171 Cell Therapy").
    private const string FreeText = "to_tsvector('simple'::regconfig, t.proprietary_name || ' ' || t.proper_name || ' ' || coalesce(t.target, '') || ' ' || t.manufacturer || ' ' || coalesce(t.vector_detail, ''))";

    private const string NameHitCte = $$"""
        name_hit AS (
            SELECT t.id AS therapy_id,
                   CASE WHEN lower(t.proprietary_name) = @Q OR lower(t.proper_name) = @Q OR lower(t.target) = @Q OR t.slug = @Q THEN 1
                        WHEN {{FreeText}} @@ plainto_tsquery('simple'::regconfig, @Q) THEN 3
                        ELSE 5 END AS rank
            FROM therapies t
            WHERE t.deleted_at IS NULL
              AND (lower(t.proprietary_name) = @Q OR lower(t.proper_name) = @Q OR lower(t.target) = @Q OR t.slug = @Q
                   OR {{FreeText}} @@ plainto_tsquery('simple'::regconfig, @Q)
                   OR (@QCloseNames AND (lower(t.proprietary_name) % @Q OR lower(t.proper_name) % @Q)))
            UNION ALL
            SELECT o.therapy_id,
                   CASE WHEN lower(o.name) = @Q THEN 1
                        WHEN to_tsvector('simple'::regconfig, o.name) @@ plainto_tsquery('simple'::regconfig, @Q) THEN 3
                        ELSE 5 END
            FROM therapy_other_names o
            WHERE lower(o.name) = @Q
               OR to_tsvector('simple'::regconfig, o.name) @@ plainto_tsquery('simple'::regconfig, @Q)
               OR (@QCloseNames AND lower(o.name) % @Q)
        )
        """;

    // In front of a query with free text, for the rest of the transaction: how similar (trigrams) a
    // name must be to q to be a close name (%). Set by the query itself: the match in front of it
    // may have been kept from an earlier request, and the default (0.3) let "tisagenlecleucel"
    // find tabelecleucel.
    private const string CloseNameThresholdSql = "SET LOCAL pg_trgm.similarity_threshold = 0.45;\n";

    // Free text that names a kind of product (ProductKindTerms: "CAR-T", "AAV", "gene therapy"): rank 2,
    // after an exact name. An empty list leaves its dimension open.
    private const string KindHitCte = """
        kind_hit AS (
            SELECT t.id AS therapy_id, 2 AS rank
            FROM therapies t
            WHERE t.deleted_at IS NULL
              AND (cardinality(@KindModalities::text[]) = 0 OR t.modality = ANY(@KindModalities::text[]))
              AND (cardinality(@KindVectors::text[]) = 0 OR t.vector = ANY(@KindVectors::text[]))
              AND (cardinality(@KindMechanisms::text[]) = 0 OR t.mechanism = ANY(@KindMechanisms::text[]))
              AND (cardinality(@KindCellSources::text[]) = 0 OR t.cell_source = ANY(@KindCellSources::text[]))
              AND (cardinality(@KindDeliveries::text[]) = 0 OR t.delivery = ANY(@KindDeliveries::text[]))
              AND (cardinality(@KindTargets::text[]) = 0 OR upper(t.target) = ANY(@KindTargets::text[]))
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
                  SELECT therapy_id, rank FROM name_hit{kind}) AS x
            GROUP BY x.therapy_id
        )
        """;

    private const string KindHitUnion = "\n                  UNION ALL\n                  SELECT therapy_id, rank FROM kind_hit";

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

            if (filter.Q is { } text)
            {
                ctes.Add(NameHitCte);
                var kind = ProductKindTerms.Find(text.Text);
                parameters.Add("QCloseNames", kind is null);
                if (kind is not null)
                {
                    ctes.Add(KindHitCte);
                    parameters.Add("KindModalities", kind.Modalities);
                    parameters.Add("KindVectors", kind.Vectors);
                    parameters.Add("KindMechanisms", kind.Mechanisms);
                    parameters.Add("KindCellSources", kind.CellSources);
                    parameters.Add("KindDeliveries", kind.Deliveries);
                    parameters.Add("KindTargets", kind.Targets);
                }

                ctes.Add(QHitCte.Replace("{kind}", kind is null ? "" : KindHitUnion, StringComparison.Ordinal));
            }

            ctes.Add(filter switch
            {
                { Condition: not null, Q: not null } => BothHitCte,
                { Condition: not null } => ConditionOnlyHitCte,
                _ => QOnlyHitCte,
            });
            with = (filter.Q is null ? "" : CloseNameThresholdSql) + "WITH\n" + string.Join(",\n", ctes) + "\n";
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
                parameters.Add(name, "%" + CatalogDatabase.EscapeLike(filter.Manufacturers[i]) + "%");
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
}
