using System.Text.RegularExpressions;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// A kind of product, as the classification states it: a therapy is of this kind when it has one
/// of the listed values in every dimension that lists any (an empty list leaves a dimension open).
/// Targets are compared upper-case.
/// </summary>
public sealed record ProductKind(
    string[] Modalities, string[] Vectors, string[] Mechanisms, string[] CellSources, string[] Deliveries, string[] Targets);

/// <summary>
/// The platform, vector and modality words people search with (<c>q=CAR-T</c>, <c>q=AAV</c>,
/// <c>q=gene therapy</c>), each mapped to the classification values it means: the one place that
/// declares them. A phrase matches when <c>q</c> equals it once case, hyphens, slashes and spaces
/// are ignored (<c>CAR-T</c>, <c>car t</c>, <c>CAR T</c> are one phrase). Words that the
/// classification cannot express (<c>oncolytic</c>) are found in the products' vector details instead.
/// </summary>
public static partial class ProductKindTerms
{
    private static readonly string[] None = [];

    // The antigens of the approved CAR-T products (CD19, BCMA) and of those in late development, so a
    // new CAR-T needs no change here. A genetically modified cell that introduces a receptor for one
    // of them is a CAR-T; Tecelra (a MAGE-A4 T-cell receptor) and Encelto (CNTF) are not.
    private static readonly ProductKind CarT = new(["cell-based-gene"], None, ["introduce"], None, None,
        ["CD19", "BCMA", "CD20", "CD22", "CD7", "CD30", "GPRC5D"]);

    private static readonly ProductKind GeneTherapy = new(["gene", "cell-based-gene"], None, None, None, None, None);
    private static readonly ProductKind CellTherapy = new(["cell", "cell-based-gene"], None, None, None, None, None);
    private static readonly ProductKind GeneModifiedCells = new(["cell-based-gene"], None, None, None, None, None);

    private static ProductKind Vector(string vector) => new(None, [vector], None, None, None, None);

    private static readonly (string[] Phrases, ProductKind Kind)[] Declared =
    [
        (["car t", "cart", "car ts", "car t cell", "car t cells", "car t cell therapy", "car t cell therapies", "car t therapy",
          "car t therapies", "chimeric antigen receptor", "chimeric antigen receptor t cell", "chimeric antigen receptor t cells",
          "chimeric antigen receptor t cell therapy"], CarT),
        (["aav", "raav", "aav vector", "aav gene therapy", "adeno associated virus", "adeno associated viral vector",
          "adeno associated virus vector"], Vector("aav")),
        (["lentiviral", "lentivirus", "lentiviral vector", "lentiviral gene therapy"], Vector("lentiviral")),
        (["retroviral", "retrovirus", "retroviral vector", "gamma retroviral", "gammaretroviral", "gamma retrovirus",
          "gammaretrovirus", "gamma retroviral vector"], Vector("gamma-retroviral")),
        (["adenoviral", "adenovirus", "adenoviral vector"], Vector("adenoviral")),
        (["hsv", "hsv 1", "hsv1", "herpes simplex virus", "herpes simplex virus type 1", "hsv vector"], Vector("hsv-1")),
        (["plasmid", "plasmid dna", "naked dna"], Vector("plasmid")),
        (["crispr", "crispr cas9", "cas9", "crispr therapy", "crispr gene editing"], Vector("crispr-cas9")),
        (["gene editing", "gene edited", "genome editing", "gene editing therapy"], new(None, None, ["edit"], None, None, None)),
        (["gene therapy", "gene therapies", "gene therapy product", "gene therapy products"], GeneTherapy),
        (["in vivo gene therapy"], new(["gene"], None, None, None, ["in-vivo"], None)),
        (["ex vivo gene therapy"], new(["cell-based-gene"], None, None, None, ["ex-vivo"], None)),
        (["cell therapy", "cell therapies", "cellular therapy", "cellular therapies", "cell based therapy", "cell based therapies"],
         CellTherapy),
        (["gene modified cell therapy", "gene modified cell therapies", "genetically modified cell therapy", "gene modified cells",
          "genetically modified cells", "cell based gene therapy", "cell based gene therapies"], GeneModifiedCells),
        (["autologous", "autologous cell therapy"], new(None, None, None, ["autologous"], None, None)),
        (["allogeneic", "allogeneic cell therapy"], new(None, None, None, ["allogeneic"], None, None)),
    ];

    private static readonly Dictionary<string, ProductKind> ByPhrase =
        Declared.SelectMany(d => d.Phrases.Select(p => (p, d.Kind))).ToDictionary(x => x.p, x => x.Kind);

    /// <summary>Every declared phrase, as it is compared (for the docs and tests).</summary>
    public static IEnumerable<string> Phrases => ByPhrase.Keys;

    /// <summary>The kind of product a free text names, or null when it names none.</summary>
    public static ProductKind? Find(string text) => ByPhrase.GetValueOrDefault(Key(text));

    /// <summary>A phrase as compared: lower case, every run of other characters than letters and digits one space.</summary>
    public static string Key(string text) => Separators().Replace(text.ToLowerInvariant(), " ").Trim();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex Separators();
}
