using Dapper;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Reads that tell a client how fresh they are. A list, facet or condition answer runs in one
/// REPEATABLE READ, read-only transaction, and its <c>X-Catalog-Cursor</c> header carries the
/// change-feed position read in that same snapshot: two answers with the same header reflect the
/// same catalog, and a client may continue from it in the change feed. The export streams from
/// such a snapshot too.
/// <para>
/// Round trips are most of what a short read costs (in a profile of distinct searches, the API's
/// time went mostly to sending and awaiting them), so the transaction's statements travel with
/// its queries: the first query carries <c>BEGIN</c> and the position read in front of it, and
/// the last one (<c>last: true</c>) the <c>COMMIT</c> after it, in one command each. A snapshot
/// left without its commit (an error, a cancelled request) is rolled back by Npgsql when the
/// connection returns to the pool.
/// </para>
/// </summary>
public sealed class CatalogSnapshot
{
    public const string HeaderName = "X-Catalog-Cursor";

    // In front of the transaction's first query: the position is its first result set.
    private const string OpeningSql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n" + ChangeFeedPosition.CurrentSql + ";\n";
    private const string ClosingSql = ";\nCOMMIT";

    private readonly NpgsqlConnection db;
    private readonly HttpResponse response;
    private readonly OpaqueCursor cursor;
    private bool opened;
    private bool committed;

    private CatalogSnapshot(NpgsqlConnection db, HttpResponse response, OpaqueCursor cursor)
    {
        this.db = db;
        this.response = response;
        this.cursor = cursor;
    }

    /// <summary>A snapshot on <paramref name="db"/>; nothing is sent until its first query.</summary>
    public static CatalogSnapshot Begin(NpgsqlConnection db, HttpResponse response, OpaqueCursor cursor) => new(db, response, cursor);

    /// <summary>
    /// The rows of <paramref name="sql"/> (which may start with <c>SET LOCAL</c> statements: they
    /// return no rows) in this snapshot, in one round trip with the snapshot's opening when it is
    /// the first query, and with its commit when it is the <paramref name="last"/>.
    /// </summary>
    public async Task<List<T>> QueryAsync<T>(string sql, object? parameters, CancellationToken ct, bool last = false)
    {
        var text = (opened ? "" : OpeningSql) + sql + (last ? ClosingSql : "");
        // A reader of our own rather than Dapper's GridReader: when the connection breaks mid-read,
        // the grid's cleanup would replace Npgsql's exception (an outage: 503) with "the reader is closed" (a 500).
        await using var reader = await db.ExecuteReaderAsync(new CommandDefinition(text, parameters, cancellationToken: ct));
        if (!opened)
        {
            Opened(await reader.ReadAsync(ct) ? new ChangeFeedPosition.Row(reader.GetDecimal(0), reader.GetInt64(1)) : null);
            await reader.NextResultAsync(ct);
        }

        // Untyped, then cast: Dapper's typed row parser cannot be had for a single-column type (string, long).
        var parse = reader.GetRowParser<object>(typeof(T));
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add((T)parse(reader));
        }

        while (await reader.NextResultAsync(ct))
        {
            // the statements after the query return no rows (SET LOCAL, COMMIT); their errors surface here
        }

        committed = last;
        return rows;
    }

    /// <summary>Opens the snapshot by itself, for a caller that then reads with its own command (the export).</summary>
    public async Task OpenAsync(CancellationToken ct)
    {
        if (!opened)
        {
            Opened(await db.QuerySingleOrDefaultAsync<ChangeFeedPosition.Row?>(new CommandDefinition(OpeningSql, cancellationToken: ct)));
        }
    }

    /// <summary>Ends the snapshot, unless its last query already did.</summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        if (opened && !committed)
        {
            await db.ExecuteAsync(new CommandDefinition("COMMIT", cancellationToken: ct));
            committed = true;
        }
    }

    private void Opened(ChangeFeedPosition.Row? row)
    {
        opened = true;
        response.Headers[HeaderName] = ChangeFeedPosition.From(row).Encode(cursor);
    }
}

/// <summary>Declares <see cref="CatalogSnapshot.HeaderName"/> in the OpenAPI document.</summary>
public static class CatalogSnapshotDocs
{
    /// <summary>Declares the header in the OpenAPI document, on the endpoint's 200 answer.</summary>
    public static TBuilder WithCatalogCursorHeader<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithResponseHeader(CatalogSnapshot.HeaderName, "The change-feed position this answer reflects: follow `GET /v1/changes?after=` from it.", StatusCodes.Status200OK);
}
