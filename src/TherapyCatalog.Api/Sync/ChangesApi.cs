using System.Data;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Sync;

/// <summary>One entry of the change feed: an <c>upsert</c> or a <c>delete</c> (a tombstone). <c>therapy</c> is the stored document of that version; null for a delete.</summary>
public sealed record ChangeItem(
    string Cursor,
    string Kind,
    Guid TherapyId,
    int Version,
    DateTimeOffset ChangedAt,
    TherapyDocument? Therapy)
{
    public const string Upsert = "upsert";
    public const string Delete = "delete";

    /// <summary>Every <see cref="Kind"/> the feed writes (the document's enum).</summary>
    public static readonly string[] Kinds = [Upsert, Delete];
}

/// <summary>
/// A page of the change feed. <c>nextCursor</c> is the position to ask from next, also when
/// the page is empty: the last change returned, or, when the page is not full, the last settled
/// change (which may be one left out as overtaken), or else the <c>after</c> cursor unchanged.
/// </summary>
public sealed record ChangesPage(IReadOnlyList<ChangeItem> Changes, string NextCursor);

/// <summary>
/// A therapy document exactly as stored (therapy_versions.document): written into responses as
/// raw JSON, never parsed and serialized again, so what a client mirrors is byte for byte what
/// the server holds.
/// </summary>
[JsonConverter(typeof(TherapyDocumentConverter))]
public sealed record TherapyDocument(string Json);

internal sealed class TherapyDocumentConverter : JsonConverter<TherapyDocument>
{
    public override TherapyDocument Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new TherapyDocument(document.RootElement.GetRawText());
    }

    // The json column validated the text when it was stored.
    public override void Write(Utf8JsonWriter writer, TherapyDocument value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Json, skipInputValidation: true);
}

public static class ChangesApi
{
    public static readonly PageLimits Limits = new(Default: 100, Max: 1000);
    public const int MaxWaitSeconds = 30;

    /// <summary>How often a long poll looks again when no notification arrives (the watermark moves silently on rollback).</summary>
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Whether a cursor still names a change the server has.</summary>
    private const string PositionExistsSql = """
        SELECT EXISTS (SELECT 1 FROM changes WHERE txid = @Txid::text::xid8 AND seq = @Seq)
        """;

    /// <summary>
    /// The changes after a position, in (transaction id, sequence) order, and only those of
    /// transactions older than the oldest one still running (the watermark,
    /// pg_snapshot_xmin(pg_current_snapshot())). Every transaction below the watermark has ended, so
    /// every change below it is already visible to this statement and no change can appear later
    /// below a position handed out: a transaction that began early and commits late holds the
    /// watermark back until it ends, so it is never skipped. Rolled-back transactions simply never
    /// show. The NOT EXISTS leaves out a change already overtaken by a newer version of the same
    /// therapy at an earlier position (possible when a transaction writes several therapies): a client
    /// would have to ignore it anyway, and leaving it out keeps every therapy's versions increasing
    /// along the feed, which the export's cursor relies on (see ExportApi).
    /// </summary>
    private const string ChangesSql = """
        SELECT c.txid::text AS Txid, c.seq AS Seq, c.therapy_id AS TherapyId, c.version AS Version,
               v.kind AS Kind, v.changed_at AS ChangedAt, v.document::text AS Document
        FROM changes c
        JOIN therapy_versions v ON v.therapy_id = c.therapy_id AND v.version = c.version
        WHERE (c.txid, c.seq) > (@Txid::text::xid8, @Seq)
          AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
          AND NOT EXISTS (
              SELECT 1 FROM changes newer
              WHERE newer.therapy_id = c.therapy_id
                AND newer.version > c.version
                AND (newer.txid, newer.seq) < (c.txid, c.seq))
        ORDER BY c.txid, c.seq
        LIMIT @Limit
        """;

    /// <summary>
    /// The last settled position after @Txid/@Seq, left-out changes included. Asked in the same
    /// snapshot as <see cref="ChangesSql"/> when a page is not full, so an empty page still moves the
    /// cursor past changes that were left out, and never past one that was not handed out.
    /// </summary>
    private const string LastSettledSql = """
        SELECT c.txid::text AS Txid, c.seq AS Seq
        FROM changes c
        WHERE (c.txid, c.seq) > (@Txid::text::xid8, @Seq)
          AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY c.txid DESC, c.seq DESC
        LIMIT 1
        """;

