using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Npgsql;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>A data file in db/data/therapies: the write body plus the product's stable id.</summary>
public sealed record TherapyDataFile(
    Guid Id, string Slug, string ProprietaryName, string ProperName, string Manufacturer, string Modality,
    string? CellSource, string? Delivery, string? Mechanism, string? Vector, string? VectorDetail, string? Target,
    string Route, Administration Administration, IReadOnlyList<IndicationInput> Indications,
    IReadOnlyList<Approval> Approvals, ListPrice? ListPrice, IReadOnlyList<string> Ndcs, string Status,
    IReadOnlyList<string> Sources)
    : TherapyInput(Slug, ProprietaryName, ProperName, Manufacturer, Modality, CellSource, Delivery, Mechanism, Vector,
        VectorDetail, Target, Route, Administration, Indications, Approvals, ListPrice, Ndcs, Status, Sources);

/// <summary>
/// Loads the catalog data of db/data (embedded in this assembly). A file is applied when its
/// content hash differs from the one journaled in <c>seed_journal</c>: loading twice changes
/// nothing, and an edit made through the API survives restarts until the file itself changes.
/// Therapies are written through <see cref="TherapyWrites"/>, so a data change reaches the
/// history and the change feed like any other write.
/// </summary>
public static class CatalogDataLoader
{
    private const string JournalSql = "SELECT name AS Name, sha256 AS Sha256 FROM seed_journal";

    private const string RecordSql = """
        INSERT INTO seed_journal (name, sha256) VALUES (@Name, @Sha256)
        ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, applied_at = now()
        """;

    public static async Task LoadAsync(NpgsqlDataSource dataSource, TimeProvider clock, ILogger logger, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        var journal = (await db.QueryAsync<JournalRow>(new CommandDefinition(JournalSql, cancellationToken: ct)))
            .ToDictionary(j => j.Name, j => j.Sha256);
        var pending = DataFiles().Where(f => !journal.TryGetValue(f.Name, out var sha) || sha != f.Sha256).ToList();

        // All condition files in one transaction: a parent may sit in another file.
        var conditionFiles = pending.Where(f => f.Name.StartsWith("data/conditions/", StringComparison.Ordinal)).ToList();
        if (conditionFiles.Count > 0)
        {
            await using var tx = await db.BeginTransactionAsync(ct);
            foreach (var file in conditionFiles)
            {
                await ConditionData.UpsertAsync(db, tx, Parse<List<ConditionRecord>>(file), ct);
                await db.ExecuteAsync(new CommandDefinition(RecordSql, file, tx, cancellationToken: ct));
            }

            await tx.CommitAsync(ct);
        }

        var validator = new TherapyInputValidator(clock);
        var written = 0;
        foreach (var file in pending.Where(f => f.Name.StartsWith("data/therapies/", StringComparison.Ordinal)))
        {
            var data = Parse<TherapyDataFile>(file);
            var problems = validator.Validate(data);
            if (!problems.IsValid)
            {
                throw new InvalidDataException($"{file.Name} breaks the catalog's rules: {problems}");
            }

            if (!file.Name.EndsWith($"/{data.Slug}.json", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{file.Name} holds slug '{data.Slug}': a therapy file is named after its slug.");
            }

            await using var tx = await db.BeginTransactionAsync(ct);
            var current = await TherapyWrites.LoadForUpdateAsync(db, tx, data.Id, ct);
            var next = await TherapyWrites.BuildAsync(db, tx, data.Id, data, current?.Therapy, TherapyWrites.Now(clock), ct);
            var changed = TherapyWrites.ChangedMembers(current?.Therapy, next);
            if (current is null || current.Value.Deleted || changed.Length > 0)
            {
                await TherapyWrites.WriteAsync(db, tx, next, current is null ? "create" : "update", changed, Actor.CatalogData, ct);
                written++;
            }

            await db.ExecuteAsync(new CommandDefinition(RecordSql, file, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }

        if (pending.Count > 0)
        {
            logger.LogInformation("Catalog data: {Files} changed files applied, {Therapies} therapies written", pending.Count, written);
        }
    }

    private static T Parse<T>(DataFile file)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(file.Content, CatalogJson.Options)
                   ?? throw new InvalidDataException($"{file.Name} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file.Name} is not a valid data file: {e.Message}", e);
        }
    }

    /// <summary>The data files embedded from db/data, in name order.</summary>
    internal static IEnumerable<DataFile> DataFiles()
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("data/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var content = reader.ReadToEnd();
            yield return new DataFile(name, content, Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(content))));
        }
    }

    internal sealed record DataFile(string Name, string Content, string Sha256);

    private sealed record JournalRow(string Name, string Sha256);
}
