using System.Buffers;
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
    public const string NdjsonContentType = "application/x-ndjson";
    public const string CsvContentType = "text/csv";

    public static readonly string[] Formats = ["ndjson", "csv"];

    /// <summary>
    /// The current document of every therapy that is not deleted. Run in the snapshot of
    /// <see cref="CatalogSnapshot"/>, so the rows and the cursor describe one moment. Ordered by id
    /// so two exports of one state are identical.
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
        var snapshot = CatalogSnapshot.Begin(db, response, cursors);
        await snapshot.OpenAsync(ct);
        response.Headers.CacheControl = "no-store";
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (gzip)
        {
            response.Headers.ContentEncoding = "gzip";
        }

        await using var command = new NpgsqlCommand(DocumentsSql, db);
        // No command timeout: an export runs as long as the client keeps reading; a client that goes
        // away cancels it through the request's token.
        command.CommandTimeout = 0;
        await using (var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct))
        {
            var compressed = gzip ? new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true) : null;
            var output = new ExportBuffer(compressed ?? body);
            try
            {
                await WriteRowsAsync(reader, output, csv, ct);
                await output.FlushAsync(ct);
            }
            finally
            {
                output.Dispose();
                if (compressed is not null)
                {
                    await compressed.DisposeAsync(); // writes the gzip trailer
                }
            }
        }

        await snapshot.CommitAsync(ct);
    }

    private static async Task WriteRowsAsync(NpgsqlDataReader reader, ExportBuffer output, bool csv, CancellationToken ct)
    {
        var row = csv ? new CatalogCsv.RowWriter() : null;
        if (row is not null)
        {
            await output.WriteAsync(Encoding.UTF8.GetBytes(CatalogCsv.Header), ct);
        }

        while (await reader.ReadAsync(ct))
        {
            // The document's UTF-8 bytes as PostgreSQL sends them: no decoding to a string and back.
            var document = reader.GetFieldValue<byte[]>(0);
            if (row is not null)
            {
                await output.WriteAsync(Encoding.UTF8.GetBytes(row.Format(document)), ct);
            }
            else
            {
                await output.WriteAsync(document, ct);
                await output.WriteAsync(NewLine, ct);
            }
        }
    }

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>
    /// Collects rows into one pooled 64 KiB buffer and sends it to the client whenever it is full:
    /// few, large writes, and memory that stays the same however many rows pass through.
    /// </summary>
    private sealed class ExportBuffer(Stream output) : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private int _length;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            if (_length + bytes.Length > _buffer.Length)
            {
                await SendAsync(ct);
                if (bytes.Length > _buffer.Length)
                {
                    await output.WriteAsync(bytes, ct);
                    return;
                }
            }

            bytes.Span.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        /// <summary>Hands the buffered rows on (Kestrel sends each write to the client straight away).</summary>
        private async ValueTask SendAsync(CancellationToken ct)
        {
            if (_length > 0)
            {
                await output.WriteAsync(_buffer.AsMemory(0, _length), ct);
                _length = 0;
            }
        }

        public async ValueTask FlushAsync(CancellationToken ct)
        {
            await SendAsync(ct);
            await output.FlushAsync(ct);
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
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
