using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Sync;

public class ExportTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    private const string LiveDocumentsSql = """
        SELECT v.document::text
        FROM therapies t
        JOIN therapy_versions v ON v.therapy_id = t.id AND v.version = t.version
        WHERE t.deleted_at IS NULL
        """;

    [Fact]
    public async Task Ndjson_export_has_one_line_per_live_therapy_holding_its_stored_document()
    {
        var response = await _client.GetAsync("/v1/export?format=ndjson");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", body, StringComparison.Ordinal);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await using var db = await api.OpenDatabaseAsync();
        var stored = (await db.QueryAsync<string>(LiveDocumentsSql)).ToList();
        Assert.Equal(stored.Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Export_without_format_is_ndjson()
    {
        var response = await _client.GetAsync("/v1/export");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Export_carries_a_feed_cursor_from_which_the_feed_hands_out_what_the_export_does_not_hold()
    {
        var export = await _client.GetAsync("/v1/export");
        var cursor = Assert.Single(export.Headers.GetValues(CatalogSnapshot.HeaderName));
        Assert.NotNull(ChangeFeedPosition.Decode(api.Services.GetRequiredService<OpaqueCursor>(), cursor));
        var mirror = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetGuid(),
                line => (Version: JsonDocument.Parse(line).RootElement.GetProperty("version").GetInt32(), Document: (string?)line));

        Guid id;
        await using (var db = await api.OpenDatabaseAsync())
        await using (var tx = await db.BeginTransactionAsync())
        {
            id = (await CatalogWriter.CreateAsync(db, tx, CatalogWriter.InputFrom(await CatalogWriter.ReadAsync(db, "abecma")) with
            {
                Slug = CatalogWriter.NewSlug("export-after"),
            })).Id;
            await tx.CommitAsync();
        }

        var after = await FeedReader.UntilAsync(_client, cursor, changes => changes.Any(c => c.TherapyId == id));

        Assert.Equal(1, after.Changes.Count(c => c.TherapyId == id));
        // Changes committed just before the snapshot may come again after the cursor; applied by
        // the apply-if-newer rule, export + feed is exactly the server's state.
        foreach (var change in after.Changes)
        {
            if (!mirror.TryGetValue(change.TherapyId, out var held) || change.Version > held.Version)
            {
                mirror[change.TherapyId] = (change.Version, change.Therapy);
            }
        }

        await using var check = await api.OpenDatabaseAsync();
        var stored = (await check.QueryAsync<string>(LiveDocumentsSql)).Order(StringComparer.Ordinal);
        Assert.Equal(stored, mirror.Values.Where(m => m.Document is not null).Select(m => m.Document!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_deleted_therapy_is_not_exported()
    {
        var slug = CatalogWriter.NewSlug("export-deleted");
        await using (var db = await api.OpenDatabaseAsync())
        {
            Guid id;
            await using (var tx = await db.BeginTransactionAsync())
            {
                id = (await CatalogWriter.CreateAsync(db, tx, CatalogWriter.InputFrom(await CatalogWriter.ReadAsync(db, "abecma")) with { Slug = slug })).Id;
                await tx.CommitAsync();
            }

            await using (var tx = await db.BeginTransactionAsync())
            {
                await CatalogWriter.DeleteAsync(db, tx, id);
                await tx.CommitAsync();
            }
        }

        var body = await _client.GetStringAsync("/v1/export");

        Assert.DoesNotContain(slug, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_is_gzip_compressed_when_the_client_accepts_gzip()
    {
        var plain = await _client.GetStringAsync("/v1/export");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/export");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));

        var response = await _client.SendAsync(request);

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        await using var unzipped = new GZipStream(await response.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        using var reader = new StreamReader(unzipped, Encoding.UTF8);
        Assert.Equal(plain, await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Export_is_not_compressed_when_the_client_refuses_gzip()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/export");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip", 0));

        var response = await _client.SendAsync(request);

        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    private const string IndicationsColumn = "indications[conditionId|regulator|approvedOn|icd10|population|source|sourceKind]";

    [Fact]
    public async Task Csv_export_has_a_header_and_one_row_per_live_therapy_with_arrays_flattened()
    {
        var response = await _client.GetAsync("/v1/export?format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var rows = Csv.Parse(await response.Content.ReadAsStringAsync());
        var header = rows[0];
        await using var db = await api.OpenDatabaseAsync();
        Assert.Equal((await db.QueryAsync<string>(LiveDocumentsSql)).Count(), rows.Count - 1);
        var kymriah = Record(header, rows.Single(r => r[header.IndexOf("slug")] == "kymriah"));
        var expected = await CatalogWriter.ReadAsync(db, "kymriah");
        Assert.Equal(expected.Id.ToString(), kymriah["id"]);
        Assert.Equal("tisagenlecleucel", kymriah["properName"]);
        Assert.Equal(expected.Administration.RequiresLeukapheresis ? "true" : "false", kymriah["administrationRequiresLeukapheresis"]);
        Assert.Equal(string.Join(';', expected.Ndcs), kymriah["ndcs"]);
        var indications = Csv.SplitList(kymriah[IndicationsColumn]);
        Assert.Equal(expected.Indications.Count, indications.Count);
        Assert.StartsWith($"{expected.Indications[0].ConditionId}|{expected.Indications[0].Regulator}|{expected.Indications[0].ApprovedOn:yyyy-MM-dd}|",
            indications[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_quotes_fields_per_rfc_4180_and_escapes_list_separators()
    {
        var slug = CatalogWriter.NewSlug("export-csv");
        await using (var db = await api.OpenDatabaseAsync())
        await using (var tx = await db.BeginTransactionAsync())
        {
            var input = CatalogWriter.InputFrom(await CatalogWriter.ReadAsync(db, "kymriah"));
            await CatalogWriter.CreateAsync(db, tx, input with
            {
                Slug = slug,
                ProprietaryName = "Quote \"this\", please",
                Administration = input.Administration with { Summary = "line one\r\nline two" },
                Indications = [input.Indications[0] with { Population = "adults; r|r \\ kids" }],
            });
            await tx.CommitAsync();
        }

        var rows = Csv.Parse(await _client.GetStringAsync("/v1/export?format=csv"));

        var row = Record(rows[0], rows.Single(r => r[rows[0].IndexOf("slug")] == slug));
        Assert.Equal("Quote \"this\", please", row["proprietaryName"]);
        Assert.Equal("line one\r\nline two", row["administrationSummary"]);
        Assert.Contains("|adults\\; r\\|r \\\\ kids|", row[IndicationsColumn], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_format_returns_400_problem_naming_the_allowed_values()
    {
        var response = await _client.GetAsync("/v1/export?format=xml");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("format")[0].GetString();
        Assert.Contains("ndjson", message, StringComparison.Ordinal);
        Assert.Contains("csv", message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Record(List<string> header, List<string> row) =>
        header.Zip(row).ToDictionary(p => p.First, p => p.Second);
}

/// <summary>A strict RFC 4180 reader, written from the RFC rather than from the exporter.</summary>
internal static class Csv
{
    /// <summary>The items of a flattened list field: split at each ';' that no backslash escapes.</summary>
    public static List<string> SplitList(string field)
    {
        var items = new List<string>();
        var item = new StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\') { item.Append(field[i]).Append(field[++i]); }
            else if (field[i] == ';') { items.Add(item.ToString()); item.Clear(); }
            else { item.Append(field[i]); }
        }

        items.Add(item.ToString());
        return items;
    }

    public static List<List<string>> Parse(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '"' && field.Length == 0)
            {
                i++;
                while (true)
                {
                    if (text[i] == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; }
                    else if (text[i] == '"') { i++; break; }
                    else { field.Append(text[i++]); }
                }
            }
            else if (text[i] == ',') { row.Add(field.ToString()); field.Clear(); i++; }
            else if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString()); field.Clear(); rows.Add(row); row = []; i += 2;
            }
            else
            {
                Assert.False(text[i] is '\r' or '\n' or '"', $"unquoted {(int)text[i]} at {i}");
                field.Append(text[i++]);
            }
        }

        Assert.True(row.Count == 0 && field.Length == 0, "the last row ends with CRLF");
        return rows;
    }
}
