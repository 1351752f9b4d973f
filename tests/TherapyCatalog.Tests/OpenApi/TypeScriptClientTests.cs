using System.Text.RegularExpressions;
using TherapyCatalog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// A web app's client: tests/typescript-client/flows.ts, written against the types openapi-typescript
/// generates from the committed document and sent by openapi-fetch (versions pinned in its
/// package-lock.json), is type-checked by tsc in strict mode and then run by node against the real API
/// on a Kestrel port: search by condition paged by nextCursor, a 304 on If-None-Match, export + change
/// feed, create with Idempotency-Key, merge patch with If-Match, a member cleared by null, a stale
/// If-Match answered 412, delete.
/// </summary>
public partial class TypeScriptClientTests(KestrelCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<KestrelCatalogApiFactory>
{
    private static readonly string Folder = Path.Combine(PostgresServer.RepositoryRoot, "tests", "typescript-client");

    [Fact]
    public async Task The_typescript_flows_type_check_against_the_generated_types_and_run_against_the_api()
    {
        await NodeTools.EnsureInstalledAsync(Folder);
        var generated = await NodeTools.RunBinAsync(Folder, "openapi-typescript", OpenApiDocumentTests.CommittedPath, "--output", Path.Combine("generated", "catalog.d.ts"));
        Assert.True(generated.ExitCode == 0, $"openapi-typescript failed:\n{generated.Output}");

        // Strict, and noEmitOnError: a type error fails here and leaves no script to run.
        var compiled = await NodeTools.RunBinAsync(Folder, "tsc", "-p", "tsconfig.json");
        Assert.True(compiled.ExitCode == 0, $"tsc reports type errors in flows.ts against the generated types:\n{compiled.Output}");

        var key = await TestApiKeys.CreateAsync(api, ["catalog:write"]);
        var run = await NodeTools.RunAsync("node", [Path.Combine("dist", "flows.js")], Folder, new Dictionary<string, string>
        {
            ["CATALOG_URL"] = api.BaseAddress.ToString().TrimEnd('/'),
            ["CATALOG_API_KEY"] = key,
        });

        output.WriteLine(run.StandardOutput);
        Assert.True(run.ExitCode == 0, $"The TypeScript flows failed:\n{run.Output}");
        Assert.Contains("typescript client flows passed", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void The_typescript_flows_use_no_cast_and_no_escape_from_the_types()
    {
        var source = File.ReadAllText(Path.Combine(Folder, "flows.ts"));
        // Comments and string literals may say anything; the code may not cast (`as`, `<T>x`), use `any` or silence tsc.
        var code = CommentsAndLiterals().Replace(source, m => m.Value.StartsWith('/') ? " " : "''");

        Assert.NotEmpty(code.Trim());
        Assert.DoesNotMatch(@"\bas\s+(?!const\b)", code);
        Assert.DoesNotMatch(@"\bany\b", code);
        Assert.DoesNotMatch(@"@ts-(ignore|expect-error|nocheck)", source);
        Assert.DoesNotMatch(@"![.;,)\]]", code); // non-null assertions
        Assert.DoesNotContain("fetch(", code, StringComparison.Ordinal); // every request goes through the generated paths
    }

    // Left to right, whichever starts first: a comment, or a string or template literal.
    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`", RegexOptions.Singleline)]
    private static partial Regex CommentsAndLiterals();
}
