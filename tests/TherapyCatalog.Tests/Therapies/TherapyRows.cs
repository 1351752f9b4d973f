using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>Writes therapies straight through the service's one write path (<see cref="TherapyWrites"/>), for arranging tests.</summary>
public static class TherapyRows
{
    private static readonly Actor Tests = new("tests", null);

    public static TherapyInput Input(string slug, string name, string conditionId, DateOnly approvedOn) => new(
        slug, name, "testaleucel", "Test Manufacturer", "cell", "autologous", null, null, null, null, null, "intravenous",
        new Administration("single infusion", null, false, false, false),
        [new IndicationInput(conditionId, null, "FDA", approvedOn)],
        [new Approval("FDA", null, approvedOn, "approved")],
        null, [], "active", ["https://example.org/test"]);

    public static async Task<Guid> InsertAsync(string connectionString, TherapyInput input)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var id = Guid.NewGuid();
        var therapy = await TherapyWrites.BuildAsync(db, tx, id, input, null, TherapyWrites.Now(TimeProvider.System), default);
        await TherapyWrites.WriteAsync(db, tx, therapy, "create", TherapyWrites.ChangedMembers(null, therapy), Tests, default);
        await tx.CommitAsync();
        return id;
    }

    /// <summary>A soft delete, as DELETE /v1/therapies/{id} does: a new version that is a tombstone.</summary>
    public static async Task DeleteAsync(string connectionString, Guid id)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var current = (await TherapyWrites.LoadForUpdateAsync(db, tx, id, default))!.Value.Therapy;
        var deleted = current with { Version = current.Version + 1, UpdatedAt = TherapyWrites.Now(TimeProvider.System) };
        await TherapyWrites.WriteAsync(db, tx, deleted, "delete", [], Tests, default);
        await tx.CommitAsync();
    }
}
