using System.Globalization;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// A position in the change feed: the (transaction id, sequence) of the last change a client has.
/// Changes are ordered by the xid8 of the transaction that wrote them, then by sequence. The feed
/// only hands out changes of transactions below <c>pg_snapshot_xmin(pg_current_snapshot())</c>,
/// the oldest transaction still running: every transaction below it has committed or rolled back,
/// so no change can later appear behind a position already handed out, however late it commits.
/// </summary>
public readonly record struct ChangeFeedPosition(ulong TransactionId, long Sequence)
{
    public static readonly ChangeFeedPosition Start = new(0, 0);

    /// <summary>
    /// The position of the newest change that is settled in the current snapshot: what a read made in
    /// this same snapshot (for example under REPEATABLE READ) reflects. <c>X-Catalog-Cursor</c> carries it.
    /// </summary>
    public const string CurrentSql = """
        SELECT txid::text::numeric AS TransactionId, seq AS Sequence
        FROM changes
        WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY txid DESC, seq DESC
        LIMIT 1
        """;

    /// <summary>A row of <see cref="CurrentSql"/>.</summary>
    public sealed record Row(decimal TransactionId, long Sequence);

    /// <summary>The position a row of <see cref="CurrentSql"/> names; the start of the feed when there was none.</summary>
    public static ChangeFeedPosition From(Row? row) => row is null ? Start : new((ulong)row.TransactionId, row.Sequence);

    /// <summary>The transaction id as SQL parameters carry it: xid8 has no Npgsql mapping, so it travels as text and is cast in SQL.</summary>
    public string TxidText => TransactionId.ToString(CultureInfo.InvariantCulture);

    public string Encode(OpaqueCursor cursor) =>
        cursor.Encode(string.Create(CultureInfo.InvariantCulture, $"c1:{TransactionId}:{Sequence}"));

    public static ChangeFeedPosition? Decode(OpaqueCursor cursor, string? text)
    {
        var parts = cursor.Decode(text)?.Split(':');
        return parts is ["c1", var txid, var seq]
               && ulong.TryParse(txid, NumberStyles.None, CultureInfo.InvariantCulture, out var t)
               && long.TryParse(seq, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            ? new ChangeFeedPosition(t, s)
            : null;
    }
}
