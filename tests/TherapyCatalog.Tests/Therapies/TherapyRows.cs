using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>Writes therapies straight through the service's one write path (<see cref="TherapyWrites"/>), for arranging tests.</summary>
public static class TherapyRows
{
    private static readonly Actor Tests = new("tests", null);

    /// <summary>A minimal valid body, written as a client would (members that are null left out).</summary>
    public static TherapyInput Input(string slug, string name, string conditionId, DateOnly approvedOn) =>
        new JsonObject
        {
            ["slug"] = slug, ["proprietaryName"] = name, ["properName"] = "testaleucel", ["manufacturer"] = "Test Manufacturer",
            ["modality"] = "cell", ["cellSource"] = "autologous", ["route"] = "intravenous",
            ["administration"] = new JsonObject
            {
                ["summary"] = "single infusion", ["requiresLeukapheresis"] = false, ["requiresLymphodepletion"] = false, ["rems"] = false,
            },
            ["indications"] = new JsonArray(new JsonObject { ["conditionId"] = conditionId, ["regulator"] = "FDA", ["approvedOn"] = JsonValue.Create(approvedOn) }),
            ["approvals"] = new JsonArray(new JsonObject { ["regulator"] = "FDA", ["approvedOn"] = JsonValue.Create(approvedOn), ["status"] = "approved" }),
            ["ndcs"] = new JsonArray(), ["status"] = "active", ["sources"] = new JsonArray("https://example.org/test"),
        }.Deserialize<TherapyInput>(CatalogJson.Options)!;

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
