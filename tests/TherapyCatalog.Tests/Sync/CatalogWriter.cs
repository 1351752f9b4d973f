using System.Text.Json;
using Dapper;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.Sync;

/// <summary>
/// Writes therapies through the service's own write path (<see cref="TherapyWrites"/>) on a
/// connection and transaction the test controls, so a test can hold a transaction open, commit it
/// late or roll it back.
/// </summary>
internal static class CatalogWriter
{
    private static readonly Actor Tests = new("sync-tests", null);

    private const string CurrentDocumentSql = """
        SELECT v.document::text
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.slug = @Slug AND t.deleted_at IS NULL
        """;

    public static async Task<Therapy> ReadAsync(NpgsqlConnection db, string slug) =>
        JsonSerializer.Deserialize<Therapy>(await db.QuerySingleAsync<string>(CurrentDocumentSql, new { Slug = slug }), CatalogJson.Options)!;

    /// <summary>The write body that gives a therapy its present state, to change from.</summary>
    public static TherapyInput InputFrom(Therapy t) => t.ToInput();

    public static async Task<Therapy> CreateAsync(NpgsqlConnection db, NpgsqlTransaction tx, TherapyInput input, CancellationToken ct = default)
    {
        var id = Guid.NewGuid();
        var next = await TherapyWrites.BuildAsync(db, tx, id, input, null, TherapyWrites.Now(TimeProvider.System), ct);
        await TherapyWrites.WriteAsync(db, tx, next, "create", TherapyWrites.ChangedMembers(null, next), Tests, ct);
        return next;
    }

    /// <summary>Writes the next version of a live therapy; null when it is missing or deleted.</summary>
    public static async Task<Therapy?> UpdateAsync(
        NpgsqlConnection db, NpgsqlTransaction tx, Guid id, Func<TherapyInput, TherapyInput> change, CancellationToken ct = default)
    {
        if (await TherapyWrites.LoadForUpdateAsync(db, tx, id, ct) is not { Deleted: false } current)
        {
            return null;
        }

        var next = await TherapyWrites.BuildAsync(db, tx, id, change(InputFrom(current.Therapy)), current.Therapy, TherapyWrites.Now(TimeProvider.System), ct);
        await TherapyWrites.WriteAsync(db, tx, next, "update", TherapyWrites.ChangedMembers(current.Therapy, next), Tests, ct);
        return next;
    }

    /// <summary>Soft-deletes a live therapy (a tombstone version); null when it is missing or already deleted.</summary>
    public static async Task<Therapy?> DeleteAsync(NpgsqlConnection db, NpgsqlTransaction tx, Guid id, CancellationToken ct = default)
    {
        if (await TherapyWrites.LoadForUpdateAsync(db, tx, id, ct) is not { Deleted: false } current)
        {
            return null;
        }

        var tombstone = current.Therapy with { Version = current.Therapy.Version + 1, UpdatedAt = TherapyWrites.Now(TimeProvider.System) };
        await TherapyWrites.WriteAsync(db, tx, tombstone, "delete", [], Tests, ct);
        return tombstone;
    }

    /// <summary>A fresh, unique slug for a created therapy.</summary>
    public static string NewSlug(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}";
}
