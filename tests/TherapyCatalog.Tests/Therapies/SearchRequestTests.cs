using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>What the list accepts and refuses, its cursor, its headers, and inputs that must never cause a 500.</summary>
public class SearchRequestTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Theory]
    [InlineData("modality=virus", "modality", "cell-based-gene")]
    [InlineData("cellSource=xenogeneic", "cellSource", "allogeneic")]
    [InlineData("delivery=inside", "delivery", "in-vivo")]
    [InlineData("mechanism=fix", "mechanism", "inactivate")]
    [InlineData("vector=aav&vector=retro", "vector", "gamma-retroviral")]
    [InlineData("route=oral", "route", "intravesical")]
    [InlineData("regulator=ANVISA", "regulator", "SWISSMEDIC")]
    [InlineData("status=deleted", "status", "any")]
    [InlineData("sort=price", "sort", "-approvedOn")]
    public async Task Invalid_filter_value_returns_400_naming_the_allowed_values(string query, string parameter, string anAllowedValue)
    {
        var response = await _client.GetAsync($"/v1/therapies?{query}");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").EnumerateObject().ToList();
        var error = Assert.Single(errors, e => e.Name.StartsWith(parameter, StringComparison.Ordinal));
        Assert.Contains(anAllowedValue, error.Value.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("99999999999999999999")]
    public async Task Limit_outside_1_to_100_returns_400(string limit)
    {
        var response = await _client.GetAsync($"/v1/therapies?limit={limit}");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Limit_at_the_bounds_is_accepted()
    {
        var one = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?limit=1")).RootElement;
        var hundred = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?limit=100")).RootElement;

        Assert.Equal(1, one.GetProperty("items").GetArrayLength());
        // The seeded catalog holds 26 products: one page of 100 holds them all.
        Assert.InRange(hundred.GetProperty("items").GetArrayLength(), 26, 100);
        Assert.Equal(JsonValueKind.Null, hundred.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task ApprovedFrom_after_approvedTo_returns_400()
    {
        var response = await _client.GetAsync("/v1/therapies?approvedFrom=2024-01-01&approvedTo=2023-12-31");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("approvedFrom", out _));
    }

    [Theory]
    [InlineData("approvedFrom=2024-13-01")]
    [InlineData("approvedTo=yesterday")]
    public async Task A_date_that_is_not_a_date_returns_400(string query)
    {
        await ProblemAssert.IsProblemAsync(await _client.GetAsync($"/v1/therapies?{query}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Default_page_holds_20_items_and_links_to_the_next()
    {
        var response = await _client.GetAsync("/v1/therapies");

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(20, body.GetProperty("items").GetArrayLength());
        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.Contains("cursor=", link, StringComparison.Ordinal);
        Assert.Contains(Uri.EscapeDataString(body.GetProperty("nextCursor").GetString()!), link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_query_items_carry_no_matchedConditions_and_with_one_they_do()
    {
        var plain = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?limit=1")).RootElement.GetProperty("items")[0];
        var matched = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?condition=ALL&limit=1")).RootElement.GetProperty("items")[0];

        Assert.False(plain.TryGetProperty("matchedConditions", out _));
        Assert.Equal(JsonValueKind.Array, matched.GetProperty("matchedConditions").ValueKind);
        // Otherwise an item is the therapy itself, as GET /v1/therapies/{slug} returns it.
        var single = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies/{plain.GetProperty("slug").GetString()}")).RootElement;
        Assert.Equal(single.GetRawText(), plain.GetRawText());
    }

    [Fact]
    public async Task A_modified_cursor_returns_400()
    {
        var body = JsonDocument.Parse(await _client.GetStringAsync("/v1/therapies?limit=2")).RootElement;
        var cursor = body.GetProperty("nextCursor").GetString()!;
        var tampered = cursor[..10] + (cursor[10] == 'A' ? 'B' : 'A') + cursor[11..];

        var response = await _client.GetAsync($"/v1/therapies?limit=2&cursor={tampered}");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("cursor", out _));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("%00%00")]
    public async Task A_cursor_the_service_did_not_make_returns_400(string cursor)
    {
        var response = await _client.GetAsync($"/v1/therapies?cursor={cursor}");

        // An empty cursor is no cursor; anything else must be one of ours.
        if (cursor.Length == 0)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        }
    }

    [Theory]
    [InlineData("condition=lymphoma", "condition=leukemia")]
    [InlineData("sort=name", "sort=approvedOn")]
    [InlineData("modality=cell", "modality=gene")]
    public async Task A_cursor_used_with_other_filters_or_sort_returns_400(string first, string other)
    {
        var body = JsonDocument.Parse(await _client.GetStringAsync($"/v1/therapies?{first}&limit=1")).RootElement;
        var cursor = Uri.EscapeDataString(body.GetProperty("nextCursor").GetString()!);

        var response = await _client.GetAsync($"/v1/therapies?{other}&limit=1&cursor={cursor}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("condition=%00")]
    [InlineData("condition=lymph%00oma")]
    [InlineData("q=%00%01%02")]
    [InlineData("target=CD19%00")]
    [InlineData("manufacturer=%25_%5C")]
    [InlineData("condition=%27%3B%20DROP%20TABLE%20therapies%3B--")]
    [InlineData("condition=%E2%80%8B%F0%9F%A7%AC")]
    [InlineData("condition=C83%25")]
    [InlineData("q=(((((")]
    [InlineData("q=a%20%26%20!b%20%7C%20c:*")]
    [InlineData("unknownParameter=1")]
    public async Task Odd_input_never_causes_a_500(string query)
    {
        var response = await _client.GetAsync($"/v1/therapies?{query}");

        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest,
            $"{query} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var facets = await _client.GetAsync($"/v1/facets?{query}");
        Assert.True(facets.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"facets {query} answered {(int)facets.StatusCode}");
    }

    [Fact]
    public async Task A_huge_query_returns_400_not_500()
    {
        var huge = new string('x', 100_000);

        var response = await _client.GetAsync($"/v1/therapies?condition={huge}");

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestUriTooLong,
            $"answered {(int)response.StatusCode}");
        var long_ = await _client.GetAsync($"/v1/therapies?q={new string('y', 201)}");
        await ProblemAssert.IsProblemAsync(long_, HttpStatusCode.BadRequest);
    }

    public static TheoryData<string> FilterQueries => new()
    {
        "target=cd19", "manufacturer=KITE", "manufacturer=bristol-myers", "regulator=nmpa", "regulator=EMA&modality=cell",
        "approvedFrom=2024-01-01&approvedTo=2024-12-31", "approvedTo=2012-12-31", "modality=gene",
        "route=intralesional&route=intravesical", "cellSource=allogeneic&regulator=FDA", "vector=aav&vector=lentiviral",
        "mechanism=edit", "delivery=in-vivo&modality=gene&vector=aav",
    };

    // The same filters, as the contract defines them, evaluated over the data files.
    private static readonly Dictionary<string, Func<CatalogFiles.Product, bool>> Oracle = new()
    {
        ["target=cd19"] = p => p.Target == "CD19",
        ["manufacturer=KITE"] = p => p.Manufacturer.Contains("kite", StringComparison.OrdinalIgnoreCase),
        ["manufacturer=bristol-myers"] = p => p.Manufacturer.Contains("bristol-myers", StringComparison.OrdinalIgnoreCase),
        ["regulator=nmpa"] = p => p.Regulators.Contains("NMPA"),
        ["regulator=EMA&modality=cell"] = p => p.Regulators.Contains("EMA") && p.Modality == "cell",
        ["approvedFrom=2024-01-01&approvedTo=2024-12-31"] = p => p.ApprovalDates.Any(d => d.Year == 2024),
        ["approvedTo=2012-12-31"] = p => p.ApprovalDates.Any(d => d <= new DateOnly(2012, 12, 31)),
        ["modality=gene"] = p => p.Modality == "gene",
        ["route=intralesional&route=intravesical"] = p => p.Route is "intralesional" or "intravesical",
        ["cellSource=allogeneic&regulator=FDA"] = p => Read(p.Slug, "cellSource") == "allogeneic" && p.Regulators.Contains("FDA"),
        ["vector=aav&vector=lentiviral"] = p => Read(p.Slug, "vector") is "aav" or "lentiviral",
        ["mechanism=edit"] = p => Read(p.Slug, "mechanism") == "edit",
        ["delivery=in-vivo&modality=gene&vector=aav"] = p => Read(p.Slug, "delivery") == "in-vivo" && p.Modality == "gene" && Read(p.Slug, "vector") == "aav",
    };

    private static string? Read(string slug, string member)
    {
        var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "therapies", slug + ".json"))).RootElement;
        return file.TryGetProperty(member, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetString() : null;
    }

    [Theory]
    [MemberData(nameof(FilterQueries))]
    public async Task Filters_narrow_the_list_as_the_data_files_say(string query)
    {
        var expected = CatalogFiles.Slugs(Oracle[query]);
        Assert.NotEmpty(expected);

        // (Another test of this class adds a "freshness probe" product; it is no seeded fact.)
        var listed = (await SearchClient.SlugsAsync(_client, query)).Where(s => !s.Contains("probe", StringComparison.Ordinal));
        Assert.Equal(expected, listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Filters_from_the_data_spot_checks()
    {
        // Kite's two CAR-Ts; Provenge has a (withdrawn) EMA approval, so it has one by the EMA.
        Assert.Equal(["tecartus", "yescarta"], (await SearchClient.SlugsAsync(_client, "manufacturer=KITE")).Order());
        Assert.Contains("provenge", await SearchClient.SlugsAsync(_client, "regulator=EMA&modality=cell"));
        Assert.Equal(
            ["aucatzyl", "breyanzi", "carteyva", "kymriah", "nexcar19", "qartemi", "tecartus", "yescarta", "yuanruida"],
            (await SearchClient.SlugsAsync(_client, "target=cd19")).Order());
    }

    [Theory]
    [InlineData("approvedOn")]
    [InlineData("-approvedOn")]
    public async Task Sort_by_approval_date_follows_each_products_earliest_approval_with_undated_ones_last(string sort)
    {
        var items = await SearchClient.AllItemsAsync(_client, $"sort={sort}", limit: 7);

        var dates = items.Select(i => i.GetProperty("approvals").EnumerateArray()
            .Select(a => a.GetProperty("approvedOn")).Where(d => d.ValueKind == JsonValueKind.String)
            .Select(d => (DateOnly?)DateOnly.Parse(d.GetString()!, System.Globalization.CultureInfo.InvariantCulture)).Min()).ToList();
        var dated = dates.TakeWhile(d => d is not null).ToList();
        Assert.All(dates.Skip(dated.Count), d => Assert.Null(d)); // undated ones last
        Assert.True(dated.Count >= 20, "most products have a dated approval");
        Assert.Equal(sort == "approvedOn" ? dated.Order() : dated.OrderDescending(), dated);
    }

    [Fact]
    public async Task Every_answer_says_how_fresh_it_is_and_a_write_changes_it()
    {
        string[] urls = ["/v1/therapies?limit=1", "/v1/facets", "/v1/conditions?q=lymphoma", "/v1/therapies?condition=melanoma"];
        var before = new List<string>();
        foreach (var url in urls)
        {
            var response = await _client.GetAsync(url);
            before.Add(Assert.Single(response.Headers.GetValues("X-Catalog-Cursor")));
        }

        Assert.Single(before.Distinct()); // the same catalog state, the same position (no other writer in this class's database)

        await TherapyRows.InsertAsync(api.ConnectionString,
            TherapyRows.Input($"freshness-probe-{Guid.NewGuid():N}", "Freshness probe", "melanoma", new DateOnly(2020, 1, 1)));

        // The position moves once every older transaction of the cluster has ended (the change feed's
        // watermark); a transaction of a parallel test class may hold it back. The feed's long poll
        // answers when the write is settled: wait for that, then ask a question not asked before
        // (an answer to an earlier one may be cached with the position it had).
        var settled = await _client.GetFromJsonAsync<JsonElement>($"/v1/changes?after={Uri.EscapeDataString(before[0])}&wait=30");
        Assert.NotEmpty(settled.GetProperty("changes").EnumerateArray());
        var after = (await _client.GetAsync("/v1/therapies?condition=melanoma&limit=3")).Headers.GetValues("X-Catalog-Cursor").Single();

        Assert.NotEqual(before[0], after);
    }
}
