using System.Net;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;
using TherapyCatalog.Tests.Therapies;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>
/// The validator and the database's CHECKs agree, member by member; and when a database rule the
/// validator does not know refuses a write anyway, the client gets a 400 naming the member (a 409
/// for a duplicate), the write is rolled back, and nothing answers 500.
/// </summary>
public class DatabaseRefusalTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    [Theory]
    [InlineData("slug", "\"x\\n\"")]
    [InlineData("ndcs", "[\"0078-0846-19\\n\"]")]
    [InlineData("sources", "[\"HTTPS://example.org/label\"]")]
    [InlineData("sources", "[\"Http://example.org/label\"]")]
    [InlineData("sources", "[\"https:\\\\\\\\example.org\\\\label\"]")]
    [InlineData("listPrice", "{\"amount\":999999999999.995,\"currency\":\"USD\"}")]
    [InlineData("listPrice", "{\"amount\":1.5,\"currency\":\"USD\\n\"}")]
    [InlineData("proprietaryName", "\"Testcel\\n\"")]
    public async Task A_value_the_database_would_refuse_is_a_400_from_the_validator(string member, string value)
    {
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = TherapyBodies.NewCarT();
        body.Remove("ndcs");
        body[member] = "__value__";
        var text = body.ToJsonString().Replace("\"__value__\"", value, StringComparison.Ordinal);

        var response = await api.CreateClient().SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key,
            new StringContent(text, System.Text.Encoding.UTF8, "application/json")));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.GetProperty("errors").EnumerateObject(), e => e.Name.StartsWith(member, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refusal_by_a_rule_only_the_database_has_is_a_400_naming_the_member_and_writes_nothing()
    {
        await using (var db = await api.OpenDatabaseAsync())
        {
            await db.ExecuteAsync("ALTER TABLE therapies ADD CONSTRAINT therapies_target_check CHECK (target IS DISTINCT FROM 'refused-by-the-database')");
        }

        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var body = TherapyBodies.NewCarT();
        body["target"] = "refused-by-the-database";
        var before = await CountAsync();

        var response = await api.CreateClient().SendAsync(TherapyBodies.Request(HttpMethod.Post, "/v1/therapies", key, TherapyBodies.Body(body)));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("target", out _), problem.ToString());
        Assert.Equal(before, await CountAsync());
    }

    private async Task<int> CountAsync()
    {
        await using var db = await api.OpenDatabaseAsync();
        return await db.QuerySingleAsync<int>("SELECT count(*)::int FROM therapies");
    }
}
