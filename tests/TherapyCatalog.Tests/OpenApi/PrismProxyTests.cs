using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TherapyCatalog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// Prism's validating proxy (<c>@stoplight/prism-cli</c>, pinned in tests/openapi-lint) in front of
/// the API on a Kestrel port, checking every answer against the committed document: a real NDJSON
/// export, a search whose items carry <c>matchedConditions</c>, and one therapy pass with no violation.
/// </summary>
public class PrismProxyTests(KestrelCatalogApiFactory api, ITestOutputHelper output) : IClassFixture<KestrelCatalogApiFactory>
{
    private static readonly string Lint = Path.Combine(PostgresServer.RepositoryRoot, "tests", "openapi-lint");

    [Theory]
    [InlineData("/v1/export?format=ndjson", "application/x-ndjson", "\"slug\":\"zolgensma\"")]
    [InlineData("/v1/therapies?condition=SMA", "application/json", "\"matchedConditions\"")]
    [InlineData("/v1/therapies/kymriah", "application/json", "\"slug\":\"kymriah\"")]
    public async Task Prism_finds_no_violation_in_a_real_answer(string path, string mediaType, string expected)
    {
        await NodeTools.EnsureInstalledAsync(Lint);
        var port = FreePort();
        var start = new ProcessStartInfo(Path.Combine(Lint, "node_modules", ".bin", "prism"),
            ["proxy", OpenApiDocumentTests.CommittedPath, api.BaseAddress.ToString().TrimEnd('/'), "--errors", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            WorkingDirectory = Lint, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var prism = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        prism.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prism.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prism.BeginOutputReadLine();
        prism.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            client.DefaultRequestHeaders.Accept.ParseAdd(mediaType);
            using var response = await SendWhenListeningAsync(client, path, prism);

            var body = await response.Content.ReadAsStringAsync();
            var violations = response.Headers.TryGetValues("sl-violations", out var values) ? string.Join(" ", values) : "";
            output.WriteLine($"{path}: {(int)response.StatusCode}, {body.Length} characters, violations: {(violations.Length == 0 ? "none" : violations)}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Through Prism {path} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 2000)]}\n{log}");
            Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.True(violations.Length == 0, $"Prism reports violations for {path}: {violations}");
            Assert.Contains(expected, body, StringComparison.Ordinal);
        }
        finally
        {
            prism.Kill(entireProcessTree: true);
            await prism.WaitForExitAsync();
        }
    }

    /// <summary>Prism takes a moment to read the document: the first request is retried until its port answers (or Prism exits).</summary>
    private static async Task<HttpResponseMessage> SendWhenListeningAsync(HttpClient client, string path, Process prism)
    {
        // A safety net for a Prism that never listens, not a measure of speed.
        for (var attempt = 0; attempt < 600; attempt++)
        {
            try
            {
                return await client.GetAsync(path);
            }
            catch (HttpRequestException) when (!prism.HasExited)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("Prism did not start listening.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
