using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;
using static TherapyCatalog.Tests.Therapies.TherapyBodies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// The regulator and approval-year facets (and the regulator filter) read sets kept on each therapy
/// row by triggers on the child tables (0006_facets.sql). These tests change the children, through
/// the API and by hand, and check the facets against the lists, and the sets against a formula over
/// the children written here independently of the migration.
/// </summary>
public class SearchFacetWriteTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // The therapies whose sets differ from what their children give (computed here independently of the migration).
    internal const string SetsDifferingFromChildrenSql = """
        SELECT t.slug
        FROM therapies t
        WHERE t.regulators IS DISTINCT FROM ARRAY(
                  SELECT DISTINCT x.regulator
                  FROM (SELECT a.regulator FROM therapy_approvals a WHERE a.therapy_id = t.id
                        UNION ALL
                        SELECT i.regulator FROM therapy_indications i WHERE i.therapy_id = t.id) AS x
                  ORDER BY 1)
           OR t.approval_years IS DISTINCT FROM ARRAY(
                  SELECT DISTINCT date_part('year', a.approved_on)::integer
                  FROM therapy_approvals a WHERE a.therapy_id = t.id AND a.approved_on IS NOT NULL
                  ORDER BY 1)
        """;

    [Fact]
    public async Task Facets_follow_writes_that_change_approvals_and_indications()
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var maker = $"Facetwrites {Guid.NewGuid():N}"[..24];
        var filters = $"manufacturer={Uri.EscapeDataString(maker)}";

        // First: FDA, 2024 (from NewCarT). Second: EMA twice in 2022 (counted once) and an FDA indication.
        var first = NewCarT();
        first["manufacturer"] = maker;
        var (firstId, firstETag) = await WriteAsync(key, HttpMethod.Post, "/v1/therapies", first, HttpStatusCode.Created);
        var second = NewCarT();
        second["manufacturer"] = maker;
        second["indications"] = new JsonArray(Indication("FDA", null), Indication("EMA", "2022-03-01"));
        second["approvals"] = new JsonArray(Approval("EMA", "2022-03-01", "approved"), Approval("EMA", "2022-11-20", "approved"));
        var (secondId, secondETag) = await WriteAsync(key, HttpMethod.Post, "/v1/therapies", second, HttpStatusCode.Created);
        await AssertFacetsAsync(filters, 2, new() { ["FDA"] = 2, ["EMA"] = 1 }, new() { ["2022"] = 1, ["2024"] = 1 });

        // PUT: the first now has a withdrawn MHRA approval of 2019 and an undated PMDA indication.
        first["approvals"] = new JsonArray(Approval("MHRA", "2019-06-01", "withdrawn"));
        first["indications"] = new JsonArray(Indication("PMDA", null));
        (_, firstETag) = await WriteAsync(key, HttpMethod.Put, $"/v1/therapies/{firstId}", first, HttpStatusCode.OK, firstETag);
        await AssertFacetsAsync(filters, 2, new() { ["FDA"] = 1, ["EMA"] = 1, ["MHRA"] = 1, ["PMDA"] = 1 }, new() { ["2019"] = 1, ["2022"] = 1 });

        // PATCH: the second's approvals lose their dates (a merge patch replaces the whole array).
        var patch = new JsonObject { ["approvals"] = new JsonArray(Approval("EMA", null, "approved")) };
        await WriteAsync(key, HttpMethod.Patch, $"/v1/therapies/{secondId}", patch, HttpStatusCode.OK, secondETag, "application/merge-patch+json");
        await AssertFacetsAsync(filters, 2, new() { ["FDA"] = 1, ["EMA"] = 1, ["MHRA"] = 1, ["PMDA"] = 1 }, new() { ["2019"] = 1 });

        // DELETE: the first leaves the counts.
        var delete = await _client.SendAsync(Request(HttpMethod.Delete, $"/v1/therapies/{firstId}", key, ifMatch: firstETag));
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await AssertFacetsAsync(filters, 1, new() { ["FDA"] = 1, ["EMA"] = 1 }, []);

        await using var db = await api.OpenDatabaseAsync();
        Assert.Empty(await db.QueryAsync<string>(SetsDifferingFromChildrenSql));
    }

    [Fact]
    public async Task The_sets_follow_any_change_to_the_child_tables_made_by_hand()
    {
        await using var db = await api.OpenDatabaseAsync();
        await using var tx = await db.BeginTransactionAsync();
        async Task AssertSetsAsync(string slug, string[] regulators, int[] years)
        {
            var (actualRegulators, actualYears) = await db.QuerySingleAsync<(string[], int[])>(
                "SELECT regulators, approval_years FROM therapies WHERE slug = @slug", new { slug }, tx);
            Assert.Equal(regulators, actualRegulators);
            Assert.Equal(years, actualYears);
        }

        async Task ExecuteAsync(string sql) => await db.ExecuteAsync(sql, transaction: tx);

        // Kymriah: approvals FDA 2017-08-30, EMA 2018-08-23, PMDA 2019-03-26; indications by the three.
        await AssertSetsAsync("kymriah", ["EMA", "FDA", "PMDA"], [2017, 2018, 2019]);

        await ExecuteAsync("UPDATE therapy_indications SET regulator = 'TGA' WHERE therapy_id = (SELECT id FROM therapies WHERE slug = 'kymriah') AND ordinal = 1");
        await ExecuteAsync("UPDATE therapy_approvals SET approved_on = DATE '1999-12-31' WHERE therapy_id = (SELECT id FROM therapies WHERE slug = 'kymriah') AND ordinal = 1");
        await AssertSetsAsync("kymriah", ["EMA", "FDA", "PMDA", "TGA"], [1999, 2018, 2019]);

        // An approval moved to another therapy leaves one and reaches the other.
        await ExecuteAsync("""
            UPDATE therapy_approvals SET therapy_id = (SELECT id FROM therapies WHERE slug = 'imlygic'), ordinal = 1000
            WHERE therapy_id = (SELECT id FROM therapies WHERE slug = 'kymriah') AND ordinal = 1
            """);
        await AssertSetsAsync("kymriah", ["EMA", "FDA", "PMDA", "TGA"], [2018, 2019]);
        await AssertSetsAsync("imlygic", ["EMA", "FDA"], [1999, 2015]);

        // Luxturna: approvals and indications by FDA (2017), EMA (2018) and PMDA (2023); deleted in turn.
        await ExecuteAsync("DELETE FROM therapy_approvals WHERE therapy_id = (SELECT id FROM therapies WHERE slug = 'luxturna')");
        await AssertSetsAsync("luxturna", ["EMA", "FDA", "PMDA"], []);
        await ExecuteAsync("DELETE FROM therapy_indications WHERE therapy_id = (SELECT id FROM therapies WHERE slug = 'luxturna') AND regulator = 'FDA'");
        await AssertSetsAsync("luxturna", ["EMA", "PMDA"], []);

        Assert.Empty(await db.QueryAsync<string>(SetsDifferingFromChildrenSql, transaction: tx));
        await tx.RollbackAsync();
    }

    private static JsonObject Indication(string regulator, string? approvedOn) => new()
    {
        ["conditionId"] = "large-b-cell-lymphoma", ["population"] = null, ["regulator"] = regulator, ["approvedOn"] = approvedOn,
    };

    private static JsonObject Approval(string regulator, string? approvedOn, string status) => new()
    {
        ["regulator"] = regulator, ["applicationNumber"] = null, ["approvedOn"] = approvedOn, ["status"] = status,
    };

    private async Task<(string Id, string ETag)> WriteAsync(
        string key, HttpMethod method, string path, JsonObject body, HttpStatusCode expected, string? ifMatch = null, string mediaType = "application/json")
    {
        var response = await _client.SendAsync(Request(method, path, key, Body(body, mediaType), ifMatch));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return (JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!, response.Headers.ETag!.ToString());
    }

    /// <summary>The facets of the filtered list are exactly these, and each equals its list's length.</summary>
    private async Task AssertFacetsAsync(string filters, int total, Dictionary<string, int> regulators, Dictionary<string, int> years)
    {
        var facets = JsonDocument.Parse(await _client.GetStringAsync($"/v1/facets?{filters}")).RootElement;
        Assert.Equal(total, facets.GetProperty("total").GetInt32());
        Assert.Equal(regulators.OrderBy(p => p.Key), Counts("regulator").OrderBy(p => p.Key));
        Assert.Equal(years.OrderBy(p => p.Key), Counts("approvalYear").OrderBy(p => p.Key));
        Assert.Equal(total, await SearchFacetTests.AssertCountsEqualListsAsync(_client, filters));

        Dictionary<string, int> Counts(string facet) =>
            facets.GetProperty(facet).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
    }
}