    public static async Task<Results<Ok<ChangesPage>, ValidationProblem, ProblemHttpResult>> GetChanges(
        string? after, string? limit, string? wait, NpgsqlDataSource dataSource, OpaqueCursor cursors, ChangeSignal signal,
        ChangeFeedLag lag, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var take = Limits.Take(limit, errors);
        var waitSeconds = 0;
        if (wait is not null && (!int.TryParse(wait, NumberStyles.None, CultureInfo.InvariantCulture, out waitSeconds) || waitSeconds > MaxWaitSeconds))
        {
            errors["wait"] = [$"'wait' must be a whole number of seconds from 0 to {MaxWaitSeconds}."];
        }

        var position = ChangeFeedPosition.Start;
        if (after is not null)
        {
            if (ChangeFeedPosition.Decode(cursors, after) is { } decoded)
            {
                position = decoded;
            }
            else
            {
                errors["after"] = ["'after' must be a cursor this service handed out (a change's cursor, nextCursor or X-Catalog-Cursor), unaltered."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid change feed request");
        }

        var deadline = clock.GetUtcNow().AddSeconds(waitSeconds);
        var checkedPosition = position == ChangeFeedPosition.Start;
        while (true)
        {
            IReadOnlyList<ChangeRow> rows;
            ChangeFeedPosition next;
            await using (var db = await dataSource.OpenConnectionAsync(ct))
            {
                if (!checkedPosition)
                {
                    if (!await db.ExecuteScalarAsync<bool>(new CommandDefinition(PositionExistsSql, Parameters(position), cancellationToken: ct)))
                    {
                        return TypedResults.Problem(
                            statusCode: StatusCodes.Status410Gone,
                            title: "Cursor no longer valid",
                            detail: "This catalog has no change at the cursor's position (the database was replaced or the change log pruned). " +
                                    "Start again from GET /v1/export and follow the feed from its X-Catalog-Cursor.");
                    }

                    checkedPosition = true;
                }

                (rows, next) = await ReadPageAsync(db, position, take, ct);
            }

            var remaining = deadline - clock.GetUtcNow();
            if (rows.Count > 0 || remaining <= TimeSpan.Zero)
            {
                var changes = rows.Select(row => ToItem(row, cursors)).ToList();
                lag.HandedOut(next);
                return TypedResults.Ok(new ChangesPage(changes, next.Encode(cursors)));
            }

            await signal.WaitAsync(remaining < RecheckInterval ? remaining : RecheckInterval, ct);
        }
    }

    /// <summary>
    /// The changes after <paramref name="position"/> (at most <paramref name="take"/>) and the position
    /// to read on from, in one snapshot: the last change's, or, on a short page, the newest settled one
    /// (so a reader at the end does not re-read the same gap). The JSON feed and FHIR _history both page with it.
    /// </summary>
    internal static async Task<(IReadOnlyList<ChangeRow> Rows, ChangeFeedPosition Next)> ReadPageAsync(
        NpgsqlConnection db, ChangeFeedPosition position, int take, CancellationToken ct)
    {
        await using var tx = await db.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        List<ChangeRow> rows = [.. await db.QueryAsync<ChangeRow>(new CommandDefinition(
            ChangesSql, new { Txid = position.TxidText, Seq = position.Sequence, Limit = take }, tx, cancellationToken: ct))];
        var next = rows.Count > 0 ? Position(rows[^1]) : position;
        if (rows.Count < take
            && await db.QuerySingleOrDefaultAsync<PositionRow>(new CommandDefinition(LastSettledSql, Parameters(next), tx, cancellationToken: ct)) is { } last)
        {
            next = Position(last);
        }

        await tx.CommitAsync(ct);
        return (rows, next);
    }

    private static ChangeFeedPosition Position(ChangeRow row) => new(ulong.Parse(row.Txid, CultureInfo.InvariantCulture), row.Seq);

    private static ChangeFeedPosition Position(PositionRow row) => new(ulong.Parse(row.Txid, CultureInfo.InvariantCulture), row.Seq);

    private static ChangeItem ToItem(ChangeRow row, OpaqueCursor cursors)
    {
        var position = Position(row);
        var deleted = row.Kind == ChangeItem.Delete;
        return new ChangeItem(
            position.Encode(cursors),
            deleted ? ChangeItem.Delete : ChangeItem.Upsert,
            row.TherapyId,
            row.Version,
            new DateTimeOffset(DateTime.SpecifyKind(row.ChangedAt, DateTimeKind.Utc)),
            deleted ? null : new TherapyDocument(row.Document));
    }

    private static object Parameters(ChangeFeedPosition position) => new { Txid = position.TxidText, Seq = position.Sequence };

    private sealed record PositionRow(string Txid, long Seq);

    internal sealed record ChangeRow(string Txid, long Seq, Guid TherapyId, int Version, string Kind, DateTime ChangedAt, string Document);
}
