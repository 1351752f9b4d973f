using System.Data;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Sync;

public static class ExportApi
{
    public const string CursorHeader = "X-Catalog-Cursor";
    public const string NdjsonContentType = "application/x-ndjson";
    public const string CsvContentType = "text/csv";

    private static readonly string[] Formats = ["ndjson", "csv"];

    /// <summary>Rows written between two flushes to the client.</summary>
    private const int FlushEvery = 512;

    /// <summary>
    /// The current document of every therapy that is not deleted. Run in the same REPEATABLE READ
    /// snapshot as <see cref="ChangeFeedPosition.CurrentAsync"/>, so the rows and the cursor describe
    /// one moment. Ordered by id so two exports of one state are identical.
    /// </summary>
    private const string DocumentsSql = """
        SELECT v.document::text AS Document
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.deleted_at IS NULL
        ORDER BY t.id
        """;

    public static Results<PushStreamHttpResult, ValidationProblem> GetExport(
        string? format, HttpContext http, NpgsqlDataSource dataSource, OpaqueCursor cursors, CancellationToken ct)
    {
        var chosen = format ?? "ndjson";
        if (!Formats.Contains(chosen))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["format"] = [$"format must be one of: {string.Join(", ", Formats)}."] },
                title: "Invalid export format",
                detail: $"Unknown format '{chosen}'. Allowed values: {string.Join(", ", Formats)}.");
        }

        var csv = chosen == "csv";
        var gzip = AcceptsGzip(http.Request);
        return TypedResults.Stream(
            body => WriteExportAsync(body, http.Response, csv, gzip, dataSource, cursors, ct),
            csv ? $"{CsvContentType}; charset=utf-8; header=present" : NdjsonContentType);
    }

    /// <summary>
    /// Streams the catalog row by row from a data reader straight into the response: memory stays
    /// flat however large the catalog is. The snapshot is taken first, and X-Catalog-Cursor is the
    /// feed position of that very snapshot: every change at or before it is in the export, and every
    /// change of the export that comes after it (a transaction that committed between the watermark
    /// and the snapshot) is replayed by the feed with a version the client already has, so it is
    /// ignored by the apply-if-newer rule. The feed keeps each therapy's versions increasing (see
    /// ChangesApi), so a therapy the export left out as deleted cannot be resurrected by a replayed
    /// older version.
    /// </summary>
    private static async Task WriteExportAsync(
        Stream body, HttpResponse response, bool csv, bool gzip, NpgsqlDataSource dataSource, OpaqueCursor cursors, CancellationToken ct)
    {
        await using var db = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await db.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", db, tx))
        {
            await readOnly.ExecuteNonQueryAsync(ct);
        }

        var position = await ChangeFeedPosition.CurrentAsync(db, tx, ct);
        response.Headers[CursorHeader] = position.Encode(cursors);
        response.Headers.CacheControl = "no-store";
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (gzip)
        {
            response.Headers.ContentEncoding = "gzip";
        }

        await using var command = new NpgsqlCommand(DocumentsSql, db, tx);
        // No command timeout: an export runs as long as the client keeps reading; a client that goes
        // away cancels it through the request's token.
        command.CommandTimeout = 0;
        await using (var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct))
        {
            var compressed = gzip ? new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true) : null;
            var writer = new StreamWriter(compressed ?? body, new UTF8Encoding(false), bufferSize: 32 * 1024, leaveOpen: true);
            try
            {
                await WriteRowsAsync(reader, writer, csv, ct);
            }
            finally
            {
                await writer.DisposeAsync(); // flushes what is left
                if (compressed is not null)
                {
                    await compressed.DisposeAsync(); // writes the gzip trailer
                }
            }
        }

        await tx.CommitAsync(ct);
    }

    private static async Task WriteRowsAsync(NpgsqlDataReader reader, StreamWriter writer, bool csv, CancellationToken ct)
    {
        var row = csv ? new CatalogCsv.RowWriter() : null;
        if (row is not null)
        {
            await writer.WriteAsync(CatalogCsv.Header.AsMemory(), ct);
        }

        var rows = 0;
        while (await reader.ReadAsync(ct))
        {
            var document = reader.GetString(0);
            if (row is not null)
            {
                await writer.WriteAsync(row.Format(document).AsMemory(), ct);
            }
            else
            {
                await writer.WriteAsync(document.AsMemory(), ct);
                await writer.WriteAsync("\n".AsMemory(), ct);
            }

            if (++rows % FlushEvery == 0)
            {
                await writer.FlushAsync(ct);
            }
        }
    }

    /// <summary>True when Accept-Encoding lets the response be gzip-compressed.</summary>
    private static bool AcceptsGzip(HttpRequest request)
    {
        var accepted = request.GetTypedHeaders().AcceptEncoding;
        var gzip = accepted.FirstOrDefault(e => e.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase));
        var any = accepted.FirstOrDefault(e => e.Value.Equals("*", StringComparison.Ordinal));
        var chosen = gzip ?? any;
        return chosen is not null && (chosen.Quality ?? 1) > 0;
    }
}
