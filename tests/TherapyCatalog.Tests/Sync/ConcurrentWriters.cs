using Npgsql;
using TherapyCatalog.Api.Therapies;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Sync;

/// <summary>
/// Concurrent writers through the service's write path (<see cref="CatalogWriter"/>), each on its own
/// connection, until <paramref name="targetChanges"/> changes are committed: creations from
/// <paramref name="templates"/> (shaped by <paramref name="shape"/>), updates and deletes of random
/// therapies (recent ones more often), some transactions writing several therapies, some held open
/// while the others commit, some rolled back. The sync and FHIR history tests mirror what they write.
/// </summary>
public sealed class ConcurrentWriters(
    string connectionString, IReadOnlyList<Therapy> templates, IEnumerable<Guid> ids, int targetChanges, string slugPrefix,
    Func<TherapyInput, TherapyInput>? shape = null)
{
    private readonly List<Guid> _ids = [.. ids];
    private int _committed;
    private int _transactions;
    private int _multi;
    private int _held;
    private int _rolledBack;
    private int _conflicts;

    public int Committed => Volatile.Read(ref _committed);
    public int Transactions => _transactions;
    public int MultiTherapy => _multi;
    public int Held => _held;
    public int RolledBack => _rolledBack;
    public int Conflicts => _conflicts;

    public async Task WriteAsync(int seed)
    {
        var random = new Random(seed);
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        while (Committed < targetChanges)
        {
            var operations = random.Next(10) < 3 ? random.Next(2, 4) : 1;
            var hold = random.Next(100) < 4;
            var rollback = random.Next(100) < 8;
            var created = new List<Guid>();
            var written = 0;
            await using var tx = await db.BeginTransactionAsync();
            try
            {
                for (var i = 0; i < operations; i++)
                {
                    var roll = random.Next(100);
                    if (roll < 30)
                    {
                        var template = templates[random.Next(templates.Count)];
                        var input = CatalogWriter.InputFrom(template) with
                        {
                            Slug = CatalogWriter.NewSlug(slugPrefix),
                            ProprietaryName = $"Synthetic {random.Next(1_000_000)}",
                        };
                        var therapy = await CatalogWriter.CreateAsync(db, tx, shape is null ? input : shape(input));
                        created.Add(therapy.Id);
                        written++;
                    }
                    else if (roll < 85)
                    {
                        var id = Pick(random);
                        var updated = await CatalogWriter.UpdateAsync(db, tx, id, input => input with
                        {
                            ProprietaryName = $"Renamed {random.Next(1_000_000)}",
                            Administration = input.Administration with { InfusionMinutes = random.Next(1, 240) },
                        });
                        written += updated is null ? 0 : 1;
                    }
                    else
                    {
                        written += await CatalogWriter.DeleteAsync(db, tx, Pick(random)) is null ? 0 : 1;
                    }
                }

                if (hold)
                {
                    // Held open while the other writers commit later transactions.
                    Interlocked.Increment(ref _held);
                    await Task.Delay(random.Next(100, 600));
                }

                if (rollback)
                {
                    await tx.RollbackAsync();
                    Interlocked.Increment(ref _rolledBack);
                    continue;
                }

                await tx.CommitAsync();
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await tx.RollbackAsync();
                Interlocked.Increment(ref _conflicts);
                continue;
            }

            Interlocked.Increment(ref _transactions);
            Interlocked.Add(ref _committed, written);
            if (operations > 1)
            {
                Interlocked.Increment(ref _multi);
            }

            lock (_ids)
            {
                _ids.AddRange(created);
            }
        }
    }

    private Guid Pick(Random random)
    {
        lock (_ids)
        {
            // Recent therapies more often, so writers meet on the same rows.
            return random.Next(2) == 0 ? _ids[random.Next(_ids.Count)] : _ids[Math.Max(0, _ids.Count - 1 - random.Next(20))];
        }
    }
}
