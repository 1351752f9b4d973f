using Dapper;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Conditions;

/// <summary>
/// A condition as a data file in db/data/conditions holds it. <c>parents</c> are the broader
/// conditions it is a kind of (several: small lymphocytic lymphoma is a lymphoma, CLL a leukemia);
/// <c>note</c> says why a code or a place in the hierarchy was chosen, <c>sources</c> where it comes from.
/// </summary>
public sealed record ConditionRecord(
    string Id, string Name, string? Icd10, IReadOnlyList<string> Synonyms, IReadOnlyList<string> Parents,
    string? Note = null, IReadOnlyList<string>? Sources = null)
{
    /// <summary>An ICD-10(-CM) code or category, e.g. <c>C83.3</c> or <c>C82</c>.</summary>
    public const string Icd10Pattern = @"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$";
}

/// <summary>The condition files of db/data/conditions: all of them in one transaction, since a parent may sit in another file.</summary>
public sealed class ConditionData : ICatalogDataSet
{
    public string Folder => "conditions";

    public async Task<int> ApplyAsync(NpgsqlConnection db, IReadOnlyList<CatalogDataFile> changed, CatalogData.Journal journal, CancellationToken ct)
    {
        var written = 0;
        await using var tx = await db.BeginTransactionAsync(ct);
        foreach (var file in changed)
        {
            var conditions = file.Parse<List<ConditionRecord>>();
            await UpsertAsync(db, tx, conditions, ct);
            await journal(tx, file);
            written += conditions.Count;
        }

        await tx.CommitAsync(ct);
        return written;
    }

    /// <summary>Every condition of the data files, by id (for examples, which need no database).</summary>
    public static IReadOnlyDictionary<string, ConditionRecord> FromFiles() =>
        CatalogData.Files("conditions").SelectMany(f => f.Parse<List<ConditionRecord>>()).ToDictionary(c => c.Id);

    // The parent keys are deferred to commit, so the rows of a file may come in any order.
    // conditions.parent_id is the first parent (the older shape); condition_parents holds them all.
    private const string UpsertSql = """
        INSERT INTO conditions (id, name, icd10, synonyms, parent_id)
        SELECT c.id, c.name, c.icd10, string_to_array(c.synonyms, E'\x1f'), nullif(split_part(c.parents, E'\x1f', 1), '')
        FROM unnest(@Ids, @Names, @Icd10s, @Synonyms, @Parents) AS c(id, name, icd10, synonyms, parents)
        ON CONFLICT (id) DO UPDATE SET
            name = excluded.name, icd10 = excluded.icd10, synonyms = excluded.synonyms, parent_id = excluded.parent_id;

        DELETE FROM condition_parents WHERE condition_id = ANY(@Ids);

        INSERT INTO condition_parents (condition_id, parent_id, ordinal)
        SELECT c.id, p.parent_id, p.ordinal - 1
        FROM unnest(@Ids, @Parents) AS c(id, parents)
        CROSS JOIN LATERAL unnest(string_to_array(nullif(c.parents, ''), E'\x1f')) WITH ORDINALITY AS p(parent_id, ordinal);
        """;

    public static Task UpsertAsync(NpgsqlConnection db, NpgsqlTransaction tx, IReadOnlyList<ConditionRecord> conditions, CancellationToken ct) =>
        db.ExecuteAsync(new CommandDefinition(UpsertSql, new
        {
            Ids = conditions.Select(c => c.Id).ToArray(),
            Names = conditions.Select(c => c.Name).ToArray(),
            Icd10s = conditions.Select(c => c.Icd10).ToArray(),
            // unnest cannot take an array of arrays of different lengths: join each list with the unit separator.
            Synonyms = conditions.Select(c => string.Join('\x1f', c.Synonyms)).ToArray(),
            Parents = conditions.Select(c => string.Join('\x1f', c.Parents)).ToArray(),
        }, tx, cancellationToken: ct));
}
