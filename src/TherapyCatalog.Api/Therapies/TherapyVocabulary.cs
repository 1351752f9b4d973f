namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The closed vocabularies of the therapy resource (API.md). The database's CHECK constraints
/// hold the same lists, so neither the API nor a hand-written SQL statement can store another value.
/// </summary>
public static class TherapyVocabulary
{
    public static readonly string[] Modalities = ["cell", "gene", "cell-based-gene"];
    public static readonly string[] CellSources = ["autologous", "allogeneic"];
    public static readonly string[] Deliveries = ["in-vivo", "ex-vivo"];
    public static readonly string[] Mechanisms = ["replace", "inactivate", "introduce", "edit"];
    public static readonly string[] Vectors = ["aav", "lentiviral", "gamma-retroviral", "adenoviral", "hsv-1", "plasmid", "crispr-cas9", "other"];
    public static readonly string[] Routes =
    [
        "intravenous", "subretinal", "intravitreal", "intralesional", "intradermal", "intravesical", "intrathecal",
        "intraputaminal", "intraportal", "topical", "oral-mucosal", "implantation", "other",
    ];
    public static readonly string[] Statuses = ["active", "withdrawn"];
    public static readonly string[] ApprovalStatuses = ["approved", "withdrawn", "suspended"];
    public static readonly string[] Regulators =
    [
        "FDA", "EMA", "MHRA", "NMPA", "PMDA", "MFDS", "CDSCO", "HEALTH-CANADA", "TGA", "SWISSMEDIC", "MINZDRAV", "MOH-UKRAINE",
    ];

    /// <summary>What kind of document a fact's source is: the regulator's own, the label, the company's, or a press report of the decision.</summary>
    public static readonly string[] SourceKinds = ["regulator", "label", "company", "press"];
    public static readonly string[] OtherNameKinds = ["brand", "former-brand", "code", "nonproprietary"];

    // Anchored patterns, as the CHECK constraints and the OpenAPI document write them (see TextPattern).
    public const string SlugPattern = "^[a-z0-9]+(-[a-z0-9]+)*$";
    public const string NdcPattern = "^[0-9]{4,5}-[0-9]{3,4}-[0-9]{1,2}$";
    public const string CurrencyPattern = "^[A-Z]{3}$";

    /// <summary>A source URL as the database stores it: a literal lower-case <c>http://</c> or <c>https://</c>, then no white space.</summary>
    public const string SourceUrlPattern = @"^https?://[^\s]+$";

    /// <summary>The largest list price <c>numeric(14, 2)</c> holds; amounts have at most two decimal places.</summary>
    public const decimal MaxListPrice = 999_999_999_999.99m;
}
