using System.Collections.Concurrent;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Values read from the database, kept while nothing has changed since the read began: an entry
/// is stored with the <see cref="ChangeSignal.Epoch"/> read <em>before</em> the read that produced
/// it, only if the epoch has not moved by the time it is stored, and it is used only while the
/// epoch is still that number. Every commit that changes a therapy or a condition moves the epoch
/// (NOTIFY, or this process's own <see cref="ChangeSignal.Invalidate"/>), and so does a listener
/// that lost its connection; the epoch is null (nothing stored or used) while the listener has not
/// been heard. The window left is another process's commit whose notification is still in flight.
/// Beyond <paramref name="maxEntries"/> entries, or <paramref name="maxWeight"/> in all as
/// <paramref name="weigh"/> tells (in bytes, say; a value heavier than that alone is not kept), it
/// starts over: it holds what is hot, not everything.
/// </summary>
public sealed class EpochCache<TValue>(ChangeSignal signal, int maxEntries, Func<TValue, long>? weigh = null, long maxWeight = long.MaxValue)
    where TValue : class
{
    private readonly ConcurrentDictionary<string, (long Epoch, TValue Value)> _entries = new(StringComparer.Ordinal);

    // What the entries stored since the last start-over weigh (a value stored again under its key counts twice: an upper bound).
    private long _weight;

    /// <summary>The epoch to store a read with, taken before the read; null when no entry may be stored or used.</summary>
    public long? BeforeRead()
    {
        signal.StartListening();
        return signal.Epoch;
    }

    /// <summary>The value kept for <paramref name="key"/>, when nothing changed since it was read; else null.</summary>
    public TValue? Current(string key)
    {
        var epoch = signal.Epoch;
        return epoch is not null && _entries.TryGetValue(key, out var entry) && entry.Epoch == epoch ? entry.Value : null;
    }

    /// <summary>Keeps what a read found, if nothing changed since <paramref name="epochBeforeRead"/>.</summary>
    public void Store(string key, long? epochBeforeRead, TValue value)
    {
        if (epochBeforeRead is null || signal.Epoch != epochBeforeRead)
        {
            return;
        }

        var weight = weigh?.Invoke(value) ?? 0;
        if (weight > maxWeight)
        {
            return;
        }

        if (_entries.Count >= maxEntries || Interlocked.Add(ref _weight, weight) > maxWeight)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _weight, weight);
        }

        _entries[key] = (epochBeforeRead.Value, value);
    }
}
