using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// "What is approved for this condition?", against the seeded catalog. Every expected set is read
/// off the data files: db/data/conditions/*.json (names, synonyms, ICD-10 codes, parents) and the
/// indications of db/data/therapies/*.json, following the hierarchy by hand. Withdrawn products
/// (Alofisel, Beqvez, ChondroCelect, Glybera) are left out: the list shows active ones by default.
/// </summary>
public class SearchConditionQueryTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // Products per condition, from the therapy files' indications.
    private static readonly string[] AcuteLymphoblasticLeukemia = ["aucatzyl", "kymriah", "nexcar19", "tecartus", "yuanruida"];
    private static readonly string[] ChronicLymphocyticLeukemia = ["breyanzi"];
    private static readonly string[] LargeBCellLymphoma = ["breyanzi", "carteyva", "kymriah", "yescarta"];
    private static readonly string[] FollicularLymphoma = ["breyanzi", "carteyva", "kymriah", "yescarta"];
    private static readonly string[] MantleCellLymphoma = ["breyanzi", "carteyva", "tecartus"];
    private static readonly string[] MarginalZoneLymphoma = ["breyanzi"];
    private static readonly string[] Ptld = ["ebvallo"];
    private static readonly string[] MultipleMyeloma = ["abecma", "carvykti", "fucaso", "zevor-cel"];
    private static readonly string[] Melanoma = ["amtagvi", "imlygic"];
    private static readonly string[] Mcrpc = ["provenge"];
    private static readonly string[] Nmibc = ["adstiladrin"];
    private static readonly string[] HeadAndNeck = ["gendicine"];
    private static readonly string[] Nasopharyngeal = ["oncorine"];
    private static readonly string[] SynovialSarcoma = ["tecelra"];
    private static readonly string[] AcuteGvhd = ["ruibosheng", "ryoncil", "temcell-hs"];
    private static readonly string[] BloodCancerItself = ["omisirge", "tregzi", "zemcelpro"];

    private static readonly string[] CordBlood =
    [
        "allocord", "clevecord", "ducord", "hemacord", "hpc-cord-blood-bloodworks", "hpc-cord-blood-clinimmune",
        "hpc-cord-blood-lifesouth", "hpc-cord-blood-md-anderson", "regenecyte",
    ];

    // genetic.json and tissue.json
    private static readonly string[] SpinalMuscularAtrophy = ["itvisma", "zolgensma"];
    private static readonly string[] Duchenne = ["elevidys"];
    private static readonly string[] Rpe65RetinalDystrophy = ["luxturna"];
    private static readonly string[] MacTel = ["encelto"];
    private static readonly string[] LimbalStemCellDeficiency = ["holoclar", "nepic", "ocural", "sakracy"];
    private static readonly string[] BetaThalassemia = ["casgevy", "zynteglo"];
    private static readonly string[] SickleCell = ["casgevy", "lyfgenia"];
    private static readonly string[] HemophiliaA = ["roctavian"];
    private static readonly string[] HemophiliaB = ["hemgenix", "xinjiuning"]; // and Beqvez, withdrawn
    private static readonly string[] CerebralAld = ["skysona"];
    private static readonly string[] Mld = ["libmeldy"];
    private static readonly string[] DystrophicEb = ["vyjuvek"];
    private static readonly string[] RecessiveDystrophicEb = ["zevaskyn"];
    private static readonly string[] AdaScid = ["strimvelis"];
    private static readonly string[] Athymia = ["rethymic"];
    private static readonly string[] Type1Diabetes = ["lantidra"];
    private static readonly string[] KneeCartilage = ["cartistem", "jacc", "maci", "spherox"]; // and ChondroCelect, withdrawn
    private static readonly string[] Burns = ["stratagraft"];
    private static readonly string[] BurnsItself = ["jace"];
    private static readonly string[] NonHodgkinItself = ["nexcar19", "qartemi"];
    private static readonly string[] SevereAplasticAnemia = ["omisirge"];
    private static readonly string[] BullousKeratopathy = ["vyznova"];
    private static readonly string[] MalignantGlioma = ["delytact"];
    private static readonly string[] Als = ["neuronata-r"];

    // Broader conditions: the union of their descendants (the files' parent links).
    private static readonly string[] Leukemia = [.. AcuteLymphoblasticLeukemia, .. ChronicLymphocyticLeukemia];
    private static readonly string[] NonHodgkin = [.. NonHodgkinItself, .. LargeBCellLymphoma, .. FollicularLymphoma, .. MantleCellLymphoma, .. MarginalZoneLymphoma];
    private static readonly string[] BloodCancer = [.. BloodCancerItself, .. Leukemia, .. NonHodgkin, .. Ptld, .. MultipleMyeloma];
    private static readonly string[] EyeDisease = [.. Rpe65RetinalDystrophy, .. MacTel, .. LimbalStemCellDeficiency, .. BullousKeratopathy];
    private static readonly string[] InheritedBloodDisorder = [.. BetaThalassemia, .. SickleCell, .. HemophiliaA, .. HemophiliaB];
    private static readonly string[] Hemophilia = [.. HemophiliaA, .. HemophiliaB];
    private static readonly string[] Leukodystrophy = [.. CerebralAld, .. Mld];
    private static readonly string[] EpidermolysisBullosa = [.. DystrophicEb, .. RecessiveDystrophicEb];
    private static readonly string[] Cancer =
    [
        .. BloodCancer, .. Melanoma, .. Mcrpc, .. Nmibc, .. HeadAndNeck, .. Nasopharyngeal, .. SynovialSarcoma, .. MalignantGlioma,
    ];

    public static TheoryData<string, string, string[]> Queries => new()
    {
        // exact names, any case
        { "exact name", "Large B-cell lymphoma", LargeBCellLymphoma },
        { "exact name, lower case", "multiple myeloma", MultipleMyeloma },
        { "exact name", "Synovial sarcoma", SynovialSarcoma },
        { "exact name", "Acute graft-versus-host disease", AcuteGvhd },
        // abbreviations
        { "abbreviation", "DLBCL", LargeBCellLymphoma },
        { "abbreviation, lower case", "dlbcl", LargeBCellLymphoma },
        { "abbreviation", "ALL", AcuteLymphoblasticLeukemia },
        { "abbreviation", "CLL", ChronicLymphocyticLeukemia },
        { "abbreviation", "MM", MultipleMyeloma },
        { "abbreviation", "mCRPC", Mcrpc },
        { "abbreviation", "NMIBC", Nmibc },
        { "abbreviation", "NPC", Nasopharyngeal },
        { "abbreviation", "PTLD", Ptld },
        { "abbreviation", "MCL", MantleCellLymphoma },
        // synonyms and lay terms
        { "synonym", "myeloma", MultipleMyeloma },
        { "lay term", "bone marrow cancer", MultipleMyeloma },
        { "lay term", "skin cancer", Melanoma },
        { "lay term", "blood cancer", BloodCancer },
        // "blood disorders" is a synonym of two roots: the hematopoietic disorders and the inherited blood disorders.
        { "lay term", "blood disorders", [.. CordBlood, .. SevereAplasticAnemia, .. InheritedBloodDisorder] },
        { "British spelling", "leukaemia", Leukemia },
        { "words of a longer name", "mantle cell", MantleCellLymphoma },
        // misspellings
        { "misspelling", "lymphona", NonHodgkin },
        { "misspelling", "lukemia", Leukemia },
        { "misspelling", "melanomma", Melanoma },
        { "misspelling", "folicular lymphoma", FollicularLymphoma },
        { "misspelling", "myelomma", MultipleMyeloma },
        // ICD-10 codes and prefixes
        { "ICD-10 code", "C83.1", MantleCellLymphoma },
        { "ICD-10 code, lower case", "c91.0", AcuteLymphoblasticLeukemia },
        { "ICD-10 code", "C90.0", MultipleMyeloma },
        { "ICD-10 code shared by parent and child", "C61", Mcrpc },
        { "ICD-10 category as prefix", "C83", [.. LargeBCellLymphoma, .. MantleCellLymphoma] },
        { "ICD-10 category as prefix", "C91", Leukemia },
        { "ICD-10 code of a parent reaches the child", "D89.81", AcuteGvhd },
        // broader terms reach every subtype
        { "broader", "lymphoma", NonHodgkin },
        { "broader", "Non-Hodgkin lymphoma", NonHodgkin },
        { "broader", "NHL", NonHodgkin },
        { "broader", "leukemia", Leukemia },
        { "broader", "bladder cancer", Nmibc },
        { "broader", "prostate cancer", Mcrpc },
        { "broader", "head and neck cancer", [.. HeadAndNeck, .. Nasopharyngeal] },
        { "broader", "sarcoma", SynovialSarcoma },
        { "broader", "GVHD", AcuteGvhd },
        { "broadest", "cancer", Cancer },
        // genetic and tissue conditions
        { "abbreviation", "SMA", SpinalMuscularAtrophy },
        { "ICD-10 code", "G12.9", SpinalMuscularAtrophy },
        { "abbreviation", "DMD", Duchenne },
        { "misspelling", "duchene", Duchenne },
        { "broader", "neuromuscular disease", [.. SpinalMuscularAtrophy, .. Duchenne, .. Als] },
        { "lay term", "blindness", Rpe65RetinalDystrophy },
        { "abbreviation", "LCA", Rpe65RetinalDystrophy },
        { "synonym", "Leber congenital amaurosis", Rpe65RetinalDystrophy },
        { "broader", "eye disease", EyeDisease },
        { "abbreviation", "CALD", CerebralAld },
        { "abbreviation", "MLD", Mld },
        { "broader", "leukodystrophy", Leukodystrophy },
        { "abbreviation", "SCD", SickleCell },
        { "lay term", "sickle cell", SickleCell },
        { "ICD-10 code", "D57", SickleCell },
        { "synonym", "thalassaemia", BetaThalassemia },
        { "misspelling", "thalasemia", BetaThalassemia },
        { "broader", "hemophilia", Hemophilia },
        { "misspelling", "hemophila", Hemophilia },
        { "synonym", "factor IX deficiency", HemophiliaB },
        { "lay term", "butterfly skin", EpidermolysisBullosa },
        { "ICD-10 code shared by parent and child", "Q81.2", EpidermolysisBullosa },
        { "abbreviation shared by parent and child", "RDEB", EpidermolysisBullosa },
        { "broader", "SCID", AdaScid },
        { "lay term", "bubble boy disease", AdaScid },
        { "synonym", "DiGeorge syndrome", Athymia },
        { "broader", "diabetes", Type1Diabetes },
        { "abbreviation", "T1D", Type1Diabetes },
        { "lay term", "knee cartilage damage", KneeCartilage },
        // Holoclar's condition (limbal stem cell deficiency) lists eye burns among its synonyms.
        { "broader", "burns", [.. BurnsItself, .. Burns, .. LimbalStemCellDeficiency] },
        // negatives: nothing unrelated
        { "negative: only a withdrawn product", "Crohn's disease", [] },
        { "negative", "lung cancer", [] },
        { "negative", "breast cancer", [] },
        { "negative: the other diabetes", "type 2 diabetes", [] },
        { "negative", "asthma", [] },
        { "negative", "migraine", [] },
        { "negative: ICD-10 code without products", "C50", [] },
        { "negative: ICD-10 code unknown", "J45.909", [] },
        { "negative: stop words only", "the of and", [] },
        { "negative: too short to be fuzzy", "xq", [] },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Condition_query_returns_exactly_the_products_approved_for_it(string kind, string condition, string[] expected)
    {
        var slugs = await SearchClient.SlugsAsync(_client, $"condition={Uri.EscapeDataString(condition)}");

        Assert.True(slugs.Length == slugs.Distinct().Count(), $"{kind} '{condition}': a product is listed twice: {string.Join(", ", slugs)}");
        Assert.Equal(expected.Distinct().Order(StringComparer.Ordinal), slugs.Order(StringComparer.Ordinal));
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
            var match = Assert.Single(item.GetProperty("matchedConditions").EnumerateArray());
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
        // Omisirge, Tregzi and Zemcelpro are indicated for "Blood cancer" itself; every other blood cancer
        // product only for a subtype.
        var items = await SearchClient.AllItemsAsync(_client, "condition=blood%20cancer", limit: 5);
        var exact = items.TakeWhile(item => item.GetProperty("matchedConditions")[0].GetProperty("match").GetString() == "name").ToList();

        Assert.Equal(BloodCancerItself, exact.Select(item => item.GetProperty("slug").GetString()!).Order());
        Assert.All(items.Skip(exact.Count), item => Assert.DoesNotContain(
            item.GetProperty("matchedConditions").EnumerateArray(), m => m.GetProperty("match").GetString() == "name"));
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
        Assert.Equal(["abecma", "carvykti", "fucaso", "zevor-cel"], (await SearchClient.SlugsAsync(_client, "q=BCMA")).Order());
        Assert.Equal(MultipleMyeloma, (await SearchClient.SlugsAsync(_client, "q=myeloma")).Order());
    }

    [Fact]
    public async Task Condition_and_q_must_both_match()
    {
        // Leukemia products (Aucatzyl, Kymriah, NexCAR19, Tecartus, Yuanruida for ALL; Breyanzi for CLL) that
        // target CD19: all six; leukemia products named Kymriah: one.
        Assert.Equal(["aucatzyl", "breyanzi", "kymriah", "nexcar19", "tecartus", "yuanruida"],
            (await SearchClient.SlugsAsync(_client, "condition=leukemia&q=CD19")).Order());
        Assert.Equal(["kymriah"], await SearchClient.SlugsAsync(_client, "condition=leukemia&q=kymriah"));
        Assert.Empty(await SearchClient.SlugsAsync(_client, "condition=leukemia&q=zolgensma"));
    }

    [Fact]
    public async Task Withdrawn_products_are_found_with_status_any()
    {
        Assert.Empty(await SearchClient.SlugsAsync(_client, "condition=perianal%20fistula"));
        Assert.Equal(["alofisel"], await SearchClient.SlugsAsync(_client, "condition=perianal%20fistula&status=any"));
        Assert.Equal(["beqvez", "hemgenix", "xinjiuning"], (await SearchClient.SlugsAsync(_client, "condition=hemophilia%20B&status=any")).Order());
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
