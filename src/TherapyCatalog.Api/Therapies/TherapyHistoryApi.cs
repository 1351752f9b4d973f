using System.Text.Json;
using Dapper;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>Every version of a therapy, oldest first.</summary>
public sealed record TherapyHistory(IReadOnlyList<TherapyVersion> Items);

/// <summary>One version: what it was, how it came about (create, update, delete), when, by which key, and which members changed.</summary>
public sealed record TherapyVersion(int Version, string Kind, DateTimeOffset ChangedAt, string ChangedBy, IReadOnlyList<string> ChangedMembers, Therapy Therapy);

/// <summary><c>GET /v1/therapies/{idOrSlug}/history</c>: every version a therapy has had, deleted ones included.</summary>
public static class TherapyHistoryApi
{
    private const string HistorySql = """
        SELECT v.version AS Version, v.kind AS Kind, v.changed_at AS ChangedAt, v.changed_by AS ChangedBy,
               v.changed_members AS ChangedMembers, v.document::text AS Document
        FROM therapy_versions v
        WHERE v.therapy_id = @Id
        ORDER BY v.version
        """;

    private const string FindIdSql = "SELECT id FROM therapies WHERE slug = @Slug AND deleted_at IS NULL";

    /// <summary>Every version of a therapy, oldest first: its representation, what changed, when and by which key.</summary>
    public static async Task<IResult> GetHistory(string idOrSlug, [FromKeyedServices(CatalogDatabase.Reads)] NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        if (!Guid.TryParse(idOrSlug, out var id))
        {
            if (TherapiesApi.ReadSlug(idOrSlug) is not { } slug)
            {
                return TherapiesApi.InvalidIdOrSlug();
            }

            id = await db.QuerySingleOrDefaultAsync<Guid>(new CommandDefinition(FindIdSql, new { Slug = slug }, cancellationToken: ct));
        }

        var rows = (await db.QueryAsync<HistoryRow>(new CommandDefinition(HistorySql, new { Id = id }, cancellationToken: ct))).ToList();
        if (rows.Count == 0)
        {
            return TherapiesApi.NotFound(idOrSlug);
        }

        return TypedResults.Ok(new TherapyHistory([.. rows.Select(r => new TherapyVersion(
            r.Version, r.Kind, new DateTimeOffset(r.ChangedAt, TimeSpan.Zero), r.ChangedBy, r.ChangedMembers,
            JsonSerializer.Deserialize<Therapy>(r.Document, CatalogJson.Options)!))]));
    }

    // A class, not a positional record: Dapper hands text[] over as an array to a property setter only.
    private sealed class HistoryRow
    {
        public int Version { get; init; }
        public string Kind { get; init; } = "";
        public DateTime ChangedAt { get; init; }
        public string ChangedBy { get; init; } = "";
        public string[] ChangedMembers { get; init; } = [];
        public string Document { get; init; } = "";
    }
}
