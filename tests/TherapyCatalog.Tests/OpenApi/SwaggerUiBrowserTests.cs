using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>The application on a real Kestrel port, for a real browser.</summary>
public class KestrelCatalogApiFactory : CatalogApiFactory
{
    public Uri BaseAddress { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        UseKestrel(0);
        StartServer();
        BaseAddress = CreateClient().BaseAddress!;
    }
}

/// <summary>
/// A person exploring the API in Swagger UI: headless Chromium (Debian's package, no browser
/// download), driven by Playwright, runs GET /v1/therapies with condition=SMA through "Try it out"
/// and must see Zolgensma in the rendered answer. The screenshot is kept in TestResults/.
/// </summary>
public class SwaggerUiBrowserTests(KestrelCatalogApiFactory api) : IClassFixture<KestrelCatalogApiFactory>
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Swagger_ui_runs_a_search_for_SMA_and_shows_zolgensma()
    {
        EnsureChromium();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(LaunchOptions);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 2200 } });

        await page.GotoAsync(new Uri(api.BaseAddress, "/swagger/index.html").ToString());
        var operation = page.Locator("#operations-Therapies-ListTherapies");
        await operation.Locator(".opblock-summary").First.ClickAsync();
        await operation.Locator("input[placeholder='condition']").FillAsync("SMA");
        await operation.Locator("button.execute").ClickAsync();
        var answer = operation.Locator(".live-responses-table .response-col_description .highlight-code");
        await answer.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var text = await answer.First.InnerTextAsync();
        await operation.ScrollIntoViewIfNeededAsync();
        var artefacts = Path.Combine(PostgresServer.RepositoryRoot, "TestResults");
        Directory.CreateDirectory(artefacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artefacts, "swagger-ui-condition-SMA.png"), FullPage = true });

        Assert.Contains("\"slug\": \"zolgensma\"", text, StringComparison.Ordinal);
        Assert.Contains("200", await operation.Locator(".live-responses-table tbody .response-col_status").First.InnerTextAsync(), StringComparison.Ordinal);
    }

    /// <summary>Debian's Chromium, headless, with nothing that reaches for the network on its own.</summary>
    public static BrowserTypeLaunchOptions LaunchOptions => new()
    {
        ExecutablePath = Chromium,
        Headless = true,
        Args =
        [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        ],
    };

    /// <summary>Debian's Chromium, installed here when missing and allowed (root), as .ci/run does.</summary>
    internal static void EnsureChromium()
    {
        if (File.Exists(Chromium))
        {
            return;
        }

        if (Environment.UserName == "root")
        {
            using var install = Process.Start("bash", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"])!;
            install.WaitForExit(TimeSpan.FromMinutes(10));
        }

        Assert.True(File.Exists(Chromium), $"This test needs Debian's Chromium at {Chromium}: apt-get install chromium");
    }
}
