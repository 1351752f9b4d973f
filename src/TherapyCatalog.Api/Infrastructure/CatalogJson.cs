using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// The one JSON configuration: HTTP bodies, stored therapy documents and data files all use it,
/// so a document stored at write time is byte for byte what a client reads.
/// </summary>
public static class CatalogJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        // A misspelt member is an error the client should hear about, not silently dropped data.
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.MaxDepth = 32;
        // {"slug":"a","slug":"b"} is ambiguous: refused as invalid JSON wherever a body is read (typed or as a JsonObject).
        options.AllowDuplicateProperties = false;
        options.Converters.Add(new UtcTimestampConverter());
        return options;
    }

    /// <summary>RFC 3339 timestamps in UTC with a 'Z', at PostgreSQL's microsecond precision.</summary>
    private sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture));
    }
}
