using System.Diagnostics;

namespace TherapyCatalog.Tests.OpenApi;

/// <summary>
/// The pinned npm tools of a folder under tests/ (its package-lock.json): installed with
/// <c>npm ci</c> when node_modules is missing or older than the lock, then run from node_modules/.bin.
/// No telemetry: Redocly's and the Scarf postinstall's are turned off.
/// </summary>
internal static class NodeTools
{
    private static readonly Dictionary<string, string> Quiet = new()
    {
        ["REDOCLY_TELEMETRY"] = "off",
        ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true",
        ["SCARF_ANALYTICS"] = "false",
        ["NO_UPDATE_NOTIFIER"] = "1",
    };

    // Test classes run in parallel, and two npm ci in one folder at once break each other's node_modules (ENOTEMPTY).
    private static readonly SemaphoreSlim Installing = new(1, 1);

    public static async Task EnsureInstalledAsync(string folder)
    {
        await Installing.WaitAsync();
        try
        {
            var installed = Path.Combine(folder, "node_modules", ".package-lock.json");
            if (File.Exists(installed) && File.GetLastWriteTimeUtc(installed) >= File.GetLastWriteTimeUtc(Path.Combine(folder, "package-lock.json")))
            {
                return;
            }

            var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder);
            Assert.True(install.ExitCode == 0, $"npm ci in {folder} failed:\n{install.Output}");
        }
        finally
        {
            Installing.Release();
        }
    }

    public static Task<ToolRun> RunBinAsync(string folder, string tool, params string[] arguments) =>
        RunAsync(Path.Combine(folder, "node_modules", ".bin", tool), arguments, folder);

    public static async Task<ToolRun> RunAsync(string file, string[] arguments, string directory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var (key, value) in Quiet.Concat(environment ?? new Dictionary<string, string>()))
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        // A safety net for a hung tool, not a measure of speed.
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        return new ToolRun(process.ExitCode, await output, await errors);
    }
}

/// <summary>What a tool answered: its exit code, its standard output, and both streams for a failure message.</summary>
internal sealed record ToolRun(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;
}
