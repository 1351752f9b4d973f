using System.Net;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Conditions;

/// <summary>GET /v1/conditions: autocomplete over names, synonyms and codes, with active therapy counts (db/data/conditions/cancer.json).</summary>
public class SearchConditionsApiTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private async Task<List<JsonElement>> ItemsAsync(string query)
    {
        var response = await _client.GetAsync($"/v1/conditions?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(response.Headers.GetValues("X-Catalog-Cursor"));
        return [.. JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone())];
    }

    private static string? Id(JsonElement item) => item.GetProperty("id").GetString();

    [Theory]
    [InlineData("lymph", "lymphoma")] // a prefix
    [InlineData("Lymphoma", "lymphoma")] // the exact name, any case
    [InlineData("dlbc", "large-b-cell-lymphoma")] // a prefix of an abbreviation
    [InlineData("myelo", "multiple-myeloma")] // a prefix of a synonym
    [InlineData("mantle", "mantle-cell-lymphoma")]
    [InlineData("C90", "multiple-myeloma")] // an ICD-10 category
    [InlineData("graft", "graft-versus-host-disease")]
    public async Task Autocomplete_puts_the_condition_meant_first(string typed, string expected)
    {
        var items = await ItemsAsync($"q={Uri.EscapeDataString(typed)}");

        Assert.Equal(expected, Id(items[0]));
    }

    [Theory]
    [InlineData("lymphona", "lymphoma")]
    [InlineData("leukemai", "leukemia")]
    [InlineData("melanomma", "melanoma")]
    [InlineData("myelomma", "multiple-myeloma")]
    public async Task Autocomplete_tolerates_typos(string typed, string expected)
    {
        var items = await ItemsAsync($"q={typed}");

        Assert.Contains(expected, items.Select(Id));
    }

    [Fact]
    public async Task A_word_inside_a_name_finds_the_condition()
    {
        var items = await ItemsAsync("q=cell");

        Assert.Contains("mantle-cell-lymphoma", items.Select(Id));
        Assert.Contains("large-b-cell-lymphoma", items.Select(Id));
    }

    [Fact]
    public async Task A_synonym_added_to_the_condition_records_is_searchable_at_once()
    {
        await using (var db = await api.OpenDatabaseAsync())
        {
            await Dapper.SqlMapper.ExecuteAsync(db, "UPDATE conditions SET synonyms = array_append(synonyms, 'zqx skin tumour') WHERE id = 'melanoma'");
        }

        Assert.Equal("melanoma", Id((await ItemsAsync("q=zqx"))[0]));
        // Melanoma's products, from the therapy files: Amtagvi and Imlygic.
        Assert.Equal(["amtagvi", "imlygic"], (await TherapyCatalog.Tests.Therapies.SearchClient.SlugsAsync(_client, "condition=zqx%20skin%20tumour")).Order());
    }

    [Fact]
    public async Task Unrelated_text_finds_nothing()
    {
        Assert.Empty(await ItemsAsync("q=asthma"));
    }

    [Fact]
    public async Task A_condition_carries_its_code_synonyms_parent_and_active_therapy_count()
    {
        var lbcl = (await ItemsAsync("q=Large%20B-cell%20lymphoma"))[0];
        var lymphoma = (await ItemsAsync("q=Lymphoma"))[0];
        var bloodCancer = (await ItemsAsync("q=Blood%20cancer"))[0];

        Assert.Equal("C83.3", lbcl.GetProperty("icd10").GetString());
        Assert.Equal("non-hodgkin-lymphoma", lbcl.GetProperty("parent").GetString());
        Assert.Contains("DLBCL", lbcl.GetProperty("synonyms").EnumerateArray().Select(s => s.GetString()));
        // Breyanzi, Kymriah, Yescarta are indicated for LBCL; lymphoma's subtypes add Tecartus; blood cancer
        // adds Omisirge itself and the leukemia, PTLD and myeloma products (and whatever the data files add).
        Assert.True(lbcl.GetProperty("activeTherapyCount").GetInt32() >= 3);
        Assert.True(lymphoma.GetProperty("activeTherapyCount").GetInt32() >= 4);
        Assert.True(bloodCancer.GetProperty("activeTherapyCount").GetInt32() >= 9);
        Assert.Equal(TherapyCatalog.Tests.Therapies.CatalogFiles.IndicatedFor(["large-b-cell-lymphoma"]).Length, lbcl.GetProperty("activeTherapyCount").GetInt32());
        Assert.Equal(TherapyCatalog.Tests.Therapies.CatalogFiles.IndicatedFor(["lymphoma"]).Length, lymphoma.GetProperty("activeTherapyCount").GetInt32());
        Assert.Equal(TherapyCatalog.Tests.Therapies.CatalogFiles.IndicatedFor(["blood-cancer"]).Length, bloodCancer.GetProperty("activeTherapyCount").GetInt32());
    }

    [Fact]
    public async Task A_condition_lists_every_parent_and_parent_is_the_first_of_them()
    {
        // db/data/conditions/cancer.json: CLL/SLL is a leukemia (CLL) and a non-Hodgkin lymphoma (SLL).
        var cll = (await ItemsAsync("q=CLL")).Single(i => Id(i) == "chronic-lymphocytic-leukemia");
        var lymphoma = (await ItemsAsync("q=Lymphoma"))[0];

        Assert.Equal(["leukemia", "non-hodgkin-lymphoma"], cll.GetProperty("parents").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("leukemia", cll.GetProperty("parent").GetString());
        Assert.Equal(["blood-cancer"], lymphoma.GetProperty("parents").EnumerateArray().Select(p => p.GetString()));
        Assert.Empty((await ItemsAsync("q=Cancer"))[0].GetProperty("parents").EnumerateArray());
    }

    [Fact]
    public async Task Every_count_is_the_active_products_of_the_condition_and_its_descendants_in_the_data_files()
    {
        var root = PostgresServer.RepositoryRoot;
        var parents = TherapyCatalog.Tests.Therapies.CatalogFiles.ConditionParents;
        var products = Directory.GetFiles(Path.Combine(root, "db", "data", "therapies"), "*.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.Clone())
            .Where(t => t.GetProperty("status").GetString() == "active")
            .Select(t => t.GetProperty("indications").EnumerateArray().Select(i => i.GetProperty("conditionId").GetString()!).ToList())
            .ToList();
        bool Within(string condition, string ancestor) =>
            condition == ancestor || parents[condition].Any(p => Within(p, ancestor));

        var items = await ItemsAsync("limit=100");

        Assert.Equal(parents.Count, items.Count);
        Assert.All(items, item =>
        {
            var id = Id(item)!;
            var expected = products.Count(conditions => conditions.Any(c => Within(c, id)));
            Assert.True(expected == item.GetProperty("activeTherapyCount").GetInt32(), $"{id}: expected {expected}, got {item.GetProperty("activeTherapyCount")}");
        });
    }

    [Fact]
    public async Task Without_q_conditions_are_listed_by_name_up_to_the_limit()
    {
        var items = await ItemsAsync("limit=5");

        Assert.Equal(5, items.Count);
        var names = items.Select(i => i.GetProperty("name").GetString()!.ToLowerInvariant()).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.False(items[0].TryGetProperty("matchedTerm", out _));
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=x")]
    public async Task Limit_outside_1_to_100_returns_400(string query)
    {
        await ProblemAssert.IsProblemAsync(await _client.GetAsync($"/v1/conditions?{query}"), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("q=%00")]
    [InlineData("q=%25%25__%5C")]
    [InlineData("q=%27%3B--")]
    public async Task Odd_input_never_causes_a_500(string query)
    {
        var response = await _client.GetAsync($"/v1/conditions?{query}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_huge_q_returns_400()
    {
        await ProblemAssert.IsProblemAsync(await _client.GetAsync($"/v1/conditions?q={new string('a', 5000)}"), HttpStatusCode.BadRequest);
    }
}
