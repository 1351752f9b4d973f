using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// What EpochCache keeps when full: two generations of half its entries (and weight), so the
/// entries used lately stay and only the oldest half goes.
/// </summary>
public class EpochCacheTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private async Task<(ChangeSignal Signal, long? Epoch)> ListeningAsync()
    {
        var signal = api.Services.GetRequiredService<ChangeSignal>();
        signal.StartListening();
        await api.HeardSinceAsync(null);
        return (signal, signal.Epoch);
    }

    [Fact]
    public async Task A_full_cache_drops_its_oldest_half_and_keeps_what_was_used_since()
    {
        var (signal, epoch) = await ListeningAsync();
        var cache = new EpochCache<string>(signal, maxEntries: 4);

        cache.Store("a", epoch, "A");
        cache.Store("b", epoch, "B");
        cache.Store("c", epoch, "C"); // the first generation (a, b) is full: c starts the next
        Assert.Equal("A", cache.Current("a")); // a, used, moves into the current generation
        cache.Store("d", epoch, "D"); // (c, a) is full: b, unused since, is dropped

        Assert.Null(cache.Current("b"));
        Assert.Equal("A", cache.Current("a"));
        Assert.Equal("C", cache.Current("c"));
        Assert.Equal("D", cache.Current("d"));
    }

    [Fact]
    public async Task Weight_bounds_each_generation_and_a_value_heavier_than_one_is_not_kept()
    {
        var (signal, epoch) = await ListeningAsync();
        var cache = new EpochCache<string>(signal, maxEntries: 100, weigh: v => v.Length, maxWeight: 10);

        cache.Store("heavy", epoch, "123456");
        cache.Store("a", epoch, "aaa");
        cache.Store("b", epoch, "bbb"); // 6 > 5: a's generation is full, b starts the next
        cache.Store("c", epoch, "ccc"); // and so on: a is dropped

        Assert.Null(cache.Current("heavy"));
        Assert.Null(cache.Current("a"));
        Assert.Equal("bbb", cache.Current("b"));
        Assert.Equal("ccc", cache.Current("c"));
    }

    [Fact]
    public async Task Nothing_read_before_a_change_is_kept_or_used_after_it()
    {
        var (signal, epoch) = await ListeningAsync();
        var cache = new EpochCache<string>(signal, maxEntries: 10);
        cache.Store("a", epoch, "A");
        Assert.Equal("A", cache.Current("a"));

        signal.Invalidate();
        cache.Store("b", epoch, "B");

        Assert.Null(cache.Current("a"));
        Assert.Null(cache.Current("b"));
    }
}
