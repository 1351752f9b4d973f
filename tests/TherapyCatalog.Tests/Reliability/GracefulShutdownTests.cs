using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TherapyCatalog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>
/// The API as a real process (the built dll under <c>dotnet</c>) on a free loopback port and a
/// database of its own: SIGTERM, as an orchestrator sends it, lets a request in flight finish and
/// the process exit 0.
/// </summary>
public class GracefulShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ShutdownLimit = TimeSpan.FromSeconds(30); // the host's default shutdown timeout

    [Fact]
    public async Task Sigterm_lets_an_in_flight_long_poll_finish_with_200_and_the_process_exit_0()
    {
        var database = await PostgresServer.CreateCatalogDatabaseAsync();
        var port = FreePort();
        using var api = StartApi(database, port);
        try
        {
            await SignalDuringALongPollAsync(api, port);
        }
        finally
        {
            if (!api.HasExited)
            {
                api.Kill(entireProcessTree: true); // the test failed before the process ended: leave nothing running
            }
        }
    }

    private async Task SignalDuringALongPollAsync(Process api, int port)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilLiveAsync(http, api);
        using var export = await http.GetAsync("/v1/export?format=ndjson");
        var head = export.Headers.GetValues("X-Catalog-Cursor").Single();

        // Nothing is written, so the long poll holds the request for its whole wait.
        var clock = Stopwatch.StartNew();
        var inFlight = http.GetAsync($"/v1/changes?after={Uri.EscapeDataString(head)}&wait=5");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(inFlight.IsCompleted, "the long poll answered before the signal");
        var signalledAt = clock.Elapsed;
        using (var kill = Process.Start("kill", ["-TERM", api.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var answer = await inFlight;
        var answeredAt = clock.Elapsed;
        using var exitWait = new CancellationTokenSource(ShutdownLimit);
        await api.WaitForExitAsync(exitWait.Token);
        var exitedAt = clock.Elapsed;

        output.WriteLine($"SIGTERM {signalledAt.TotalMilliseconds:F0} ms into a 5 s long poll; the poll answered {(int)answer.StatusCode} " +
                         $"{(answeredAt - signalledAt).TotalMilliseconds:F0} ms after the signal; the process exited {api.ExitCode} " +
                         $"{(exitedAt - signalledAt).TotalMilliseconds:F0} ms after the signal");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("\"changes\"", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, api.ExitCode);
    }

    private static Process StartApi(string connectionString, int port)
    {
        // The API project's own build output (same configuration as the tests), run as production runs it.
        var testOutput = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testOutput))!;
        var dll = Path.Combine(PostgresServer.RepositoryRoot, "src", "TherapyCatalog.Api", "bin", configuration, Path.GetFileName(testOutput), "TherapyCatalog.Api.dll");
        Assert.True(File.Exists(dll), $"the API is built: {dll}");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ConnectionStrings__Catalog"] = connectionString;
        start.Environment["Catalog__MigrateOnStartup"] = "false";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Catalog__CursorKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilLiveAsync(HttpClient http, Process api)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(api.HasExited, $"the API exited at start-up with {(api.HasExited ? api.ExitCode : 0)}");
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the API did not start within 60 s");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
