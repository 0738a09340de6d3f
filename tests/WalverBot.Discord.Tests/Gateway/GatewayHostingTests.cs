using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Discord.Tests.Rest.Fakes;

namespace WalverBot.Discord.Tests.Gateway;

public class GatewayHostingTests
{
    [Fact]
    public async Task Client_runs_the_recommended_shard_count_and_spaces_identifies_per_max_concurrency()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token });
        world.Rest.GatewayBot = () => new GatewayBotInfo("wss://gateway.test", 2, new SessionStartLimit(1000, 1000, 0, 1));
        using var stop = new CancellationTokenSource();
        var running = world.Client.RunAsync(stop.Token);

        var first = await world.Server.NextConnectionAsync();
        await first.HelloAsync(ShardHarness.Interval);
        var firstIdentify = await first.NextSentAsync(op: 2);
        Assert.Equal(new[] { 0, 2 }, ShardOf(firstIdentify));
        Assert.Equal(0, world.Server.WaitingConnections);

        world.Time.Advance(IdentifyGate.BucketSpacing);
        var second = await world.Server.NextConnectionAsync();
        await second.HelloAsync(ShardHarness.Interval);
        var secondIdentify = await second.NextSentAsync(op: 2);
        Assert.Equal(new[] { 1, 2 }, ShardOf(secondIdentify));

        Assert.Equal("shard 0: connecting; shard 1: connecting", world.Status.NotReadyReason);
        await first.ReadyAsync();
        await second.ReadyAsync();
        Assert.True(world.Status.IsReady);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Timeouts.Signal));
        Assert.Equal(1000, await first.Closed); // a normal close on shutdown ends the session
    }

    [Fact]
    public async Task Client_runs_only_the_configured_shard_ids()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token, ShardCount = 4, ShardIds = [2] });
        using var stop = new CancellationTokenSource();
        var running = world.Client.RunAsync(stop.Token);

        var connection = await world.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        var connectionIdentify = await connection.NextSentAsync(op: 2);
        Assert.Equal(new[] { 2, 4 }, ShardOf(connectionIdentify));
        await connection.ReadyAsync();
        Assert.True(world.Status.IsReady);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Timeouts.Signal));
    }

    [Fact]
    public async Task Shard_ids_outside_the_shard_count_are_fatal_before_connecting()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token, ShardCount = 2, ShardIds = [0, 2] });

        var fatal = await Assert.ThrowsAsync<GatewayFatalException>(() => world.Client.RunAsync(CancellationToken.None));

        Assert.Contains("Discord:ShardIds", fatal.Message, StringComparison.Ordinal);
        Assert.Empty(world.Server.Connections);
    }

    [Fact]
    public async Task Rejected_token_on_gateway_discovery_is_fatal()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token });
        world.Rest.GatewayBot = () => throw new DiscordRestException("GET /gateway/bot", HttpStatusCode.Unauthorized, 0, "401: Unauthorized");

        var fatal = await Assert.ThrowsAsync<GatewayFatalException>(() => world.Client.RunAsync(CancellationToken.None));

        Assert.Contains("Discord:Token", fatal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_discovery_retries_while_Discord_is_unreachable()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token });
        var calls = 0;
        world.Rest.GatewayBot = () => ++calls == 1
            ? throw new DiscordRestException("GET /gateway/bot", null, null, "timed out")
            : new GatewayBotInfo("wss://gateway.test", 1, new SessionStartLimit(1000, 1000, 0, 1));
        using var stop = new CancellationTokenSource();
        var running = world.Client.RunAsync(stop.Token);

        // The retry waits on the fake clock; move it on until the second discovery connects a shard.
        await GatewayShardTests.EventuallyAsync(() =>
        {
            world.Time.Advance(TimeSpan.FromSeconds(1));
            return world.Server.WaitingConnections > 0 ? "" : null;
        });
        Assert.Equal(2, calls);
        await world.Server.NextConnectionAsync();

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Timeouts.Signal));
    }

    [Fact]
    public async Task Fatal_close_logs_one_line_reports_the_stop_and_leaves_the_host_running()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token });
        var logger = world.Loggers.CreateLogger<GatewayHostedService>();
        using var service = new GatewayHostedService(world.Client, world.Status, world.Dispatcher, world.Time, logger);

        await service.StartAsync(CancellationToken.None);
        var connection = await world.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.NextSentAsync(op: 2);
        await connection.CloseFromServerAsync(GatewayCloseCodes.DisallowedIntents);
        var stop = await world.Status.WhenStopped.WaitAsync(Timeouts.Signal);

        // Reported, not acted on: the library neither stops the host nor sets an exit code (it is given no lifetime).
        Assert.Equal(4014, stop.CloseCode);
        Assert.Equal(0, stop.ShardId);
        Assert.Equal(world.Time.GetUtcNow(), stop.At);
        Assert.Equal(GatewayCloseCodes.Advice(4014), stop.Advice);
        Assert.Equal(0, Environment.ExitCode);
        var critical = Assert.Single(world.Logs.Entries, e => e.Level == LogLevel.Critical);
        Assert.Null(critical.Exception);
        Assert.Contains("4014", critical.Message, StringComparison.Ordinal);
        Assert.Contains("enable the Server Members intent in the Discord developer portal (Bot → Privileged Gateway Intents)", critical.Message, StringComparison.Ordinal);
        Assert.False(world.Status.IsReady);
        Assert.Contains("4014", world.Status.NotReadyReason, StringComparison.Ordinal);
        Assert.DoesNotContain(world.Logs.Entries, e => e.Message.Contains(ShardHarness.Token, StringComparison.Ordinal));

        // The client has returned (the stop is reported after it did), so nothing can connect or IDENTIFY again.
        world.Time.Advance(TimeSpan.FromHours(1));
        Assert.Single(world.Server.Connections);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task An_unexpected_error_starts_the_gateway_again_after_a_backoff_instead_of_stopping_it()
    {
        var world = new World(new DiscordOptions { Token = ShardHarness.Token });
        var discover = world.Rest.GatewayBot;
        world.Rest.GatewayBot = () => world.Rest.GatewayBotCalls == 1 ? throw new InvalidOperationException("a bug") : discover();
        var logger = world.Loggers.CreateLogger<GatewayHostedService>();
        using var service = new GatewayHostedService(world.Client, world.Status, world.Dispatcher, world.Time, logger) { Random = () => 0.5 };

        await service.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => world.Logs.Entries.Any(e => e.Level == LogLevel.Error));
        var error = Assert.Single(world.Logs.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(error.Exception);
        var backoff = GatewayHostedService.RestartBackoff.Delay(0, 0.5); // 5 s × 0.75
        Assert.Equal(TimeSpan.FromSeconds(3.75), backoff);
        Assert.Contains($"starting it again in {backoff}", error.Message, StringComparison.Ordinal);
        Assert.Null(world.Status.Stopped);
        Assert.Equal(0, world.Server.WaitingConnections);
        var failedAt = world.Time.GetUtcNow();

        // The backoff runs on the host's clock: once it has passed, the gateway discovers and connects again.
        await TestWait.UntilAsync(() =>
        {
            world.Time.Advance(TimeSpan.FromMilliseconds(500));
            return world.Server.WaitingConnections > 0;
        });
        Assert.Equal(2, world.Rest.GatewayBotCalls);
        Assert.True(world.Time.GetUtcNow() - failedAt >= backoff);
        Assert.Null(world.Status.Stopped);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void AddDiscordGateway_registers_the_gateway_for_a_host()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOptions<DiscordOptions>().Configure(o => o.Token = ShardHarness.Token);
        services.AddSingleton<IDiscordRestClient, FakeDiscordRestClient>();
        services.AddSingleton<IHostApplicationLifetime, FakeLifetime>();

        services.AddDiscordGateway();
        services.AddGatewayEventHandler<MemberAndInteractionHandler>();
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.False(provider.GetRequiredService<IGatewayStatus>().IsReady);
        Assert.Empty(provider.GetRequiredService<IGuildCache>().Guilds);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
        Assert.Contains(provider.GetServices<IHostedService>(), s => s is GatewayHostedService);
        Assert.IsType<GatewayProbe>(provider.GetRequiredService<IGatewayProbe>());
        using var scope = provider.CreateScope();
        Assert.IsType<MemberAndInteractionHandler>(scope.ServiceProvider.GetRequiredService<IGatewayEventHandler<GuildMemberAddEvent>>());
        Assert.IsType<MemberAndInteractionHandler>(scope.ServiceProvider.GetRequiredService<IGatewayEventHandler<InteractionCreateEvent>>());
    }

    private static int[] ShardOf(System.Text.Json.JsonElement identify) =>
        [.. identify.GetProperty("d").GetProperty("shard").EnumerateArray().Select(e => e.GetInt32())];

    private sealed class MemberAndInteractionHandler : IGatewayEventHandler<GuildMemberAddEvent>, IGatewayEventHandler<InteractionCreateEvent>
    {
        public Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task HandleAsync(InteractionCreateEvent gatewayEvent, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class FakeLifetime : IHostApplicationLifetime
    {
        private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Stopping => _stopping.Task;
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.TrySetResult();
    }

    /// <summary>A <see cref="DiscordGatewayClient"/> with fakes around it.</summary>
    private sealed class World
    {
        public World(DiscordOptions options)
        {
            var services = new ServiceCollection().AddLogging(b => b.AddProvider(Logs)).AddMetrics().BuildServiceProvider();
            Loggers = services.GetRequiredService<ILoggerFactory>();
            var dispatcher = Dispatcher = new GatewayEventDispatcher(services.GetRequiredService<IServiceScopeFactory>(), new GuildCache(), Loggers.CreateLogger<GatewayEventDispatcher>());
            Client = new DiscordGatewayClient(
                Options.Create(options),
                Options.Create(new DiscordGatewayOptions { Intents = ShardHarness.Intents }),
                Rest,
                Server,
                new ExponentialBackoffReconnectStrategy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), () => 0.5),
                dispatcher,
                Status,
                new GatewayShardMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
                Time,
                Loggers)
            {
                Random = () => 0.5,
            };
        }

        public FakeDiscordRestClient Rest { get; } = new();
        public FakeGatewayServer Server { get; } = new();
        public FakeTimeProvider Time { get; } = new();
        public GatewayStatus Status { get; } = new();
        public ListLoggerProvider Logs { get; } = new();
        public ILoggerFactory Loggers { get; }
        public DiscordGatewayClient Client { get; }
        public GatewayEventDispatcher Dispatcher { get; }
    }
}
