using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Rest;

namespace WalverBot.Discord.Tests.Rest.Fakes;

/// <summary>
/// The real DI wiring (<c>AddDiscordRest</c>) against a scripted fake Discord and a fake clock.
/// Nothing here sleeps: time moves only when a test calls <see cref="FakeTimeProvider.Advance"/>.
/// </summary>
internal sealed class RestHarness : IDisposable
{
    public const string Token = "test-bot-token";

    public RestHarness(DiscordRestSettings? settings = null, string apiBaseUrl = "https://discord.test/api/v10")
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<TimeProvider>(Time);
        services.AddOptions<DiscordOptions>().Configure(options =>
        {
            options.Token = Token;
            options.ApiBaseUrl = apiBaseUrl;
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

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public ScriptedHttpHandler Http { get; } = new();

    public ListLoggerProvider Logs { get; } = new();

    public ServiceProvider Services { get; }

    public IDiscordRestClient Client { get; }

    public void Dispose() => Services.Dispose();
}

internal static class TestWait
{
    // Guards against hangs only; no assertion depends on how fast anything runs.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(HangGuard);

    public static Task Within(this Task task) => task.WaitAsync(HangGuard);

    /// <summary>Waits (in real time, briefly yielding) until background work has reached a state.</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition was never met.");
            }

            await Task.Delay(1);
        }
    }
}
