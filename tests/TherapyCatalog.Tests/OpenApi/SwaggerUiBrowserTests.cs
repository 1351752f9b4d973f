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

    /// <summary>
    /// A write in Swagger UI: the merge patch of a new therapy shows its If-Match field; executed
    /// without a key it is a 401, after <b>Authorize</b> with a catalog:write key a 200 that the
    /// service stored, and again with the same (now stale) If-Match a 412, so the field's value is sent.
    /// </summary>
    [Fact]
    public async Task Swagger_ui_patches_a_therapy_after_authorize_with_the_if_match_field()
    {
        EnsureChromium();
        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        using var client = api.CreateClient();
        var (id, etag) = await Therapies.TherapyBodies.CreateAsync(client, key, Therapies.TherapyBodies.NewCarT());
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(LaunchOptions);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 2600 } });
        await page.GotoAsync(new Uri(api.BaseAddress, "/swagger/index.html").ToString());

        var operation = page.Locator("#operations-Therapies-PatchTherapy");
        await operation.Locator(".opblock-summary").First.ClickAsync();
        var ifMatch = operation.Locator("tr[data-param-name='If-Match'] input");
        Assert.True(await ifMatch.IsVisibleAsync(), "The merge patch shows no If-Match field");
        await operation.Locator("tr[data-param-name='idOrSlug'] input").FillAsync(id);
        await ifMatch.FillAsync(etag);
        await operation.Locator("textarea.body-param__text").FillAsync("{\"target\": \"BCMA\"}");

        await ExecuteAsync(operation, "401");

        await page.Locator(".auth-wrapper button.authorize").ClickAsync();
        var dialog = page.Locator(".modal-ux");
        await dialog.Locator("input").First.FillAsync(key);
        await dialog.Locator("button.modal-btn.authorize").ClickAsync();
        await dialog.Locator("button.btn-done").ClickAsync();

        var patched = await ExecuteAsync(operation, "200");
        await operation.ScrollIntoViewIfNeededAsync();
        var artefacts = Path.Combine(PostgresServer.RepositoryRoot, "TestResults");
        Directory.CreateDirectory(artefacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artefacts, "swagger-ui-patch-if-match.png"), FullPage = true });
        Assert.Contains("\"target\": \"BCMA\"", patched, StringComparison.Ordinal);

        var stored = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync($"/v1/therapies/{id}"))!;
        Assert.Equal("BCMA", stored["target"]!.GetValue<string>());
        Assert.Equal(2, stored["version"]!.GetValue<int>());

        // The same If-Match again: the version it names is gone.
        await ExecuteAsync(operation, "412");
    }

    /// <summary>Runs the operation's request and waits for the answer of <paramref name="status"/>; returns its body as Swagger UI shows it.</summary>
    private static async Task<string> ExecuteAsync(ILocator operation, string status)
    {
        var clear = operation.Locator("button.btn-clear");
        if (await clear.CountAsync() > 0)
        {
            await clear.First.ClickAsync();
        }

        await operation.Locator("button.execute").ClickAsync();
        var answer = operation.Locator(".live-responses-table tbody tr.response", new LocatorLocatorOptions
        {
            Has = operation.Page.Locator(".response-col_status", new PageLocatorOptions { HasTextString = status }),
        });
        await answer.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        return await answer.First.Locator(".response-col_description .highlight-code").First.InnerTextAsync();
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
