using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// "What is approved for this condition?", against the seeded catalog. Each row names the conditions a
/// text means (read off db/data/conditions/*.json: names, synonyms, ICD-10 codes); the answer must be
/// the active products indicated for them or a subtype (CatalogFiles, from the data files), hold the
/// products the labels name, and none the labels rule out. Withdrawn products (Alofisel, Beqvez,
/// ChondroCelect, Glybera) are left out: the list shows active ones by default.
/// </summary>
public class SearchConditionQueryTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // Products per condition, from the therapy files' indications.
    private static readonly string[] AcuteLymphoblasticLeukemia = ["aucatzyl", "kymriah", "tecartus"];
    private static readonly string[] ChronicLymphocyticLeukemia = ["breyanzi"];
    private static readonly string[] LargeBCellLymphoma = ["breyanzi", "kymriah", "yescarta"];
    private static readonly string[] FollicularLymphoma = ["breyanzi", "kymriah", "yescarta"];
    private static readonly string[] MantleCellLymphoma = ["breyanzi", "tecartus"];
    private static readonly string[] MarginalZoneLymphoma = ["breyanzi"];
    private static readonly string[] Ptld = ["ebvallo"];
    private static readonly string[] MultipleMyeloma = ["abecma", "carvykti"];
    private static readonly string[] Melanoma = ["amtagvi", "imlygic"];
    private static readonly string[] Mcrpc = ["provenge"];
    private static readonly string[] Nmibc = ["adstiladrin"];
    private static readonly string[] HeadAndNeck = ["gendicine"];
    private static readonly string[] Nasopharyngeal = ["oncorine"];
    private static readonly string[] SynovialSarcoma = ["tecelra"];
    private static readonly string[] AcuteGvhd = ["ryoncil"];
    private static readonly string[] BloodCancerItself = ["omisirge"];

    private static readonly string[] CordBlood =
    [
        "allocord", "clevecord", "ducord", "hemacord", "hpc-cord-blood-bloodworks", "hpc-cord-blood-clinimmune",
        "hpc-cord-blood-lifesouth", "hpc-cord-blood-md-anderson", "regenecyte",
    ];

    // genetic.json and tissue.json
    private static readonly string[] SpinalMuscularAtrophy = ["zolgensma"];
    private static readonly string[] Duchenne = ["elevidys"];
    private static readonly string[] Rpe65RetinalDystrophy = ["luxturna"];
    private static readonly string[] MacTel = ["encelto"];
    private static readonly string[] LimbalStemCellDeficiency = ["holoclar"];
    private static readonly string[] BetaThalassemia = ["casgevy", "zynteglo"];
    private static readonly string[] SickleCell = ["casgevy", "lyfgenia"];
    private static readonly string[] HemophiliaA = ["roctavian"];
    private static readonly string[] HemophiliaB = ["hemgenix"]; // and Beqvez, withdrawn
    private static readonly string[] CerebralAld = ["skysona"];
    private static readonly string[] Mld = ["libmeldy"];
    private static readonly string[] DystrophicEb = ["vyjuvek"];
    private static readonly string[] RecessiveDystrophicEb = ["zevaskyn"];
    private static readonly string[] AdaScid = ["strimvelis"];
    private static readonly string[] Athymia = ["rethymic"];
    private static readonly string[] Type1Diabetes = ["lantidra"];
    private static readonly string[] KneeCartilage = ["maci", "spherox"]; // and ChondroCelect, withdrawn
    private static readonly string[] Burns = ["stratagraft"];

    // Broader conditions: the union of their descendants (the files' parent links).
    private static readonly string[] Leukemia = [.. AcuteLymphoblasticLeukemia, .. ChronicLymphocyticLeukemia];
    private static readonly string[] NonHodgkin = [.. LargeBCellLymphoma, .. FollicularLymphoma, .. MantleCellLymphoma, .. MarginalZoneLymphoma];
    private static readonly string[] BloodCancer = [.. BloodCancerItself, .. Leukemia, .. NonHodgkin, .. Ptld, .. MultipleMyeloma];
    private static readonly string[] EyeDisease = [.. Rpe65RetinalDystrophy, .. MacTel, .. LimbalStemCellDeficiency];
    private static readonly string[] InheritedBloodDisorder = [.. BetaThalassemia, .. SickleCell, .. HemophiliaA, .. HemophiliaB];
    private static readonly string[] Hemophilia = [.. HemophiliaA, .. HemophiliaB];
    private static readonly string[] Leukodystrophy = [.. CerebralAld, .. Mld];
    private static readonly string[] EpidermolysisBullosa = [.. DystrophicEb, .. RecessiveDystrophicEb];
    private static readonly string[] Cancer =
    [
        .. BloodCancer, .. Melanoma, .. Mcrpc, .. Nmibc, .. HeadAndNeck, .. Nasopharyngeal, .. SynovialSarcoma,
    ];

    // Products of the products the data issue adds (Itvisma, Kresladi, Waskyra, ...), and others, named
    // where a label rules them out: a forbidden slug need not be in the catalog yet.
    private static readonly string[] AllAndCllProducts = ["aucatzyl", "kymriah", "tecartus", "breyanzi"];
    private static readonly string[] OtherImmunodeficiencyProducts = ["strimvelis", "rethymic", "waskyra"];
    private static readonly string[] None = [];

    /// <summary>
    /// (kind, typed condition, the conditions it means, products expected from the labels, products the labels rule out).
    /// The answer must be exactly the active products indicated for the meant conditions or a subtype of them,
    /// computed from the data files (so more products do not break a row), must hold every expected one,
    /// and none that is ruled out.
    /// </summary>
    public static TheoryData<string, string, string[], string[], string[]> Queries => new()
    {
        // exact names, any case
        { "exact name", "Large B-cell lymphoma", ["large-b-cell-lymphoma"], LargeBCellLymphoma, None },
        { "exact name, lower case", "multiple myeloma", ["multiple-myeloma"], MultipleMyeloma, None },
        { "exact name", "Synovial sarcoma", ["synovial-sarcoma"], SynovialSarcoma, None },
        { "exact name", "Acute graft-versus-host disease", ["acute-graft-versus-host-disease"], AcuteGvhd, None },
        // abbreviations
        { "abbreviation", "DLBCL", ["large-b-cell-lymphoma"], LargeBCellLymphoma, None },
        { "abbreviation, lower case", "dlbcl", ["large-b-cell-lymphoma"], LargeBCellLymphoma, None },
        { "abbreviation", "ALL", ["b-cell-acute-lymphoblastic-leukemia"], AcuteLymphoblasticLeukemia, ["breyanzi"] },
        { "abbreviation", "CLL", ["chronic-lymphocytic-leukemia"], ChronicLymphocyticLeukemia, ["aucatzyl", "kymriah", "tecartus"] },
        { "abbreviation", "MM", ["multiple-myeloma"], MultipleMyeloma, None },
        { "abbreviation", "mCRPC", ["metastatic-castration-resistant-prostate-cancer"], Mcrpc, None },
        { "abbreviation", "NMIBC", ["non-muscle-invasive-bladder-cancer"], Nmibc, None },
        { "abbreviation", "NPC", ["nasopharyngeal-carcinoma"], Nasopharyngeal, None },
        { "abbreviation", "PTLD", ["post-transplant-lymphoproliferative-disorder"], Ptld, None },
        { "abbreviation", "MCL", ["mantle-cell-lymphoma"], MantleCellLymphoma, None },
        // synonyms and lay terms
        { "synonym", "myeloma", ["multiple-myeloma"], MultipleMyeloma, None },
        { "lay term", "bone marrow cancer", ["multiple-myeloma"], MultipleMyeloma, None },
        { "lay term", "skin cancer", ["melanoma"], Melanoma, None },
        { "lay term", "blood cancer", ["blood-cancer"], BloodCancer, None },
        // "blood disorders" is a synonym of two roots: the hematopoietic disorders and the inherited blood disorders.
        { "lay term", "blood disorders", ["hematopoietic-system-disorders", "blood-disorder"], [.. CordBlood, .. InheritedBloodDisorder], None },
        { "British spelling", "leukaemia", ["leukemia"], Leukemia, None },
        { "words of a longer name", "mantle cell", ["mantle-cell-lymphoma"], MantleCellLymphoma, None },
        // misspellings
        { "misspelling", "lymphona", ["lymphoma"], NonHodgkin, None },
        { "misspelling", "lukemia", ["leukemia"], Leukemia, None },
        { "misspelling", "melanomma", ["melanoma"], Melanoma, None },
        { "misspelling", "folicular lymphoma", ["follicular-lymphoma"], FollicularLymphoma, None },
        { "misspelling", "myelomma", ["multiple-myeloma"], MultipleMyeloma, None },
        // ICD-10 codes and prefixes
        { "ICD-10 code", "C83.1", ["mantle-cell-lymphoma"], MantleCellLymphoma, None },
        { "ICD-10 code, lower case", "c91.0", ["b-cell-acute-lymphoblastic-leukemia"], AcuteLymphoblasticLeukemia, None },
        { "ICD-10 code", "C90.0", ["multiple-myeloma"], MultipleMyeloma, None },
        { "ICD-10 code shared by parent and child", "C61", ["prostate-cancer"], Mcrpc, None },
        { "ICD-10 category as prefix", "C83", ["large-b-cell-lymphoma", "mantle-cell-lymphoma"], [.. LargeBCellLymphoma, .. MantleCellLymphoma], None },
        { "ICD-10 category as prefix", "C91", ["b-cell-acute-lymphoblastic-leukemia", "chronic-lymphocytic-leukemia"], Leukemia, None },
        { "ICD-10 code of a parent reaches the child", "D89.81", ["graft-versus-host-disease"], AcuteGvhd, None },
        // broader terms reach every subtype
        { "broader", "lymphoma", ["lymphoma"], NonHodgkin, None },
        { "broader", "Non-Hodgkin lymphoma", ["non-hodgkin-lymphoma"], NonHodgkin, None },
        { "broader", "NHL", ["non-hodgkin-lymphoma"], NonHodgkin, None },
        { "broader", "leukemia", ["leukemia"], Leukemia, None },
        { "broader", "bladder cancer", ["bladder-cancer"], Nmibc, None },
        { "broader", "prostate cancer", ["prostate-cancer"], Mcrpc, None },
        { "broader", "head and neck cancer", ["head-and-neck-cancer"], [.. HeadAndNeck, .. Nasopharyngeal], None },
        { "broader", "sarcoma", ["soft-tissue-sarcoma"], SynovialSarcoma, None },
        { "broader", "GVHD", ["graft-versus-host-disease"], AcuteGvhd, None },
        { "broadest", "cancer", ["cancer"], Cancer, None },
        // genetic and tissue conditions
        { "abbreviation", "SMA", ["spinal-muscular-atrophy"], SpinalMuscularAtrophy, None },
        { "ICD-10 category", "G12", ["spinal-muscular-atrophy", "amyotrophic-lateral-sclerosis"], SpinalMuscularAtrophy, None },
        { "abbreviation", "DMD", ["duchenne-muscular-dystrophy"], Duchenne, None },
        { "misspelling", "duchene", ["duchenne-muscular-dystrophy"], Duchenne, None },
        { "broader", "neuromuscular disease", ["neuromuscular-disease"], [.. SpinalMuscularAtrophy, .. Duchenne], None },
        { "lay term", "blindness", ["inherited-retinal-disease"], Rpe65RetinalDystrophy, None },
        { "broader: LCA has many genes, RPE65 is one", "LCA", ["leber-congenital-amaurosis"], Rpe65RetinalDystrophy, None },
        { "broader", "Leber congenital amaurosis", ["leber-congenital-amaurosis"], Rpe65RetinalDystrophy, None },
        { "broader: RP has many genes, RPE65 is one", "retinitis pigmentosa", ["retinitis-pigmentosa"], Rpe65RetinalDystrophy, None },
        { "broader", "RP", ["retinitis-pigmentosa"], Rpe65RetinalDystrophy, None },
        { "ICD-10 category of hereditary retinal dystrophy", "H35.5", ["inherited-retinal-disease"], Rpe65RetinalDystrophy, None },
        { "ICD-10 code", "H35.52", ["retinitis-pigmentosa"], Rpe65RetinalDystrophy, None },
        { "broader", "eye disease", ["eye-disease"], EyeDisease, None },
        { "broader", "macular telangiectasia", ["macular-telangiectasia"], MacTel, None },
        { "abbreviation", "CALD", ["cerebral-adrenoleukodystrophy"], CerebralAld, None },
        { "abbreviation", "MLD", ["metachromatic-leukodystrophy"], Mld, None },
        { "broader", "leukodystrophy", ["leukodystrophy"], Leukodystrophy, None },
        { "abbreviation", "SCD", ["sickle-cell-disease"], SickleCell, None },
        { "lay term", "sickle cell", ["sickle-cell-disease"], SickleCell, None },
        { "ICD-10 code", "D57", ["sickle-cell-disease"], SickleCell, None },
        { "broader", "thalassaemia", ["thalassemia"], BetaThalassemia, None },
        { "misspelling", "thalasemia", ["thalassemia"], BetaThalassemia, None },
        { "broader", "hemoglobinopathy", ["hemoglobinopathy"], [.. BetaThalassemia, .. SickleCell], None },
        { "broader", "haemoglobinopathies", ["hemoglobinopathy"], [.. BetaThalassemia, .. SickleCell], None },
        { "broader", "hemophilia", ["hemophilia"], Hemophilia, None },
        { "misspelling", "hemophila", ["hemophilia"], Hemophilia, None },
        { "synonym", "factor IX deficiency", ["hemophilia-b"], HemophiliaB, HemophiliaA },
        { "lay term", "butterfly skin", ["epidermolysis-bullosa"], EpidermolysisBullosa, None },
        { "ICD-10 code shared by parent and child", "Q81.2", ["dystrophic-epidermolysis-bullosa"], EpidermolysisBullosa, None },
        { "abbreviation shared by parent and child", "RDEB", ["dystrophic-epidermolysis-bullosa", "recessive-dystrophic-epidermolysis-bullosa"], EpidermolysisBullosa, None },
        { "broader", "SCID", ["severe-combined-immunodeficiency"], AdaScid, ["kresladi", "waskyra", "rethymic"] },
        { "lay term", "bubble boy disease", ["severe-combined-immunodeficiency"], AdaScid, None },
        { "broader: complete DiGeorge anomaly is congenital athymia", "DiGeorge syndrome", ["digeorge-syndrome"], Athymia, None },
        { "broader", "primary immunodeficiency", ["primary-immunodeficiency"], [.. AdaScid, .. Athymia], None },
        { "broader", "diabetes", ["diabetes"], Type1Diabetes, None },
        { "abbreviation", "T1D", ["type-1-diabetes"], Type1Diabetes, None },
        { "lay term", "hypoglycemia unawareness", ["type-1-diabetes"], Type1Diabetes, None },
        { "lay term", "knee cartilage damage", ["knee-cartilage-defect"], KneeCartilage, None },
        { "ICD-10 code", "M94.8X6", ["knee-cartilage-defect"], KneeCartilage, None },
        // Holoclar's condition (limbal stem cell deficiency) lists eye burns among its synonyms.
        { "broader", "burns", ["burns", "limbal-stem-cell-deficiency"], [.. Burns, .. LimbalStemCellDeficiency], None },
        // conditions of the products the data issue adds
        { "abbreviation", "WAS", ["wiskott-aldrich-syndrome"], None, ["strimvelis", "rethymic", "kresladi"] },
        { "exact name", "Wiskott-Aldrich syndrome", ["wiskott-aldrich-syndrome"], None, ["strimvelis", "rethymic", "kresladi"] },
        { "abbreviation", "LAD-I", ["leukocyte-adhesion-deficiency-type-1"], None, OtherImmunodeficiencyProducts },
        { "synonym", "CD18 deficiency", ["leukocyte-adhesion-deficiency-type-1"], None, OtherImmunodeficiencyProducts },
        { "synonym", "leukocyte adhesion deficiency type 1", ["leukocyte-adhesion-deficiency-type-1"], None, OtherImmunodeficiencyProducts },
        { "abbreviation", "RRP", ["recurrent-respiratory-papillomatosis"], None, None },
        { "exact name", "recurrent respiratory papillomatosis", ["recurrent-respiratory-papillomatosis"], None, None },
        { "lay term", "vascular trauma", ["vascular-trauma"], None, None },
        { "exact name", "malignant glioma", ["malignant-glioma"], None, None },
        { "exact name", "severe aplastic anemia", ["severe-aplastic-anemia"], None, None },
        // subtypes that some labels of the broader condition cover and others do not
        { "subtype, not synonym: Kymriah's LBCL label names no PMBCL", "PMBCL", ["primary-mediastinal-large-b-cell-lymphoma"], None, ["kymriah"] },
        { "subtype", "primary mediastinal B-cell lymphoma", ["primary-mediastinal-large-b-cell-lymphoma"], None, ["kymriah"] },
        { "subtype, not synonym: Zevaskyn's label is recessive DEB only", "DDEB", ["dominant-dystrophic-epidermolysis-bullosa"], None, RecessiveDystrophicEb },
        { "subtype", "dominant dystrophic epidermolysis bullosa", ["dominant-dystrophic-epidermolysis-bullosa"], None, RecessiveDystrophicEb },
        // qualifiers: a letter, a type number, a roman numeral tells conditions apart
        { "qualifier letter", "hemophilia A", ["hemophilia-a"], HemophiliaA, [.. HemophiliaB, "beqvez"] },
        { "qualifier letter, lower case", "hemophilia a", ["hemophilia-a"], HemophiliaA, [.. HemophiliaB, "beqvez"] },
        { "qualifier letter, British spelling", "haemophilia A", ["hemophilia-a"], HemophiliaA, [.. HemophiliaB, "beqvez"] },
        { "qualifier letter, misspelt name", "hemophila a", ["hemophilia-a"], HemophiliaA, [.. HemophiliaB, "beqvez"] },
        { "qualifier letter", "hemophilia B", ["hemophilia-b"], HemophiliaB, HemophiliaA },
        { "qualifier letter, British spelling", "haemophilia b", ["hemophilia-b"], HemophiliaB, HemophiliaA },
        { "qualifier letter, misspelt name", "hemofilia b", ["hemophilia-b"], HemophiliaB, HemophiliaA },
        { "qualifier: a letter no hemophilia has", "hemophilia C", [], None, Hemophilia },
        { "qualifier type number", "SMA type 1", ["spinal-muscular-atrophy"], SpinalMuscularAtrophy, Type1Diabetes },
        { "qualifier type number", "SMA type 2", ["spinal-muscular-atrophy"], SpinalMuscularAtrophy, Type1Diabetes },
        { "qualifier type number", "SMA type 3", ["spinal-muscular-atrophy"], SpinalMuscularAtrophy, Type1Diabetes },
        { "qualifier roman numeral", "SMA type II", ["spinal-muscular-atrophy"], SpinalMuscularAtrophy, Type1Diabetes },
        { "qualifier type number", "spinal muscular atrophy type 3", ["spinal-muscular-atrophy"], SpinalMuscularAtrophy, Type1Diabetes },
        { "qualifier type number", "type 1 diabetes", ["type-1-diabetes"], Type1Diabetes, SpinalMuscularAtrophy },
        { "qualifier roman numeral", "type I diabetes", ["type-1-diabetes"], Type1Diabetes, SpinalMuscularAtrophy },
        { "negative: the other diabetes", "type 2 diabetes", [], None, Type1Diabetes },
        { "negative: the other MacTel", "macular telangiectasia type 1", [], None, MacTel },
        { "negative: the other MacTel", "MacTel type 1", [], None, MacTel },
        { "qualifier type number", "MacTel type 2", ["macular-telangiectasia-type-2"], MacTel, None },
        { "negative: the other LAD", "LAD-II", [], None, ["kresladi"] },
        { "negative: the other LAD", "LAD type 3", [], None, ["kresladi"] },
        { "negative: the other LAD", "leukocyte adhesion deficiency type II", [], None, ["kresladi"] },
        { "myeloid, not lymphoid", "AML", ["acute-myeloid-leukemia"], None, AllAndCllProducts },
        { "myeloid, not lymphoid", "acute myeloid leukemia", ["acute-myeloid-leukemia"], None, AllAndCllProducts },
        { "myeloid is no misspelt myeloma", "myeloid leukemia", ["acute-myeloid-leukemia"], None, [.. AllAndCllProducts, .. MultipleMyeloma] },
        { "abbreviation", "MDS", ["myelodysplastic-syndromes"], None, AllAndCllProducts },
        // negatives: nothing unrelated
        { "negative: only a withdrawn product", "Crohn's disease", ["crohns-disease"], None, None },
        { "negative: only a withdrawn product", "anal fistula", ["anal-fistula"], None, None },
        { "negative", "lung cancer", [], None, None },
        { "negative", "breast cancer", [], None, None },
        { "negative", "asthma", [], None, None },
        { "negative", "migraine", [], None, None },
        { "negative: ICD-10 code without products", "C50", [], None, None },
        { "negative: ICD-10 code unknown", "J45.909", [], None, None },
        { "negative: ICD-10 code of ill-defined head and neck sites, no indication's code", "C76.0", [], None, None },
        { "negative: chondromalacia is no cartilage defect", "M94.26", [], None, None },
        { "negative: stop words only", "the of and", [], None, None },
        { "negative: a qualifier alone", "a", [], None, None },
        { "negative: too short to be fuzzy", "xq", [], None, None },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Condition_query_returns_exactly_the_products_indicated_for_the_conditions_it_means(
        string kind, string condition, string[] meant, string[] expected, string[] ruledOut)
    {
        var slugs = await SearchClient.SlugsAsync(_client, $"condition={Uri.EscapeDataString(condition)}");

        Assert.True(slugs.Length == slugs.Distinct().Count(), $"{kind} '{condition}': a product is listed twice: {string.Join(", ", slugs)}");
        Assert.Equal(CatalogFiles.IndicatedFor(meant), slugs.Order(StringComparer.Ordinal));
        Assert.Superset(expected.ToHashSet(), slugs.ToHashSet());
        Assert.Empty(slugs.Intersect(ruledOut));
    }

    [Fact]
    public async Task Condition_query_lymphoma_reaches_every_subtype()
    {
        var items = await SearchClient.AllItemsAsync(_client, "condition=lymphoma");

        var matched = items.SelectMany(i => i.GetProperty("matchedConditions").EnumerateArray())
            .Select(m => m.GetProperty("conditionId").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "large-b-cell-lymphoma", "follicular-lymphoma", "mantle-cell-lymphoma", "marginal-zone-lymphoma" }, matched);
    }

    [Fact]
    public async Task Every_result_says_which_condition_matched_and_how()
    {
        var items = await SearchClient.AllItemsAsync(_client, "condition=DLBCL");

        Assert.All(items, item =>
        {
            // Best match first; a product also indicated for a subtype (PMBCL) lists it as reached through LBCL.
            var matches = item.GetProperty("matchedConditions").EnumerateArray().ToList();
            var match = matches[0];
            Assert.All(matches.Skip(1), m => Assert.Equal("large-b-cell-lymphoma", m.GetProperty("via").GetString()));
            Assert.Equal("large-b-cell-lymphoma", match.GetProperty("conditionId").GetString());
            Assert.Equal("Large B-cell lymphoma", match.GetProperty("condition").GetString());
            Assert.Equal("C83.3", match.GetProperty("icd10").GetString());
            Assert.Equal("synonym", match.GetProperty("match").GetString());
            Assert.Equal("DLBCL", match.GetProperty("term").GetString());
        });
    }

    [Fact]
    public async Task A_subtype_reached_through_its_parent_names_the_parent()
    {
        // Synovial sarcoma's own names do not hold the words "soft tissue": only its parent matches.
        var items = await SearchClient.AllItemsAsync(_client, "condition=soft%20tissue%20sarcoma");

        var match = Assert.Single(Assert.Single(items).GetProperty("matchedConditions").EnumerateArray());
        Assert.Equal("synovial-sarcoma", match.GetProperty("conditionId").GetString());
        Assert.Equal("descendant", match.GetProperty("match").GetString());
        Assert.Equal("soft-tissue-sarcoma", match.GetProperty("via").GetString());
    }

    [Theory]
    [InlineData("retinitis pigmentosa", "luxturna", "rpe65-retinal-dystrophy", "retinitis-pigmentosa", "active")]
    [InlineData("LCA", "luxturna", "rpe65-retinal-dystrophy", "leber-congenital-amaurosis", "active")]
    [InlineData("DiGeorge syndrome", "rethymic", "congenital-athymia", "digeorge-syndrome", "active")]
    [InlineData("anal fistula", "alofisel", "perianal-fistulizing-crohns-disease", "anal-fistula", "any")]
    // CLL/SLL is a non-Hodgkin lymphoma through its second parent, not through the words of its name.
    [InlineData("NHL", "breyanzi", "chronic-lymphocytic-leukemia", "non-hodgkin-lymphoma", "active")]
    public async Task A_broader_term_reaches_the_labelled_condition_through_the_hierarchy_and_says_so(
        string typed, string slug, string labelled, string via, string status)
    {
        var items = await SearchClient.AllItemsAsync(_client, $"condition={Uri.EscapeDataString(typed)}&status={status}");

        var match = items.Single(i => i.GetProperty("slug").GetString() == slug).GetProperty("matchedConditions").EnumerateArray()
            .Single(m => m.GetProperty("conditionId").GetString() == labelled);
        Assert.Equal("descendant", match.GetProperty("match").GetString());
        Assert.Equal(via, match.GetProperty("via").GetString());
    }

    [Fact]
    public async Task A_code_prefix_match_says_so()
    {
        var items = await SearchClient.AllItemsAsync(_client, "condition=C83");

        var tecartus = items.Single(i => i.GetProperty("slug").GetString() == "tecartus");
        var match = Assert.Single(tecartus.GetProperty("matchedConditions").EnumerateArray());
        Assert.Equal("code-prefix", match.GetProperty("match").GetString());
        Assert.Equal("C83.1", match.GetProperty("term").GetString());
    }

    [Fact]
    public async Task Relevance_puts_the_exact_condition_before_its_subtypes()
    {
        // Omisirge (and any product like it) is indicated for "Blood cancer" itself; the others only for a subtype.
        var items = await SearchClient.AllItemsAsync(_client, "condition=blood%20cancer", limit: 3);
        var itself = CatalogFiles.Slugs(p => p.ConditionIds.Contains("blood-cancer"));

        bool ByName(System.Text.Json.JsonElement item) =>
            item.GetProperty("matchedConditions").EnumerateArray().Any(m => m.GetProperty("match").GetString() == "name");
        Assert.Contains("omisirge", itself);
        Assert.Equal(itself, items.Take(itself.Length).Select(i => i.GetProperty("slug").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(items.Take(itself.Length), item => Assert.True(ByName(item)));
        Assert.All(items.Skip(itself.Length), item => Assert.False(ByName(item)));
    }

    // The contract's ladder: exact name or code, then synonym (or code prefix), then the words of
    // a longer name, then descendant, then fuzzy.
    private static readonly Dictionary<string, int> Ladder = new()
    {
        ["name"] = 1, ["code"] = 1, ["synonym"] = 2, ["code-prefix"] = 2, ["text"] = 3, ["descendant"] = 4, ["fuzzy"] = 5,
    };

    [Theory]
    [InlineData("cancer")]
    [InlineData("blood cancer")]
    [InlineData("lymphoma")]
    [InlineData("leukemia")]
    [InlineData("C83")]
    public async Task Relevance_orders_results_by_how_well_their_best_condition_matched(string condition)
    {
        var items = await SearchClient.AllItemsAsync(_client, $"condition={Uri.EscapeDataString(condition)}", limit: 2);

        var best = items.Select(i => i.GetProperty("matchedConditions").EnumerateArray()
            .Min(m => Ladder[m.GetProperty("match").GetString()!])).ToList();
        Assert.Equal(best.Order(), best);
        // Within one rank, by name: the order does not depend on the plan.
        var names = items.Select(i => i.GetProperty("proprietaryName").GetString()!.ToLowerInvariant()).ToList();
        for (var i = 1; i < items.Count; i++)
        {
            if (best[i] == best[i - 1])
            {
                Assert.True(string.CompareOrdinal(names[i - 1], names[i]) <= 0, $"{names[i - 1]} before {names[i]}");
            }
        }
    }

    [Fact]
    public async Task Misspelt_condition_is_matched_as_fuzzy()
    {
        var items = await SearchClient.AllItemsAsync(_client, "condition=melanomma");

        Assert.All(items, item => Assert.Equal("fuzzy", item.GetProperty("matchedConditions")[0].GetProperty("match").GetString()));
    }

    [Fact]
    public async Task A_query_that_matches_nothing_returns_200_empty_with_suggestions_of_close_names()
    {
        var response = await _client.GetAsync("/v1/therapies?condition=lymfoma");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Empty(body.GetProperty("items").EnumerateArray());
        Assert.Contains("Lymphoma", body.GetProperty("suggestions").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task A_query_with_no_close_condition_offers_no_suggestions()
    {
        var body = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?condition=lung%20cancer")).RootElement;

        Assert.Empty(body.GetProperty("items").EnumerateArray());
        Assert.False(body.TryGetProperty("suggestions", out _), "no condition is close to 'lung cancer'");
    }

    [Fact]
    public async Task A_condition_that_matched_but_was_filtered_out_offers_no_suggestions()
    {
        // Lymphoma matches; no lymphoma product is a gene therapy (all are CAR-T, cell-based gene).
        var body = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?condition=lymphoma&modality=gene")).RootElement;

        Assert.Empty(body.GetProperty("items").EnumerateArray());
        Assert.False(body.TryGetProperty("suggestions", out _));
    }

    [Fact]
    public async Task Free_text_q_finds_a_product_by_name_and_by_condition()
    {
        Assert.Equal(["kymriah"], await SearchClient.SlugsAsync(_client, "q=Kymriah"));
        Assert.Equal(["kymriah"], await SearchClient.SlugsAsync(_client, "q=tisagenlecleucel"));
        Assert.Superset(new HashSet<string> { "abecma", "carvykti" }, (await SearchClient.SlugsAsync(_client, "q=BCMA")).ToHashSet());
        Assert.Equal(CatalogFiles.Slugs(p => p.Target == "BCMA"), (await SearchClient.SlugsAsync(_client, "q=BCMA")).Order(StringComparer.Ordinal));
        Assert.Equal(CatalogFiles.IndicatedFor(["multiple-myeloma"]), (await SearchClient.SlugsAsync(_client, "q=myeloma")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Condition_and_q_must_both_match()
    {
        // Leukemia products (Aucatzyl, Kymriah, Tecartus for ALL; Breyanzi for CLL) that target CD19: all four;
        // leukemia products named Kymriah: one.
        var leukemiaCd19 = CatalogFiles.IndicatedFor(["leukemia"]).Intersect(CatalogFiles.Slugs(p => p.Target == "CD19")).ToArray();
        Assert.Superset(new HashSet<string> { "aucatzyl", "breyanzi", "kymriah", "tecartus" }, leukemiaCd19.ToHashSet());
        Assert.Equal(leukemiaCd19, (await SearchClient.SlugsAsync(_client, "condition=leukemia&q=CD19")).Order(StringComparer.Ordinal));
        Assert.Equal(["kymriah"], await SearchClient.SlugsAsync(_client, "condition=leukemia&q=kymriah"));
        Assert.Empty(await SearchClient.SlugsAsync(_client, "condition=leukemia&q=zolgensma"));
    }

    [Fact]
    public async Task Withdrawn_products_are_found_with_status_any()
    {
        Assert.Empty(await SearchClient.SlugsAsync(_client, "condition=perianal%20fistula"));
        Assert.Equal(["alofisel"], await SearchClient.SlugsAsync(_client, "condition=perianal%20fistula&status=any"));
        var hemophiliaB = CatalogFiles.Products.Where(p => p.ConditionIds.Contains("hemophilia-b")).Select(p => p.Slug).Order(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string> { "beqvez", "hemgenix" }, hemophiliaB.ToHashSet());
        Assert.Equal(hemophiliaB, (await SearchClient.SlugsAsync(_client, "condition=hemophilia%20B&status=any")).Order(StringComparer.Ordinal));
        Assert.Equal(["beqvez"], await SearchClient.SlugsAsync(_client, "condition=hemophilia%20B&status=withdrawn"));
    }

    [Fact]
    public async Task Condition_and_filters_combine_with_and()
    {
        // Lymphoma products (Breyanzi, Kymriah, Yescarta, Tecartus) given by a gamma-retroviral vector: Kite's two.
        var slugs = await SearchClient.SlugsAsync(_client, "condition=lymphoma&vector=gamma-retroviral");

        Assert.Equal(["tecartus", "yescarta"], slugs.Order());
    }
}
