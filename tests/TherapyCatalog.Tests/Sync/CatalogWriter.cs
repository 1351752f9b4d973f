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

    // On this branch's base, TherapyWrites.LoadForUpdateAsync joins therapies to therapy_versions
    // FOR UPDATE OF t: when it waits for another writer's lock, READ COMMITTED re-checks the join
    // against the new therapies row but the old version row and returns no row at all (as if the
    // therapy did not exist). Locking the row first, in its own statement, makes the load see the
    // committed state. main has since split LoadForUpdateAsync the same way; the extra lock is then
    // redundant and harmless, and can go after the merge.
    private const string LockSql = "SELECT 1 FROM therapies WHERE id = @Id FOR UPDATE";

    private static async Task<(Therapy Therapy, bool Deleted)?> LockAndLoadAsync(NpgsqlConnection db, NpgsqlTransaction tx, Guid id, CancellationToken ct)
    {
        await db.ExecuteAsync(new CommandDefinition(LockSql, new { Id = id }, tx, cancellationToken: ct));
        return await TherapyWrites.LoadForUpdateAsync(db, tx, id, ct);
    }

    public static async Task<Therapy> ReadAsync(NpgsqlConnection db, string slug) =>
        JsonSerializer.Deserialize<Therapy>(await db.QuerySingleAsync<string>(CurrentDocumentSql, new { Slug = slug }), CatalogJson.Options)!;

    /// <summary>The write body that gives a therapy its present state, to change from.</summary>
    public static TherapyInput InputFrom(Therapy t) => new(
        t.Slug, t.ProprietaryName, t.ProperName, t.Manufacturer, t.Modality, t.CellSource, t.Delivery, t.Mechanism, t.Vector,
        t.VectorDetail, t.Target, t.Route, t.Administration,
        [.. t.Indications.Select(i => new IndicationInput(i.ConditionId, i.Population, i.Regulator, i.ApprovedOn))],
        t.Approvals, t.ListPrice, t.Ndcs, t.Status, t.Sources);

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
        if (await LockAndLoadAsync(db, tx, id, ct) is not { Deleted: false } current)
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
        if (await LockAndLoadAsync(db, tx, id, ct) is not { Deleted: false } current)
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
