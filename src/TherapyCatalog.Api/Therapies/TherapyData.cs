using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The therapy files of db/data/therapies: each is the write body (<see cref="TherapyInput"/>) plus
/// the product's stable <c>id</c>, checked by the API's own validator and written through
/// <see cref="TherapyWrites"/>, so a data change reaches the history and the change feed like any
/// other write. A member left out of a file gets the value it would get left out of a request body.
/// </summary>
public sealed class TherapyData(TimeProvider clock) : ICatalogDataSet
{
    public string Folder => "therapies";

    /// <summary>A data file's id and write body.</summary>
    public static (Guid Id, TherapyInput Input) Read(CatalogDataFile file)
    {
        var body = file.Parse<JsonObject>();
        var id = body["id"]?.GetValue<string>() is { } text && Guid.TryParse(text, out var parsed)
            ? parsed
            : throw new InvalidDataException($"{file.Name} needs an 'id' (a uuid, generated once and never changed).");
        body.Remove("id");
        try
        {
            return (id, body.Deserialize<TherapyInput>(CatalogJson.Options) ?? throw new InvalidDataException($"{file.Name} is empty."));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file.Name} is not a valid data file: {e.Message}", e);
        }
    }

    public async Task<int> ApplyAsync(NpgsqlConnection db, IReadOnlyList<CatalogDataFile> changed, CatalogData.Journal journal, CancellationToken ct)
    {
        var validator = new TherapyInputValidator(clock);
        var written = 0;
        foreach (var file in changed)
        {
            var (id, input) = Read(file);
            var problems = await validator.ValidateAsync(input, ct);
            if (!problems.IsValid)
            {
                throw new InvalidDataException($"{file.Name} breaks the catalog's rules: {problems}");
            }

            if (!file.Name.EndsWith($"/{input.Slug}.json", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{file.Name} holds slug '{input.Slug}': a therapy file is named after its slug.");
            }

            await using var tx = await db.BeginTransactionAsync(ct);
            var current = await TherapyWrites.LoadForUpdateAsync(db, tx, id, ct);
            var next = await TherapyWrites.BuildAsync(db, tx, id, input, current?.Therapy, TherapyWrites.Now(clock), ct);
            var changedMembers = TherapyWrites.ChangedMembers(current?.Therapy, next);
            if (current is null || current.Value.Deleted || changedMembers.Length > 0)
            {
                await TherapyWrites.WriteAsync(db, tx, next, current is null ? "create" : "update", changedMembers, Actor.CatalogData, ct);
                written++;
            }

            await journal(tx, file);
            await tx.CommitAsync(ct);
        }

        return written;
    }
}
