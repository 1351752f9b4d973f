using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// A fingerprint of everything a write can touch: the therapies and their rows, every version
/// (history), the change log and the idempotency store. Equal before and after a rejected request
/// means the request changed nothing.
/// </summary>
public static class CatalogState
{
    private const string FingerprintSql = """
        SELECT concat_ws('|',
            (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM therapies t),
            (SELECT md5(coalesce(string_agg(i::text, ',' ORDER BY i.therapy_id, i.ordinal), '')) FROM therapy_indications i),
            (SELECT md5(coalesce(string_agg(a::text, ',' ORDER BY a.therapy_id, a.ordinal), '')) FROM therapy_approvals a),
            (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY s.therapy_id, s.ordinal), '')) FROM therapy_sources s),
            (SELECT md5(coalesce(string_agg(v.therapy_id::text || ':' || v.version || ':' || v.document::text, ',' ORDER BY v.therapy_id, v.version), '')) FROM therapy_versions v),
            (SELECT md5(coalesce(string_agg(c.therapy_id::text || ':' || c.version, ',' ORDER BY c.txid, c.seq), '')) FROM changes c),
            (SELECT count(*) FROM idempotency_keys))
        """;

    public static async Task<string> FingerprintAsync(CatalogApiFactory api)
    {
        await using var db = await api.OpenDatabaseAsync();
        return await db.QuerySingleAsync<string>(FingerprintSql);
    }
}

/// <summary>API keys made for a test, straight in the database, stored hashed as the service stores them.</summary>
public static class TestApiKeys
{
    public static async Task<string> CreateAsync(CatalogApiFactory api, string[] scopes, bool revoked = false, string? name = null)
    {
        var key = "test_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        await using var db = await api.OpenDatabaseAsync();
        await db.ExecuteAsync(
            "INSERT INTO api_keys (id, name, key_hash, scopes, revoked_at) VALUES (@Id, @Name, @Hash, @Scopes, @RevokedAt)",
            new
            {
                Id = Guid.NewGuid(), Name = name ?? $"test-{Guid.NewGuid():N}", Hash = SHA256.HashData(Encoding.UTF8.GetBytes(key)),
                Scopes = scopes, RevokedAt = revoked ? DateTime.UtcNow : (DateTime?)null,
            });
        return key;
    }
}
