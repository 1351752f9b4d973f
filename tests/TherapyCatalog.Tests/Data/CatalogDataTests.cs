using System.Text.RegularExpressions;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Data;

/// <summary>Tests over the catalog data itself, as loaded from db/data into the database.</summary>
public partial class CatalogDataTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    // Classifications as the seed texts (../shared/seeds) describe each product: CAR-T cells are
    // "taken from your body and sent to a lab for modification" (autologous, ex vivo, cell-based
    // gene); Zolgensma and Luxturna deliver a gene with a viral vector (in vivo, no cells); Laviv,
    // Provenge and Maci are "made using your own cells"; Gintuit, HPC cord blood, Rethymic and
    // Stratagraft come "from other people".
    [Theory]
    [InlineData("kymriah", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("abecma", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("breyanzi", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("tecartus", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("yescarta", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("carvykti", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("zynteglo", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("skysona", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("libmeldy", "cell-based-gene", "autologous", "ex-vivo")]
    [InlineData("zolgensma", "gene", null, "in-vivo")]
    [InlineData("luxturna", "gene", null, "in-vivo")]
    [InlineData("imlygic", "gene", null, "in-vivo")]
    [InlineData("gendicine", "gene", null, "in-vivo")]
    [InlineData("laviv", "cell", "autologous", null)]
    [InlineData("provenge", "cell", "autologous", null)]
    [InlineData("maci", "cell", "autologous", null)]
    [InlineData("gintuit", "cell", "allogeneic", null)]
    [InlineData("rethymic", "cell", "allogeneic", null)]
    [InlineData("stratagraft", "cell", "allogeneic", null)]
    [InlineData("allocord", "cell", "allogeneic", null)]
    [InlineData("clevecord", "cell", "allogeneic", null)]
    [InlineData("ducord", "cell", "allogeneic", null)]
    public async Task Seed_product_is_classified_as_the_seed_texts_explain(string slug, string modality, string? cellSource, string? delivery)
    {
        await using var db = await api.OpenDatabaseAsync();

        var row = await db.QuerySingleOrDefaultAsync<(string Modality, string? CellSource, string? Delivery)?>(
            "SELECT modality, cell_source, delivery FROM therapies WHERE slug = @slug", new { slug });

        Assert.NotNull(row);
        Assert.Equal((modality, cellSource, delivery), row.Value);
    }

    // Routes and journeys the seed texts state.
    [Theory]
    [InlineData("luxturna", "subretinal")]
    [InlineData("imlygic", "intralesional")]
    [InlineData("laviv", "intradermal")]
    [InlineData("rethymic", "implantation")]
    [InlineData("zolgensma", "intravenous")]
    [InlineData("kymriah", "intravenous")]
    public async Task Seed_product_is_given_by_the_route_the_seed_texts_state(string slug, string route)
    {
        await using var db = await api.OpenDatabaseAsync();

        Assert.Equal(route, await db.QuerySingleAsync<string>("SELECT route FROM therapies WHERE slug = @slug", new { slug }));
    }

    [Theory]
    [InlineData("kymriah", 60)]    // "infused into your body over about 1 hour"
    [InlineData("zolgensma", 60)]  // "infused into your body over 1 hour"
    [InlineData("yescarta", 30)]   // "about 30 minutes"
    [InlineData("tecartus", 30)]
    public async Task Seed_product_infusion_time_is_the_one_the_seed_texts_give(string slug, int minutes)
    {
        await using var db = await api.OpenDatabaseAsync();

        Assert.Equal(minutes, await db.QuerySingleAsync<int?>("SELECT infusion_minutes FROM therapies WHERE slug = @slug", new { slug }));
    }

    [Fact]
    public async Task Autologous_car_t_products_need_leukapheresis_and_lymphodepletion()
    {
        await using var db = await api.OpenDatabaseAsync();

        var journeys = await db.QueryAsync<(string Slug, bool Leukapheresis, bool Lymphodepletion)>("""
            SELECT slug, requires_leukapheresis, requires_lymphodepletion FROM therapies
            WHERE slug IN ('kymriah', 'yescarta', 'tecartus', 'breyanzi', 'abecma', 'carvykti')
            """);

        Assert.Equal(6, journeys.Count());
        Assert.All(journeys, j => Assert.True(j.Leukapheresis && j.Lymphodepletion, j.Slug));
    }

    [Fact]
    public async Task Catalog_holds_every_product_of_the_brief_and_45_or_more_in_all()
    {
        string[] named =
        [
            "gintuit", "allocord", "clevecord", "ducord", "hemacord", "laviv", "provenge", "maci", "rethymic", "stratagraft",
            "abecma", "breyanzi", "imlygic", "kymriah", "luxturna", "tecartus", "yescarta", "zolgensma", "carvykti",
            "zynteglo", "skysona", "gendicine", "libmeldy", "hemgenix", "adstiladrin", "vyjuvek", "elevidys", "roctavian",
            "lyfgenia", "casgevy", "beqvez", "kebilidi", "tecelra", "aucatzyl", "amtagvi", "lantidra", "omisirge",
            "ryoncil", "encelto", "zevaskyn",
        ];
        await using var db = await api.OpenDatabaseAsync();

        var slugs = (await db.QueryAsync<string>("SELECT slug FROM therapies WHERE deleted_at IS NULL")).ToHashSet();

        var missing = named.Except(slugs).ToList();
        Assert.Empty(missing);
        Assert.True(slugs.Count >= 45, $"{slugs.Count} products");
    }

    [Fact]
    public async Task Every_modality_is_represented_in_proportion_to_the_approved_market()
    {
        await using var db = await api.OpenDatabaseAsync();

        var counts = (await db.QueryAsync<(string Modality, int Count)>(
            "SELECT modality, count(*)::int FROM therapies WHERE deleted_at IS NULL GROUP BY modality")).ToDictionary(c => c.Modality, c => c.Count);

        // Lower bounds from the products the brief names: 16 cell-based gene, 13 gene, 20 cell therapies.
        Assert.True(counts.GetValueOrDefault("cell-based-gene") >= 14, $"cell-based-gene: {counts.GetValueOrDefault("cell-based-gene")}");
        Assert.True(counts.GetValueOrDefault("gene") >= 10, $"gene: {counts.GetValueOrDefault("gene")}");
        Assert.True(counts.GetValueOrDefault("cell") >= 15, $"cell: {counts.GetValueOrDefault("cell")}");
    }

    [Fact]
    public async Task No_product_lacks_a_source_or_an_indication()
    {
        await using var db = await api.OpenDatabaseAsync();

        var unsourced = await db.QueryAsync<string>(
            "SELECT slug FROM therapies t WHERE NOT EXISTS (SELECT 1 FROM therapy_sources s WHERE s.therapy_id = t.id)");
        var unindicated = await db.QueryAsync<string>(
            "SELECT slug FROM therapies t WHERE NOT EXISTS (SELECT 1 FROM therapy_indications i WHERE i.therapy_id = t.id)");

        Assert.Empty(unsourced);
        Assert.Empty(unindicated);
    }

    [Fact]
    public async Task Every_indication_names_a_condition_record()
    {
        await using var db = await api.OpenDatabaseAsync();

        var orphans = await db.QueryAsync<string>("""
            SELECT t.slug || ' -> ' || i.condition_id
            FROM therapy_indications i JOIN therapies t ON t.id = i.therapy_id
            LEFT JOIN conditions c ON c.id = i.condition_id
            WHERE c.id IS NULL
            """);

        Assert.Empty(orphans);
    }

    [Fact]
    public async Task Every_indication_is_by_a_regulator_that_approved_the_product()
    {
        await using var db = await api.OpenDatabaseAsync();

        var unapproved = await db.QueryAsync<string>("""
            SELECT DISTINCT t.slug || ' ' || i.regulator
            FROM therapy_indications i JOIN therapies t ON t.id = i.therapy_id
            WHERE NOT EXISTS (SELECT 1 FROM therapy_approvals a WHERE a.therapy_id = i.therapy_id AND a.regulator = i.regulator)
            """);

        Assert.Empty(unapproved);
    }

    [Fact]
    public async Task A_product_whose_every_approval_ended_is_marked_withdrawn()
    {
        await using var db = await api.OpenDatabaseAsync();

        // (The converse need not hold: a product can leave the market while its licence stands.)
        var contradictions = await db.QueryAsync<string>("""
            SELECT t.slug FROM therapies t
            WHERE t.status = 'active'
              AND NOT EXISTS (SELECT 1 FROM therapy_approvals a WHERE a.therapy_id = t.id AND a.status = 'approved')
            """);

        Assert.Empty(contradictions);
    }

    [Fact]
    public async Task No_two_products_share_a_slug_or_a_name()
    {
        await using var db = await api.OpenDatabaseAsync();

        var duplicates = await db.QueryAsync<string>("""
            SELECT lower(proprietary_name) FROM therapies GROUP BY lower(proprietary_name) HAVING count(*) > 1
            UNION
            SELECT slug FROM therapies GROUP BY slug HAVING count(*) > 1
            """);

        Assert.Empty(duplicates);
    }

    [Fact]
    public async Task Every_icd10_code_is_well_formed()
    {
        await using var db = await api.OpenDatabaseAsync();

        var codes = await db.QueryAsync<string>("SELECT icd10 FROM conditions WHERE icd10 IS NOT NULL");

        Assert.NotEmpty(codes);
        Assert.All(codes, code => Assert.Matches(Icd10(), code));
    }

    [Fact]
    public async Task The_condition_hierarchy_has_no_cycle()
    {
        await using var db = await api.OpenDatabaseAsync();

        // Walk up from every condition; a walk that meets its own start again is a cycle.
        var cycles = await db.QueryAsync<string>("""
            WITH RECURSIVE walk (start_id, id, path, cycle) AS (
                SELECT id, parent_id, ARRAY[id], false FROM conditions WHERE parent_id IS NOT NULL
                UNION ALL
                SELECT w.start_id, c.parent_id, w.path || c.id, c.id = ANY(w.path)
                FROM walk w JOIN conditions c ON c.id = w.id
                WHERE NOT w.cycle AND c.parent_id IS NOT NULL
            )
            SELECT DISTINCT start_id FROM walk WHERE cycle OR id = start_id
            """);

        Assert.Empty(cycles);
    }

    [Fact]
    public async Task Every_cell_based_gene_therapy_has_a_cell_source_and_ex_vivo_delivery()
    {
        await using var db = await api.OpenDatabaseAsync();

        var rows = await db.QueryAsync<(string Slug, string? CellSource, string? Delivery)>(
            "SELECT slug, cell_source, delivery FROM therapies WHERE modality = 'cell-based-gene'");

        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.True(r.CellSource is not null && r.Delivery == "ex-vivo", r.Slug));
    }

    [Theory]
    [InlineData("luxturna", 850000, "USD")]   // "about $850,000" when first approved
    public async Task Seed_list_price_is_the_one_the_seed_texts_give(string slug, decimal amount, string currency)
    {
        await using var db = await api.OpenDatabaseAsync();

        var price = await db.QuerySingleAsync<(decimal? Amount, string? Currency)>(
            "SELECT list_price_amount, list_price_currency FROM therapies WHERE slug = @slug", new { slug });

        Assert.Equal((amount, currency), (price.Amount, price.Currency));
    }

    [Fact]
    public async Task Seed_prices_over_two_million_are_recorded_as_such()
    {
        await using var db = await api.OpenDatabaseAsync();

        var zolgensma = await db.QuerySingleAsync<(decimal? Amount, string? Currency)>(
            "SELECT list_price_amount, list_price_currency FROM therapies WHERE slug = 'zolgensma'");
        var libmeldy = await db.QuerySingleAsync<(decimal? Amount, string? Currency)>(
            "SELECT list_price_amount, list_price_currency FROM therapies WHERE slug = 'libmeldy'");

        Assert.Equal("USD", zolgensma.Currency);
        Assert.True(zolgensma.Amount > 2_000_000m);                         // "more than $2 million"
        Assert.Equal("GBP", libmeldy.Currency);
        Assert.InRange(libmeldy.Amount!.Value, 2_750_000m, 2_900_000m);     // "around £2.8million"
    }

    [GeneratedRegex(@"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")]
    private static partial Regex Icd10();
}
