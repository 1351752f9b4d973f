using Dapper;
using Npgsql;

namespace TherapyCatalog.Api.Conditions;

/// <summary>A condition as a data file in db/data/conditions holds it.</summary>
public sealed record ConditionRecord(string Id, string Name, string? Icd10, IReadOnlyList<string> Synonyms, string? Parent);

public static class ConditionData
{
    // The parent key is deferred to commit, so the rows of a file may come in any order.
    private const string UpsertSql = """
        INSERT INTO conditions (id, name, icd10, synonyms, parent_id)
        SELECT c.id, c.name, c.icd10, string_to_array(c.synonyms, E'\x1f'), c.parent_id
        FROM unnest(@Ids, @Names, @Icd10s, @Synonyms, @Parents) AS c(id, name, icd10, synonyms, parent_id)
        ON CONFLICT (id) DO UPDATE SET
            name = excluded.name, icd10 = excluded.icd10, synonyms = excluded.synonyms, parent_id = excluded.parent_id
        """;

    public static Task UpsertAsync(NpgsqlConnection db, NpgsqlTransaction tx, IReadOnlyList<ConditionRecord> conditions, CancellationToken ct) =>
        db.ExecuteAsync(new CommandDefinition(UpsertSql, new
        {
            Ids = conditions.Select(c => c.Id).ToArray(),
            Names = conditions.Select(c => c.Name).ToArray(),
            Icd10s = conditions.Select(c => c.Icd10).ToArray(),
            // unnest cannot take an array of arrays of different lengths: join each list with the unit separator.
            Synonyms = conditions.Select(c => string.Join('\x1f', c.Synonyms)).ToArray(),
            Parents = conditions.Select(c => c.Parent).ToArray(),
        }, tx, cancellationToken: ct));
}
