using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>A bad <c>Catalog:*</c> setting stops the service at start-up with a message that names it.</summary>
public class CatalogOptionsTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    [Theory]
    [InlineData("Catalog:BootstrapApiKey", "too-short", "Catalog:BootstrapApiKey")]
    [InlineData("Catalog:MigrationPatienceSeconds", "-1", "Catalog:MigrationPatienceSeconds")]
    [InlineData("Catalog:RateLimits:WritesPerMinute", "0", "Catalog:RateLimits")]
    [InlineData("Catalog:Database:PoolWaitSeconds", "0", "Catalog:Database:PoolWaitSeconds")]
    public void A_bad_setting_stops_the_service_naming_it(string setting, string value, string named)
    {
        using var misconfigured = api.WithWebHostBuilder(builder => builder.UseSetting(setting, value));

        var failure = Assert.Throws<OptionsValidationException>(() => misconfigured.CreateClient());

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Catalog:MigrateOnStartup", "MigrateOnStartup")]
    [InlineData("Catalog:Metrics:Enabled", "Catalog:Metrics:Enabled")]
    public void A_setting_of_the_wrong_type_stops_the_service_naming_it(string setting, string named)
    {
        using var misconfigured = api.WithWebHostBuilder(builder => builder.UseSetting(setting, "sometimes"));

        var failure = Assert.ThrowsAny<InvalidOperationException>(() => misconfigured.CreateClient());

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(TherapyCatalog.Api.Infrastructure.OpaqueCursor.DevelopmentKey)]
    [InlineData("only-twenty-characters")]
    public void Production_without_a_cursor_key_of_its_own_does_not_start(string? cursorKey)
    {
        using var production = api.WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Production");
            if (cursorKey is not null)
            {
                builder.UseSetting("Catalog:CursorKey", cursorKey);
            }
        });

        var failure = Assert.Throws<OptionsValidationException>(() => production.CreateClient());

        Assert.Contains("Catalog:CursorKey", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_production_a_cursor_signed_with_the_key_in_the_source_code_is_a_400()
    {
        using var production = api.WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Production");
            builder.UseSetting("Catalog:CursorKey", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        });
        var client = production.CreateClient();
        var page = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/v1/therapies?limit=1&sort=name"))!;
        var genuine = page["nextCursor"]!.GetValue<string>();
        var forged = new TherapyCatalog.Api.Infrastructure.OpaqueCursor(System.Text.Encoding.UTF8.GetBytes(TherapyCatalog.Api.Infrastructure.OpaqueCursor.DevelopmentKey))
            .Encode("p1:{\"s\":\"name\",\"f\":\"\",\"r\":0,\"n\":\"a\",\"d\":\"infinity\",\"i\":\"00000000-0000-0000-0000-000000000000\"}");

        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync($"/v1/therapies?limit=1&sort=name&cursor={Uri.EscapeDataString(genuine)}")).StatusCode);
        var response = await client.GetAsync($"/v1/therapies?limit=1&sort=name&cursor={Uri.EscapeDataString(forged)}");

        await ProblemAssert.IsProblemAsync(response, System.Net.HttpStatusCode.BadRequest);
    }
}
