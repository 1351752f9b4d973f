using System.Diagnostics;
using Npgsql;

namespace TherapyCatalog.Tests.Reliability;

/// <summary>
/// A PostgreSQL cluster of one test class, made by db/local-postgres.sh in its own folder under the
/// temp folder, so the test can stop and start a real server without touching the run's shared one.
/// Destroyed on dispose.
/// </summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private PrivateCluster(string directory) => Directory = directory;

    /// <summary>The folder holding the cluster (data/, port, the socket).</summary>
    public string Directory { get; }

    public int Port => int.Parse(File.ReadAllText(Path.Combine(Directory, "port")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The connection string of the catalog database in this cluster.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Database = "therapy_catalog",
    }.ConnectionString;

    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>A new cluster's folder; <see cref="Start"/> makes and starts it.</summary>
    public static PrivateCluster Create(string purpose) =>
        new(Path.Combine(Path.GetTempPath(), $"therapy-catalog-{purpose}-{Guid.NewGuid().ToString("N")[..8]}"));

    /// <summary>Why a cluster cannot be made on this machine, or null when it can.</summary>
    public static string? Unavailable { get; } = FindBinaries() is null
        ? "no PostgreSQL server binaries (initdb, pg_ctl) on this machine: install the 'postgresql' package"
        : null;

    public static string BinDirectory => FindBinaries() ?? throw new InvalidOperationException(Unavailable);

    public void Start() => Script("start");

    /// <summary>Makes the (empty) folder, owned by the cluster's owner, e.g. for pg_basebackup to fill data/.</summary>
    public void MakeDirectory()
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (Environment.UserName == "root")
        {
            Run(new ProcessStartInfo("chown", ["postgres", Directory]), throwOnFailure: true);
        }
    }

    public void Stop() => Script("stop");

    public bool Running() => Script("status", throwOnFailure: false) == 0;

    /// <summary>Runs a PostgreSQL program as the cluster's owner (the postgres user when the tests run as root).</summary>
    public static void RunAsOwner(string program, params string[] arguments)
    {
        var root = Environment.UserName == "root";
        var start = root
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, program), .. arguments])
            : new ProcessStartInfo(Path.Combine(BinDirectory, program), arguments);
        Run(start, throwOnFailure: true);
    }

    private int Script(string command, bool throwOnFailure = true)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Infrastructure.PostgresServer.RepositoryRoot, "db", "local-postgres.sh"), command]);
        start.Environment["CATALOG_PG_DIR"] = Directory;
        start.Environment["CATALOG_PG_FAST"] = "1";
        return Run(start, throwOnFailure);
    }

    private static int Run(ProcessStartInfo start, bool throwOnFailure)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (throwOnFailure && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {errors.Result}{output.Result}");
        }

        return process.ExitCode;
    }

    private static string? FindBinaries()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("CATALOG_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        if (System.IO.Directory.Exists("/usr/lib/postgresql"))
        {
            var newest = System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .FirstOrDefault(d => d.Length > 0 && File.Exists(Path.Combine(d, "initdb")));
    }

    public ValueTask DisposeAsync()
    {
        Script("destroy", throwOnFailure: false);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A fact that needs PostgreSQL's server binaries to make a private cluster; skipped with the reason otherwise.</summary>
public sealed class PrivateClusterFactAttribute : FactAttribute
{
    public PrivateClusterFactAttribute()
    {
        if (PrivateCluster.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
