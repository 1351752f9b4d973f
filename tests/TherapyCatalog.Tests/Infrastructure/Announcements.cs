using Microsoft.Extensions.DependencyInjection;
using TherapyCatalog.Api.Infrastructure;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// Waiting for the event a test is about, not for a clock: the app under test has heard of a
/// commit once its <see cref="ChangeSignal.Epoch"/> has moved on.
/// </summary>
public static class Announcements
{
    /// <summary>Only a broken build waits this long.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>The epoch now: read it before the write whose announcement the test will wait for.</summary>
    public static long? Epoch(this CatalogApiFactory api) => api.Services.GetRequiredService<ChangeSignal>().Epoch;

    /// <summary>Returns once the app has heard of a change after <paramref name="before"/> (listening, its epoch moved on).</summary>
    public static async Task HeardSinceAsync(this CatalogApiFactory api, long? before)
    {
        var signal = api.Services.GetRequiredService<ChangeSignal>();
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (signal.Epoch is not { } now || now == before)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"the app heard of no change in {Patience.TotalSeconds} s");
            await signal.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None);
        }
    }
}
