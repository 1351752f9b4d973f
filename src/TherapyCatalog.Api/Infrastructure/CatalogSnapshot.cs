using System.Data;
using Dapper;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Reads that tell a client how fresh they are. A list, facet or condition answer runs in one
/// REPEATABLE READ, read-only transaction, and its <c>X-Catalog-Cursor</c> header carries the
/// change-feed position read in that same snapshot: two answers with the same header reflect the
/// same catalog, and a client may continue from it in the change feed. The export streams from
/// such a snapshot too.
/// </summary>
public static class CatalogSnapshot
{
    public const string HeaderName = "X-Catalog-Cursor";

    public static async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection db, HttpResponse response, OpaqueCursor cursor, CancellationToken ct)
    {
        var tx = await db.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await db.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: tx, cancellationToken: ct));
        var position = await ChangeFeedPosition.CurrentAsync(db, tx, ct);
        response.Headers[HeaderName] = position.Encode(cursor);
        return tx;
    }

    /// <summary>Declares the header in the OpenAPI document, on the endpoint's 200 answer.</summary>
    public static TBuilder WithCatalogCursorHeader<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithResponseHeader(HeaderName, "The change-feed position this answer reflects: follow `GET /v1/changes?after=` from it.", StatusCodes.Status200OK);
}
