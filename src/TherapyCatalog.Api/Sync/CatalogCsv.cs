using System.Text;
using System.Text.Json;

namespace TherapyCatalog.Api.Sync;

/// <summary>
/// The CSV form of the export: one row per therapy (RFC 4180: comma-separated, CRLF line ends,
/// a field quoted when it holds a comma, quote, CR or LF, quotes doubled), a header row first.
/// Objects are flattened into columns (<c>administrationSummary</c>, <c>listPriceAmount</c> ...).
/// Arrays become one field: items joined by <c>;</c>, an item's members joined by <c>|</c> in the
/// order the column's name shows, and a literal <c>\</c>, <c>|</c> or <c>;</c> inside a value is
/// escaped with a backslash. null is an empty field. Values are taken from the stored document, so
/// CSV and NDJSON always agree.
/// </summary>
public static class CatalogCsv
{
    private sealed record Column(string Name, Func<JsonElement, string?> Value);

    private static readonly Column[] Columns =
    [
        Scalar("id"), Scalar("slug"), Scalar("proprietaryName"), Scalar("properName"), Scalar("manufacturer"),
        Scalar("modality"), Scalar("cellSource"), Scalar("delivery"), Scalar("mechanism"), Scalar("vector"),
        Scalar("vectorDetail"), Scalar("target"), Scalar("route"),
        Nested("administrationSummary", "administration", "summary"),
        Nested("administrationInfusionMinutes", "administration", "infusionMinutes"),
        Nested("administrationRequiresLeukapheresis", "administration", "requiresLeukapheresis"),
        Nested("administrationRequiresLymphodepletion", "administration", "requiresLymphodepletion"),
        Nested("administrationRems", "administration", "rems"),
        Items("otherNames", ["name", "kind", "regulator"]),
        Items("indications", ["conditionId", "regulator", "approvedOn", "icd10", "population", "source", "sourceKind"]),
        Items("approvals", ["regulator", "applicationNumber", "approvedOn", "status", "source", "sourceKind"]),
        Nested("listPriceAmount", "listPrice", "amount"),
        Nested("listPriceCurrency", "listPrice", "currency"),
        Nested("listPriceYear", "listPrice", "year"),
        Nested("listPriceSource", "listPrice", "source"),
        Nested("listPriceSourceKind", "listPrice", "sourceKind"),
        Items("packages", ["ndc", "ndc11", "description", "source", "sourceKind"]),
        Strings("ndcs"), Scalar("status"), Strings("sources"), Scalar("version"), Scalar("createdAt"), Scalar("updatedAt"),
    ];

    /// <summary>The header row; array columns name their item members, e.g. <c>indications[conditionId|regulator|...]</c>.</summary>
    public static readonly string Header = string.Join(',', Columns.Select(c => c.Name)) + "\r\n";

    /// <summary>Formats rows one at a time, reusing one buffer.</summary>
    public sealed class RowWriter
    {
        private readonly StringBuilder _row = new(4096);

        public string Format(ReadOnlyMemory<byte> document)
        {
            _row.Clear();
            using var parsed = JsonDocument.Parse(document);
            for (var i = 0; i < Columns.Length; i++)
            {
                if (i > 0)
                {
                    _row.Append(',');
                }

                AppendField(_row, Columns[i].Value(parsed.RootElement));
            }

            return _row.Append("\r\n").ToString();
        }
    }

    private static Column Scalar(string member) => new(member, d => Text(d.TryGetProperty(member, out var v) ? v : default));

    private static Column Nested(string name, string member, string inner) =>
        new(name, d => d.TryGetProperty(member, out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty(inner, out var v) ? Text(v) : null);

    private static Column Strings(string member) =>
        new(member, d => d.TryGetProperty(member, out var a) && a.ValueKind == JsonValueKind.Array
            ? string.Join(';', a.EnumerateArray().Select(item => Escape(Text(item))))
            : null);

    private static Column Items(string member, string[] members) =>
        new($"{member}[{string.Join('|', members)}]", d => d.TryGetProperty(member, out var a) && a.ValueKind == JsonValueKind.Array
            ? string.Join(';', a.EnumerateArray().Select(item =>
                string.Join('|', members.Select(m => Escape(item.TryGetProperty(m, out var v) ? Text(v) : null)))))
            : null);

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    /// <summary>Escapes the list separators inside one flattened value.</summary>
    private static string Escape(string? value) =>
        value is null ? "" : value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("|", "\\|", StringComparison.Ordinal)
            .Replace(";", "\\;", StringComparison.Ordinal);

    private static void AppendField(StringBuilder row, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            row.Append(value);
            return;
        }

        row.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
