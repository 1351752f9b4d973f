using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// The committed document (openapi/therapy-catalog.v1.json) is the one the service serves, covers
/// every route and status code the app maps, and passes an established linter.
/// Refresh it with: <c>CATALOG_WRITE_OPENAPI=1 dotnet test --filter OpenApiDocumentTests</c>.
/// </summary>
public class OpenApiDocumentTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private static readonly string[] KeyAnswers = ["401", "403"];

    public static readonly string CommittedPath = Path.Combine(PostgresServer.RepositoryRoot, "openapi", "therapy-catalog.v1.json");

    [Fact]
    public async Task The_served_document_equals_the_committed_one()
    {
        var served = JsonNode.Parse(await api.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        var pretty = served.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        if (Environment.GetEnvironmentVariable("CATALOG_WRITE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(CommittedPath, pretty);
        }

        Assert.True(File.Exists(CommittedPath), $"{CommittedPath} is missing: run CATALOG_WRITE_OPENAPI=1 dotnet test --filter OpenApiDocumentTests");
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(CommittedPath))!;
        Assert.True(JsonNode.DeepEquals(served, committed),
            "The served OpenAPI document differs from openapi/therapy-catalog.v1.json. If the change is intended, refresh it: " +
            "CATALOG_WRITE_OPENAPI=1 dotnet test --filter OpenApiDocumentTests, and review the diff.");
    }

    [Fact]
    public async Task The_server_is_the_public_base_url_when_set_and_relative_otherwise()
    {
        const string publicBaseUrl = "https://catalog.example.org/formulary";
        using var configured = api.WithWebHostBuilder(builder => builder.UseSetting("Catalog:PublicBaseUrl", publicBaseUrl + "/"));

        var absolute = JsonNode.Parse(await configured.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        var relative = JsonNode.Parse(await api.CreateClient().GetStringAsync("/openapi/v1.json"))!;

        // Without a trailing slash: a path (/v1/therapies) appended to it is the address, as the Link header builds it.
        Assert.Equal(publicBaseUrl, Assert.Single(absolute["servers"]!.AsArray())!["url"]!.GetValue<string>());
        Assert.Equal("/", Assert.Single(relative["servers"]!.AsArray())!["url"]!.GetValue<string>());
        // Nothing else depends on the setting, so the committed document (made without it) holds for every deployment but its server.
        absolute["servers"] = null;
        relative["servers"] = null;
        Assert.True(JsonNode.DeepEquals(absolute, relative));
    }

    [Fact]
    public void Every_mapped_route_and_status_code_is_in_the_document()
    {
        var document = JsonNode.Parse(File.ReadAllText(CommittedPath))!;
        var paths = document["paths"]!.AsObject();
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is not null)
            .ToList();
        Assert.NotEmpty(endpoints);

        var missing = new List<string>();
        foreach (var endpoint in endpoints)
        {
            // Route constraints ({id:guid}) are not part of an OpenAPI path.
            var path = "/" + System.Text.RegularExpressions.Regex.Replace(endpoint.RoutePattern.RawText!.Trim('/'), @"\{(\w+)(:[^}]+)?\}", "{$1}");
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
            {
                var operation = paths[path]?[method.ToLowerInvariant()];
                if (operation is null)
                {
                    missing.Add($"{method} {path}");
                    continue;
                }

                var documented = operation["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
                var declared = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Select(p => p.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
                missing.AddRange(declared.Where(s => !documented.Contains(s)).Select(s => $"{method} {path} {s}"));
                // What every route can answer whatever its handler says: an outage and an unexpected failure.
                if (!documented.Contains("500"))
                {
                    missing.Add($"{method} {path} 500");
                }

                if (path != "/health/live" && !documented.Contains("503"))
                {
                    missing.Add($"{method} {path} 503");
                }

                if (endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is not null)
                {
                    missing.AddRange(KeyAnswers.Where(s => !documented.Contains(s)).Select(s => $"{method} {path} {s}"));
                    if (operation["security"] is not JsonArray { Count: > 0 })
                    {
                        missing.Add($"{method} {path} security");
                    }
                }
                else if (operation["security"] is not JsonArray { Count: 0 })
                {
                    // Anonymous: `security: []` says so (no key), as linters and generated clients expect.
                    missing.Add($"{method} {path} claims a key it does not need");
                }
            }
        }

        Assert.Empty(missing);
    }

    private static readonly string Lint = Path.Combine(PostgresServer.RepositoryRoot, "tests", "openapi-lint");

    [Fact]
    public async Task The_committed_document_passes_the_linter_with_zero_errors()
    {
        await NodeTools.EnsureInstalledAsync(Lint);

        var result = await NodeTools.RunBinAsync(Lint, "spectral",
            "lint", CommittedPath, "--ruleset", Path.Combine(Lint, ".spectral.yaml"), "--fail-severity", "error", "--format", "text");

        Assert.True(result.ExitCode == 0, $"Spectral reports errors:\n{result.Output}");
    }

    /// <summary>Redocly CLI's <c>recommended</c> ruleset (what Redocly's docs and registry check): no error.</summary>
    [Fact]
    public async Task The_committed_document_passes_redocly_recommended_rules_with_zero_errors()
    {
        await NodeTools.EnsureInstalledAsync(Lint);

        var result = await NodeTools.RunBinAsync(Lint, "redocly",
            "lint", CommittedPath, "--extends", "recommended", "--format", "json");

        // JSON output: { "totals": { "errors": N, "warnings": N, "ignored": N }, "problems": [...] }.
        var start = result.StandardOutput.IndexOf('{');
        Assert.True(start >= 0, $"Redocly printed no report (exit {result.ExitCode}):\n{result.Output}");
        var report = JsonNode.Parse(result.StandardOutput[start..])!;
        var errors = report["problems"]!.AsArray().Where(p => p!["severity"]!.GetValue<string>() == "error")
            .Select(p => $"{p!["ruleId"]}: {p["message"]} at {p["location"]?[0]?["pointer"]}").ToList();

        Assert.Empty(errors);
        Assert.Equal(0, report["totals"]!["errors"]!.GetValue<int>());
        Assert.True(result.ExitCode == 0, $"redocly lint exited {result.ExitCode}:\n{result.Output}");
    }
}
