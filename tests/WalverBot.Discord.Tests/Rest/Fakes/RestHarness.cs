using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Rest;
using WalverBot.Testing.Waiting;

namespace WalverBot.Discord.Tests.Rest.Fakes;

/// <summary>
/// The real DI wiring (<c>AddDiscordRest</c>) against a scripted fake Discord and a fake clock.
/// Nothing here sleeps: time moves only when a test calls <see cref="FakeTimeProvider.Advance"/>.
/// </summary>
internal sealed class RestHarness : IDisposable
{
    public const string Token = "test-bot-token";

    public RestHarness(DiscordRestSettings? settings = null, string apiBaseUrl = "https://discord.test/api/v10", Action<DiscordOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<TimeProvider>(Time);
        services.AddOptions<DiscordOptions>().Configure(options =>
        {
            options.Token = Token;
            options.ApiBaseUrl = apiBaseUrl;
            configure?.Invoke(options);
        });
        if (settings is not null)
        {
            services.AddSingleton(settings);
        }

        services.AddDiscordRest();
        services.ConfigureHttpClientDefaults(builder => builder.ConfigurePrimaryHttpMessageHandler(() => Http));
        Services = services.BuildServiceProvider();
        Client = Services.GetRequiredService<IDiscordRestClient>();
    }

    public TimerWatchingTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public ScriptedHttpHandler Http { get; } = new();

    public ListLoggerProvider Logs { get; } = new();

    public ServiceProvider Services { get; }

    public IDiscordRestClient Client { get; }

    public void Dispose() => Services.Dispose();
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> that knows which timers are armed. A caller released by another task arms its wait
/// a moment later, on another thread; advancing the clock before that moves time past a timer that does not exist yet,
/// and the wait, armed afterwards, never ends. Tests wait for the armed timer instead.
/// </summary>
internal sealed class TimerWatchingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ConcurrentDictionary<WatchedTimer, TimeSpan> _armed = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(this, period);
        timer.Arm(dueTime);
        timer.Inner = base.CreateTimer(s =>
        {
            timer.Fired();
            callback(s);
        }, state, dueTime, period);
        return timer;
    }

    /// <summary>Waits until a timer due <paramref name="dueTime"/> after it was armed is armed and has not fired.</summary>
    public Task WhenArmedAsync(TimeSpan dueTime) => TestWait.UntilAsync(() => _armed.Values.Contains(dueTime));

    private sealed class WatchedTimer(TimerWatchingTimeProvider owner, TimeSpan period) : ITimer
    {
        private TimeSpan _period = period;

        public ITimer Inner { get; set; } = null!;

        public void Arm(TimeSpan dueTime)
        {
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                owner._armed.TryRemove(this, out _);
            }
            else
            {
                owner._armed[this] = dueTime;
            }
        }

        public void Fired()
        {
            if (_period == Timeout.InfiniteTimeSpan)
            {
                owner._armed.TryRemove(this, out _);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            Arm(dueTime);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            owner._armed.TryRemove(this, out _);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            owner._armed.TryRemove(this, out _);
            return Inner.DisposeAsync();
        }
    }
}

internal static class TestWait
{
    // Guards against hangs only; no assertion depends on how fast anything runs.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(HangGuard);

    public static Task Within(this Task task) => task.WaitAsync(HangGuard);

    /// <summary>Waits (in real time, briefly yielding) until background work has reached a state.</summary>
    public static Task UntilAsync(Func<bool> condition, string what = "the background work to reach the state") =>
        Eventually.UntilAsync(condition, what, HangGuard);
}
