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
}
