using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Waiting;
using ListLoggerProvider = WalverBot.Discord.Tests.Gateway.ListLoggerProvider;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>
/// A fake Discord (REST + gateway on 127.0.0.1) with one guild, and the real gateway client in a small host
/// built the way the app builds it: <c>AddDiscordRest()</c> + <c>AddDiscordGateway()</c>, real time, real WebSockets.
/// </summary>
internal sealed class GatewayWorld : IAsyncDisposable
{
    public const string GuildId = "4400000000000000001";
    public const string BotRoleId = "4400000000000000010";
    public const string VerifiedRoleId = "4400000000000000011";
    public const string ChannelId = "4400000000000000200";
    public const string AliceId = "4400000000000000100";

    /// <summary>
    /// For the tests about heartbeats and zombies (they ask for it): short enough that zombie detection takes a couple of
    /// seconds, long enough to stay far below 120 sends a minute.
    /// </summary>
    public const int HeartbeatIntervalMs = 1000;

    /// <summary>
    /// Every other test's interval. Real time: at 1 s a loaded machine can delay an ACK past the next heartbeat, and the
    /// bot then rightly closes the connection as a zombie and resumes (gateway#sending-heartbeats), adding a connection
    /// and a RESUME that tests counting connections, resumes or dispatches did not expect.
    /// </summary>
    public const int QuietHeartbeatIntervalMs = 5000;

    /// <summary>How long a test waits for something that should happen within a few heartbeats (only reached on failure).</summary>
    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(20);

    private readonly CancellationTokenSource _done = new();

    private GatewayWorld(FakeDiscordServer discord, FakeGatewayServer gateway)
    {
        Discord = discord;
        Gateway = gateway;
    }

    public FakeDiscordServer Discord { get; }

    public FakeGatewayServer Gateway { get; }

    public IHost Host { get; private set; } = null!;

    public Task Shutdown { get; private set; } = Task.CompletedTask;

    public ListLoggerProvider Logs { get; } = new();

    public EventLog Events { get; } = new();

    public IGatewayStatus Status => Host.Services.GetRequiredService<IGatewayStatus>();

    public IGuildCache Cache => Host.Services.GetRequiredService<IGuildCache>();

