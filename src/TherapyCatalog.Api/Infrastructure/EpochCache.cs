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
/// <para>
/// It holds what is hot, not everything: at most <paramref name="maxEntries"/> entries, and
/// <paramref name="maxWeight"/> in all as <paramref name="weigh"/> tells (in bytes, say; a value
/// heavier than half of that is not kept), in two generations of half each. New entries go to the
/// current one; when it is full, it becomes the previous one and the previous one is dropped; an
/// entry found in the previous one moves to the current one. So what was used lately stays, and
/// the oldest half goes, where a single table would drop everything at once.
/// </para>
/// </summary>
public sealed class EpochCache<TValue>(ChangeSignal signal, int maxEntries, Func<TValue, long>? weigh = null, long maxWeight = long.MaxValue)
    where TValue : class
{
    private sealed class Generation
    {
        public readonly ConcurrentDictionary<string, (long Epoch, TValue Value)> Entries = new(StringComparer.Ordinal);

        // How many entries were stored in it and what they weigh (a value stored again under its key
        // counts twice: upper bounds). Counted here: ConcurrentDictionary.Count takes every lock of the table.
        public int Stored;
        public long Weight;
    }

    private readonly int _generationEntries = Math.Max(1, maxEntries / 2);
    private readonly long _generationWeight = maxWeight / 2;
    private volatile Generation _current = new();
    private volatile Generation _previous = new();

    /// <summary>The epoch to store a read with, taken before the read; null when no entry may be stored or used.</summary>
    public long? BeforeRead()
    {
        signal.StartListening();
        return signal.Epoch;
    }

    /// <summary>The value kept for <paramref name="key"/>, when nothing changed since it was read; else null.</summary>
    public TValue? Current(string key)
    {
        if (signal.Epoch is not { } epoch)
        {
            return null;
        }

        if (_current.Entries.TryGetValue(key, out var entry))
        {
            return entry.Epoch == epoch ? entry.Value : null;
        }

        if (_previous.Entries.TryGetValue(key, out entry) && entry.Epoch == epoch)
        {
            Add(key, entry);
            return entry.Value;
        }

        return null;
    }

    /// <summary>Keeps what a read found, if nothing changed since <paramref name="epochBeforeRead"/>.</summary>
    public void Store(string key, long? epochBeforeRead, TValue value)
    {
        if (epochBeforeRead is null || signal.Epoch != epochBeforeRead)
        {
            return;
        }

        Add(key, (epochBeforeRead.Value, value));
    }

    private void Add(string key, (long Epoch, TValue Value) entry)
    {
        var weight = weigh?.Invoke(entry.Value) ?? 0;
        if (weight > _generationWeight)
        {
            return;
        }

        var current = _current;
        if (Interlocked.Increment(ref current.Stored) > _generationEntries || Interlocked.Add(ref current.Weight, weight) > _generationWeight)
        {
            // Two requests may both find it full: one generation is then started twice, harmlessly.
            _previous = current;
            current = new Generation { Stored = 1, Weight = weight };
            _current = current;
        }

        current.Entries[key] = entry;
    }
}
