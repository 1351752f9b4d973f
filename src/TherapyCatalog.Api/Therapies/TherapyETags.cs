using System.Collections.Concurrent;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Api.Therapies;

/// <summary>
/// The current ETag of therapies recently read, by the id or slug they were asked for, so a
/// <c>GET /v1/therapies/{idOrSlug}</c> whose <c>If-None-Match</c> names it is answered 304 without a
/// database round trip. Only ever used to say "not modified"; every other answer reads the database.
/// <para>
/// Why a 304 from here is not stale: every commit that changes a therapy (create, update, delete,
/// by any process) inserts into <c>changes</c>, whose trigger NOTIFYs <c>catalog_changes</c>, and
/// <see cref="ChangeSignal"/> LISTENs on it and moves its <see cref="ChangeSignal.Epoch"/> on each
/// notification, on losing or regaining its connection, and when this process commits a write
/// (<see cref="Invalidate"/>, called after the commit and before the answer). An entry is stored
/// with the epoch read <em>before</em> the database read that produced it, and is used only
/// while the epoch is still that number. So any change committed after that read began, and any
/// moment the listener was deaf, has moved the epoch and the entry is dead. The only window left
/// is a change committed by another process whose notification is still in flight (loopback or
/// LAN latency, the same race as a read that reached the database a moment before the commit),
/// and a listener that went silent: <see cref="ChangeSignal.Epoch"/> is null (cache off) once the
/// connection has not been heard for <see cref="ChangeSignal.HeardWithin"/>, and it is pinged
/// every second. Only reads from the primary are stored: with <c>ConnectionStrings:CatalogRead</c>
/// set, a replica may answer with a version older than a notification already received, and the
/// cache stays empty.
/// </para>
/// </summary>
public sealed class TherapyETags(ChangeSignal signal)
{
    /// <summary>Beyond this many entries the cache starts over: it holds hot therapies, not the catalog.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, (long Epoch, string ETag)> _entries = new(StringComparer.Ordinal);

    /// <summary>The epoch to store a read with, taken before the read; null when no entry may be stored or used.</summary>
    public long? BeforeRead()
    {
        signal.StartListening();
        return signal.Epoch;
    }

    /// <summary>The current ETag of <paramref name="idOrSlug"/>, when known for certain; else null.</summary>
    public string? Current(string idOrSlug)
    {
        var epoch = signal.Epoch;
        return epoch is not null && _entries.TryGetValue(idOrSlug, out var entry) && entry.Epoch == epoch ? entry.ETag : null;
    }

    /// <summary>Remembers the ETag a read found, if nothing changed since <paramref name="epochBeforeRead"/>.</summary>
    public void Store(string idOrSlug, long? epochBeforeRead, string etag)
    {
        if (epochBeforeRead is null || signal.Epoch != epochBeforeRead)
        {
            return;
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[idOrSlug] = (epochBeforeRead.Value, etag);
    }

    /// <summary>This process committed a change to a therapy: no entry read before it is used again.</summary>
    public void Invalidate() => signal.Invalidate();
}
