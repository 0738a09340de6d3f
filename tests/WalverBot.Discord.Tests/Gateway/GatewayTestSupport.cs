using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>Captures log lines so tests can read what an operator would see.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IReadOnlyList<string> Lines => [.. Entries.Select(e => e.Message)];

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Entries.Enqueue((logLevel, formatter(state, exception), exception));
    }
}

/// <summary>A hand-written <see cref="IDiscordRestClient"/>: only <c>GET /gateway/bot</c> is scripted.</summary>
internal sealed class FakeDiscordRestClient : IDiscordRestClient
{
    public Func<GatewayBotInfo> GatewayBot { get; set; } =
        () => new GatewayBotInfo("wss://gateway.test", 1, new SessionStartLimit(1000, 1000, 0, 1));

    public int GatewayBotCalls { get; private set; }

    public Task<GatewayBotInfo> GetGatewayBotAsync(CancellationToken cancellationToken)
    {
        GatewayBotCalls++;
        return Task.FromResult(GatewayBot());
    }

    public Task<DiscordUser> GetCurrentUserAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<GuildMember?> GetGuildMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<GuildMember>> SearchGuildMembersAsync(ulong guildId, string query, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<DiscordRole>> GetGuildRolesAsync(ulong guildId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task AddGuildMemberRoleAsync(ulong guildId, ulong userId, ulong roleId, string? auditLogReason, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task RemoveGuildMemberRoleAsync(ulong guildId, ulong userId, ulong roleId, string? auditLogReason, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<PartialGuild>> GetCurrentUserGuildsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DiscordGuild> GetGuildAsync(ulong guildId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<DiscordChannel>> GetGuildChannelsAsync(ulong guildId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DiscordChannel> GetChannelAsync(ulong channelId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DiscordMessage> CreateMessageAsync(ulong channelId, MessageCreate message, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task CreateInteractionResponseAsync(ulong interactionId, string interactionToken, InteractionResponse response, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DiscordMessage> EditOriginalInteractionResponseAsync(ulong applicationId, string interactionToken, MessageEdit edit, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DiscordMessage> CreateFollowupMessageAsync(ulong applicationId, string interactionToken, MessageCreate message, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DiscordMessage> CreateFollowupMessageWithFilesAsync(ulong applicationId, string interactionToken, MessageCreate message, IReadOnlyList<FileUpload> files, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<ApplicationCommand>> BulkOverwriteGlobalApplicationCommandsAsync(ulong applicationId, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<ApplicationCommand>> BulkOverwriteGuildApplicationCommandsAsync(ulong applicationId, ulong guildId, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken) => throw new NotSupportedException();
}

/// <summary>Records the events it receives and signals each one.</summary>
internal sealed class RecordingHandler<TEvent> : IGatewayEventHandler<TEvent>
    where TEvent : GatewayEvent
{
    private readonly System.Threading.Channels.Channel<TEvent> _received = System.Threading.Channels.Channel.CreateUnbounded<TEvent>();

    public Task HandleAsync(TEvent gatewayEvent, CancellationToken cancellationToken)
    {
        _received.Writer.TryWrite(gatewayEvent);
        return Task.CompletedTask;
    }

    public async Task<TEvent> NextAsync() => await _received.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Signal);
}

/// <summary>A handler that always fails.</summary>
internal sealed class ThrowingHandler<TEvent> : IGatewayEventHandler<TEvent>
    where TEvent : GatewayEvent
{
    public Task HandleAsync(TEvent gatewayEvent, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("handler bug");
}

/// <summary>One shard wired to a scripted gateway, a fake clock and fixed randomness.</summary>
internal sealed class ShardHarness : IAsyncDisposable
{
    public const string Token = "MTE2.secret-bot-token.xyz";
    public const int Interval = 40_000;

    /// <summary>What the shard identifies with in these tests, as a host would set it.</summary>
    public const GatewayIntents Intents = GatewayIntents.Guilds | GatewayIntents.GuildMembers;

    private readonly CancellationTokenSource _stop = new();
    private readonly ServiceProvider _services;

    public ShardHarness(double random = 0.5, int shardId = 0, int shardCount = 1, Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs));
        configure?.Invoke(services);
        services.AddSingleton<GuildCache>();
        services.AddSingleton<GatewayEventDispatcher>();
        services.AddMetrics();
        services.AddSingleton<GatewayShardMetrics>();
        _services = services.BuildServiceProvider();

        Status.Start([shardId]);
        var logger = _services.GetRequiredService<ILoggerFactory>().CreateLogger("shard");
        Shard = new GatewayShard(
            new GatewayShardSettings(Token, shardId, shardCount, new Uri("wss://gateway.test"), Intents, new IdentifyProperties("linux", "tests", "tests")),
            Server,
            new IdentifyGate(new SessionStartLimit(1000, 1000, 0, 1), Time, logger),
            new ExponentialBackoffReconnectStrategy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), () => random),
            _services.GetRequiredService<GatewayEventDispatcher>(),
            Status,
            _services.GetRequiredService<GatewayShardMetrics>(),
            Time,
            logger,
            () => random);
    }

    public FakeTimeProvider Time { get; } = new();
    public FakeGatewayServer Server { get; } = new();
    public GatewayStatus Status { get; } = new();
    public ListLoggerProvider Logs { get; } = new();
    public GatewayShard Shard { get; }
    public Task Running { get; private set; } = Task.CompletedTask;
    public GuildCache Cache => _services.GetRequiredService<GuildCache>();
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public ShardHarness Start()
    {
        Running = Shard.RunAsync(_stop.Token);
        return this;
    }

    /// <summary>Starts the shard and plays a session up to READY; returns the connection.</summary>
    public async Task<FakeGatewayConnection> StartReadyAsync()
    {
        Start();
        var connection = await Server.NextConnectionAsync();
        await connection.HelloAsync(Interval);
        await connection.NextSentAsync(op: 2);
        await connection.ReadyAsync();
        return connection;
    }

    public void Advance(int milliseconds) => Time.Advance(TimeSpan.FromMilliseconds(milliseconds));

    /// <summary>Signals the shard to stop, as the host does at shutdown; <see cref="Running"/> says when it has.</summary>
    public Task StopAsync() => _stop.CancelAsync();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Running.WaitAsync(Timeouts.Signal);
        }
        catch (Exception)
        {
            // Tests assert on Running themselves where its outcome matters.
        }

        await _services.DisposeAsync();
        Assert.DoesNotContain(Logs.Entries, e => e.Message.Contains(Token, StringComparison.Ordinal));
    }
}

internal static class Samples
{
    /// <summary>A full gateway payload from Samples/{eventName}.json.</summary>
    public static string Payload(string eventName) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Gateway", "Samples", eventName + ".json"));

    /// <summary>The <c>d</c> of a sample payload.</summary>
    public static JsonElement Data(string eventName) =>
        JsonDocument.Parse(Payload(eventName)).RootElement.GetProperty("d").Clone();
}
