using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Cursors handed to clients (list pages, the change feed) are opaque and tamper-evident: the
/// position plus an HMAC of it, base64url-encoded. A client can store and return a cursor but not
/// forge or edit one, so the server never acts on a position it did not hand out. The key comes
/// from <c>Catalog:CursorKey</c>; every instance of a deployment must share it, and it must outlive
/// restarts, or clients' stored cursors stop being recognised. Outside Production a missing key
/// falls back to <see cref="DevelopmentKey"/>, which is public: in Production the service refuses to
/// start without a key of its own (<see cref="CatalogOptionsSetup"/>), so nobody can forge a cursor.
/// </summary>
public sealed class OpaqueCursor(byte[] key)
{
    private const int MacLength = 16;

    /// <summary>The key used when none is configured, outside Production only: it is in the source code.</summary>
    public const string DevelopmentKey = "therapy-catalog-default-cursor-key";

    /// <summary>The shortest <c>Catalog:CursorKey</c> accepted: 32 characters (e.g. <c>openssl rand -base64 32</c>).</summary>
    public const int MinKeyLength = 32;

    public static OpaqueCursor FromOptions(CatalogOptions options) =>
        new(Encoding.UTF8.GetBytes(options.CursorKey is { Length: > 0 } key ? key : DevelopmentKey));

    public string Encode(string position)
    {
        var payload = Encoding.UTF8.GetBytes(position);
        var mac = HMACSHA256.HashData(key, payload).AsSpan(0, MacLength);
        return Base64Url.EncodeToString([.. payload, .. mac]);
    }

    /// <summary>The position a cursor carries, or null when it was not made by this service (or was altered).</summary>
    public string? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 1024 || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        var bytes = Base64Url.DecodeFromChars(cursor);
        if (bytes.Length <= MacLength)
        {
            return null;
        }

        var payload = bytes.AsSpan(0, bytes.Length - MacLength);
        var expected = HMACSHA256.HashData(key, payload).AsSpan(0, MacLength);
        return CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(bytes.Length - MacLength))
            ? Encoding.UTF8.GetString(payload)
            : null;
    }
}
