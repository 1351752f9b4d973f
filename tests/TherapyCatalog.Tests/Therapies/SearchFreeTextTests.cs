using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// Free text <c>q</c> as people type it: manufacturers, platform and vector words, modality words.
/// Expected sets come from the therapy files' classification (CatalogFiles) and the labels, so more
/// products do not break them; an exact name or brand ranks first.
/// </summary>
public class SearchFreeTextTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // The CAR-T products of the seeded catalog (their labels: chimeric antigen receptor T cells).
    private static readonly string[] CarT = ["abecma", "aucatzyl", "breyanzi", "carvykti", "kymriah", "tecartus", "yescarta"];

    // Genetically modified cells that are no CAR-T: a T-cell receptor (Tecelra), encapsulated cells (Encelto), stem cells.
    private static readonly string[] NotCarT = ["tecelra", "encelto", "casgevy", "lyfgenia", "zynteglo", "skysona", "libmeldy", "strimvelis", "zevaskyn"];

    [Theory]
    [InlineData("CAR-T")]
    [InlineData("car-t")]
    [InlineData("CAR T")]
    [InlineData("CAR T cell therapy")]
    [InlineData("CAR-T cell therapy")]
    [InlineData("chimeric antigen receptor")]
    public async Task CAR_T_finds_every_CAR_T_and_no_other_modified_cell(string typed)
    {
        var slugs = await SearchClient.SlugsAsync(_client, $"q={Uri.EscapeDataString(typed)}");

        Assert.Superset(CarT.ToHashSet(), slugs.ToHashSet());
        Assert.Empty(slugs.Intersect(NotCarT));
        Assert.All(slugs, s => Assert.Equal("cell-based-gene", CatalogFiles.Products.Single(p => p.Slug == s).Modality));
    }

    public static TheoryData<string, string[]> ClassificationWords => new()
    {
        { "AAV", CatalogFiles.Slugs(p => p.Vector == "aav") },
        { "adeno-associated virus", CatalogFiles.Slugs(p => p.Vector == "aav") },
        { "lentiviral", CatalogFiles.Slugs(p => p.Vector == "lentiviral") },
        { "crispr", CatalogFiles.Slugs(p => p.Vector == "crispr-cas9") },
        { "CRISPR-Cas9", CatalogFiles.Slugs(p => p.Vector == "crispr-cas9") },
        { "gene editing", CatalogFiles.Slugs(p => p.Mechanism == "edit") },
        { "gene therapy", CatalogFiles.Slugs(p => p.Modality is "gene" or "cell-based-gene") },
        { "cell therapy", CatalogFiles.Slugs(p => p.Modality is "cell" or "cell-based-gene") },
        { "gene-modified cell therapy", CatalogFiles.Slugs(p => p.Modality == "cell-based-gene") },
    };

    [Theory]
    [MemberData(nameof(ClassificationWords))]
    public async Task A_platform_or_modality_word_finds_the_products_so_classified(string typed, string[] expected)
    {
        var slugs = await SearchClient.SlugsAsync(_client, $"q={Uri.EscapeDataString(typed)}");

        Assert.NotEmpty(expected);
        Assert.Equal(expected, slugs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AAV_finds_the_AAV_gene_therapies_the_labels_name()
    {
        var slugs = await SearchClient.SlugsAsync(_client, "q=AAV");

        Assert.Superset(new HashSet<string> { "elevidys", "hemgenix", "kebilidi", "luxturna", "roctavian", "zolgensma" }, slugs.ToHashSet());
        Assert.Empty(slugs.Intersect(["kymriah", "casgevy", "imlygic"]));
    }

    [Theory]
    [InlineData("novartis", "Novartis", new[] { "kymriah", "zolgensma" })]
    [InlineData("Kite", "Kite", new[] { "tecartus", "yescarta" })]
    [InlineData("bluebird", "bluebird", new[] { "lyfgenia", "skysona", "zynteglo" })]
    public async Task A_manufacturer_word_finds_its_products(string typed, string manufacturerWord, string[] expected)
    {
        var slugs = await SearchClient.SlugsAsync(_client, $"q={Uri.EscapeDataString(typed)}");

        Assert.Superset(expected.ToHashSet(), slugs.ToHashSet());
        Assert.All(slugs, s => Assert.Contains(manufacturerWord, CatalogFiles.Products.Single(p => p.Slug == s).Manufacturer, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("oncolytic", new[] { "imlygic", "oncorine" })] // their vector details: oncolytic HSV-1, oncolytic adenovirus
    public async Task A_vector_detail_word_finds_its_products(string typed, string[] expected)
    {
        var slugs = await SearchClient.SlugsAsync(_client, $"q={Uri.EscapeDataString(typed)}");

        Assert.Superset(expected.ToHashSet(), slugs.ToHashSet());
        Assert.Equal(CatalogFiles.Slugs(p => p.VectorDetail?.Contains(typed, StringComparison.OrdinalIgnoreCase) == true), slugs.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Kymriah", "kymriah")]
    [InlineData("zolgensma", "zolgensma")]
    [InlineData("Casgevy", "casgevy")]
    [InlineData("tisagenlecleucel", "kymriah")]
    public async Task An_exact_name_comes_first(string typed, string slug)
    {
        var items = await SearchClient.AllItemsAsync(_client, $"q={Uri.EscapeDataString(typed)}");

        Assert.Equal(slug, items[0].GetProperty("slug").GetString());
    }

    [Fact]
    public async Task Free_text_keeps_condition_qualifiers()
    {
        var slugs = await SearchClient.SlugsAsync(_client, "q=hemophilia%20a");

        Assert.Contains("roctavian", slugs);
        Assert.DoesNotContain("hemgenix", slugs);
    }
}