    public static async Task<GatewayWorld> StartAsync(
        Action<IServiceCollection>? configure = null, Action<FakeGatewayOptions>? gatewayOptions = null, Action<FakeDiscordServer>? seed = null,
        bool memberDirectory = false)
    {
        var discord = await FakeDiscordServer.StartAsync();
        discord.AddGuild(GuildId, "Integration guild");
        discord.AddRole(GuildId, new FakeRole(BotRoleId, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
        discord.AddRole(GuildId, new FakeRole(VerifiedRoleId, "Verified", 2));
        discord.SetBotRoles(GuildId, BotRoleId);
        discord.AddMember(GuildId, new FakeMember(AliceId, "alice"));
        discord.AddChannel(new FakeChannel(ChannelId, GuildId, "general"));
        seed?.Invoke(discord);
        var options = new FakeGatewayOptions { HeartbeatIntervalMs = QuietHeartbeatIntervalMs };
        gatewayOptions?.Invoke(options);
        var gateway = await FakeGatewayServer.StartAsync(discord, options);

        var world = new GatewayWorld(discord, gateway);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(world.Logs);
        builder.Services.AddOptions<DiscordOptions>().Configure(o =>
        {
            o.Token = discord.Token;
            o.ApiBaseUrl = discord.ApiBaseUrl;
            // Off unless asked for: these tests count the session's dispatches and op 8 requests one by one.
            o.MemberDirectory = memberDirectory;
        });
        builder.Services.AddDiscord(o => o.Intents = GatewayIntents.Guilds | GatewayIntents.GuildMembers);
        builder.Services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(world.Events);
        builder.Services.AddSingleton<IGatewayEventHandler<GuildRoleCreateEvent>>(world.Events);
        builder.Services.AddSingleton<IGatewayEventHandler<GuildRoleUpdateEvent>>(world.Events);
        builder.Services.AddSingleton<IGatewayEventHandler<GuildCreateEvent>>(world.Events);
        configure?.Invoke(builder.Services);
        world.Host = builder.Build();
        await world.Host.StartAsync();
        // Stops the host itself once something calls StopApplication (as the hosted service does on a fatal close).
        world.Shutdown = world.Host.WaitForShutdownAsync(world._done.Token);
        return world;
    }

    /// <summary>Waits (polling real time, no fixed sleep) until <paramref name="condition"/> holds.</summary>
    public static Task EventuallyAsync(Func<bool> condition, string description, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(condition, description, timeout ?? WaitTimeout);

    public Task WaitForReadyAsync() => EventuallyAsync(() => Status.IsReady, "the gateway status to be ready");

    /// <summary>Ready, with the guild's GUILD_CREATE applied to the cache.</summary>
    public async Task WaitForSessionAsync()
    {
        await Gateway.WaitForReadyAsync(timeout: WaitTimeout);
        await EventuallyAsync(() => Status.IsReady && Cache.GetGuild(ulong.Parse(GuildId, System.Globalization.CultureInfo.InvariantCulture)) is not null, "READY and GUILD_CREATE");
    }

    /// <summary>What the bot logged, which connections the fake saw and when IDENTIFYs and RESUMEs arrived, for a failure message (no token in it).</summary>
    public string Describe() => string.Join(Environment.NewLine,
        Logs.Lines
            .Concat(Gateway.Connections.Select(c => c.ToString()))
            .Concat(Gateway.Identifies.Select(i => $"IDENTIFY on connection {i.ConnectionId} arrived {i.At:HH:mm:ss.fff}"))
            .Concat(Gateway.Resumes.Select(r => $"RESUME on connection {r.ConnectionId} (seq {r.Seq}) arrived {r.At:HH:mm:ss.fff}"))
            .Select(l => l.Replace(Discord.Token, "<token>", StringComparison.Ordinal)));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Host.StopAsync();
            await _done.CancelAsync();
            try
            {
                await Shutdown;
            }
            catch (OperationCanceledException)
            {
            }

            Host.Dispose();
        }
        finally
        {
            await Gateway.DisposeAsync();
            await Discord.DisposeAsync();
            _done.Dispose();
        }

        // Whatever happened in the test: the client never identified inside Discord's 5 s window (max_concurrency 1),
        // and no log line carries the token (debug and trace included).
        Assert.True(Gateway.IdentifiesRefused == 0, $"{Gateway.IdentifiesRefused} IDENTIFY(s) inside Discord's 5 s window:\n{Describe()}");
        Assert.DoesNotContain(Logs.Entries, e => e.Message.Contains(Discord.Token, StringComparison.Ordinal)
            || (e.Exception?.ToString().Contains(Discord.Token, StringComparison.Ordinal) ?? false));
    }
}

/// <summary>Every event the handlers received, in the order their handlers ran.</summary>
internal sealed class EventLog :
    IGatewayEventHandler<GuildMemberAddEvent>,
    IGatewayEventHandler<GuildRoleCreateEvent>,
    IGatewayEventHandler<GuildRoleUpdateEvent>,
    IGatewayEventHandler<GuildCreateEvent>
{
    private readonly ConcurrentQueue<GatewayEvent> _events = new();

    public IReadOnlyList<GatewayEvent> All => [.. _events];

    public IReadOnlyList<T> Of<T>() where T : GatewayEvent => [.. _events.OfType<T>()];

    public Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken) => Record(gatewayEvent);

    public Task HandleAsync(GuildRoleCreateEvent gatewayEvent, CancellationToken cancellationToken) => Record(gatewayEvent);

    public Task HandleAsync(GuildRoleUpdateEvent gatewayEvent, CancellationToken cancellationToken) => Record(gatewayEvent);

    public Task HandleAsync(GuildCreateEvent gatewayEvent, CancellationToken cancellationToken) => Record(gatewayEvent);

    public Task WaitForAsync<T>(int count) where T : GatewayEvent =>
        GatewayWorld.EventuallyAsync(() => Of<T>().Count >= count, $"{count} {typeof(T).Name} at the handlers");

    private Task Record(GatewayEvent gatewayEvent)
    {
        _events.Enqueue(gatewayEvent);
        return Task.CompletedTask;
    }
}

/// <summary>A reconnect strategy with a fixed delay, registered in DI in place of the production backoff.</summary>
internal sealed class FixedReconnectStrategy(TimeSpan delay) : IReconnectStrategy
{
    public TimeSpan GetDelay(int failedAttempts) => delay;
}
