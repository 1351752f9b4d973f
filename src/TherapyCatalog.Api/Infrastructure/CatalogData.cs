using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>A data file of db/data, embedded in this assembly: its name (<c>data/therapies/kymriah.json</c>), text and SHA-256.</summary>
public sealed record CatalogDataFile(string Name, string Content, string Sha256)
{
    /// <summary>The file as <typeparamref name="T"/>, read with the catalog's JSON rules; a file that does not fit says which and why.</summary>
    public T Parse<T>()
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Content, CatalogJson.Options) ?? throw new InvalidDataException($"{Name} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Name} is not a valid data file: {e.Message}", e);
        }
    }
}

/// <summary>
/// One kind of catalog data file, loaded by the feature that owns it (conditions, therapies).
/// <see cref="ApplyAsync"/> gets the files of <see cref="Folder"/> that changed since they were last
/// applied, and calls <c>journal</c> for each file in the transaction that applies it.
/// </summary>
public interface ICatalogDataSet
{
    /// <summary>The folder under db/data, e.g. <c>conditions</c>. Sets load in the order they are given.</summary>
    string Folder { get; }

    Task<int> ApplyAsync(NpgsqlConnection db, IReadOnlyList<CatalogDataFile> changed, CatalogData.Journal journal, CancellationToken ct);
}

/// <summary>
/// Loads the catalog data of db/data. A file is applied when its content hash differs from the one
/// journaled in <c>seed_journal</c>: loading twice changes nothing, and an edit made through the API
/// survives restarts until the file itself changes.
/// </summary>
public static class CatalogData
{
    /// <summary>Records in <c>seed_journal</c>, inside <paramref name="tx"/>, that <paramref name="file"/> is applied.</summary>
    public delegate Task Journal(NpgsqlTransaction tx, CatalogDataFile file);

    private const string JournalSql = "SELECT name AS Name, sha256 AS Sha256 FROM seed_journal";

    private const string RecordSql = """
        INSERT INTO seed_journal (name, sha256) VALUES (@Name, @Sha256)
        ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, applied_at = now()
        """;

    public static async Task LoadAsync(NpgsqlDataSource dataSource, IReadOnlyList<ICatalogDataSet> sets, ILogger logger, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        var journaled = (await db.QueryAsync<(string Name, string Sha256)>(new CommandDefinition(JournalSql, cancellationToken: ct)))
            .ToDictionary(j => j.Name, j => j.Sha256);
        Task Record(NpgsqlTransaction tx, CatalogDataFile file) =>
            db.ExecuteAsync(new CommandDefinition(RecordSql, file, tx, cancellationToken: ct));

        foreach (var set in sets)
        {
            var changed = Files(set.Folder).Where(f => !journaled.TryGetValue(f.Name, out var sha) || sha != f.Sha256).ToList();
            if (changed.Count == 0)
            {
                continue;
            }

            var written = await set.ApplyAsync(db, changed, Record, ct);
            logger.LogInformation("Catalog data: {Files} changed {Folder} files applied, {Records} records written", changed.Count, set.Folder, written);
        }
    }

    /// <summary>The data files of one folder of db/data, in name order.</summary>
    public static IEnumerable<CatalogDataFile> Files(string folder)
    {
        var prefix = $"data/{folder}/";
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var content = reader.ReadToEnd();
            yield return new CatalogDataFile(name, content, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content))));
        }
    }
}
