using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The current ETag of therapies recently read, by the id or slug they were asked for, so a
/// <c>GET /v1/therapies/{idOrSlug}</c> whose <c>If-None-Match</c> names it is answered 304 without a
/// database round trip. Only ever used to say "not modified"; every other answer reads the database.
/// <para>
/// Why a 304 from here is not stale: every commit that changes a therapy (create, update, delete,
/// by any process) inserts into <c>changes</c>, whose trigger NOTIFYs <c>catalog_changes</c>, and
/// the entries are kept by <see cref="EpochCache{TValue}"/>'s rules. This process's own writes call
/// <see cref="Invalidate"/> after the commit and before the answer. Only reads from the primary are
/// stored: with <c>ConnectionStrings:CatalogRead</c> set, a replica may answer with a version older
/// than a notification already received, and the cache stays empty.
/// </para>
/// </summary>
public sealed class TherapyETags(ChangeSignal signal)
{
    /// <summary>Beyond this many entries the cache starts over: it holds hot therapies, not the catalog.</summary>
    public const int MaxEntries = 10_000;

    private readonly EpochCache<string> _entries = new(signal, MaxEntries);

    /// <summary>The epoch to store a read with, taken before the read; null when no entry may be stored or used.</summary>
    public long? BeforeRead() => _entries.BeforeRead();

    /// <summary>The current ETag of <paramref name="idOrSlug"/>, when known for certain; else null.</summary>
    public string? Current(string idOrSlug) => _entries.Current(idOrSlug);

    /// <summary>Remembers the ETag a read found, if nothing changed since <paramref name="epochBeforeRead"/>.</summary>
    public void Store(string idOrSlug, long? epochBeforeRead, string etag) => _entries.Store(idOrSlug, epochBeforeRead, etag);

    /// <summary>This process committed a change to a therapy: no entry read before it is used again.</summary>
    public void Invalidate() => signal.Invalidate();
}
