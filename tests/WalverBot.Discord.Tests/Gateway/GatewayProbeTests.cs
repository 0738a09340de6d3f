using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>The intent probe of <c>check</c> is a shard run over the scripted transport and a fake clock.</summary>
public class GatewayProbeTests
{
    private static readonly GatewayBotInfo Gateway = new("wss://gateway.test", 1, new SessionStartLimit(1000, 1000, 0, 1));
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private sealed class World : IDisposable
    {
        private readonly ServiceProvider _services;

        public World()
        {
            _services = new ServiceCollection().AddLogging(b => b.AddProvider(Logs)).AddMetrics().BuildServiceProvider();
            Probe = new GatewayProbe(
                Options.Create(new DiscordOptions { Token = ShardHarness.Token }),
                Options.Create(new DiscordGatewayOptions { Intents = ShardHarness.Intents, Browser = "probe", Device = "probe" }),
                Server,
                new ExponentialBackoffReconnectStrategy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), () => 0.5),
                new GatewayShardMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
                Time,
                _services.GetRequiredService<ILoggerFactory>())
            {
                Random = () => 0.5,
            };
        }

        public FakeTimeProvider Time { get; } = new();
        public FakeGatewayServer Server { get; } = new();
        public ListLoggerProvider Logs { get; } = new();
        public GatewayProbe Probe { get; }

        public void Dispose()
        {
            _services.Dispose();
            Assert.DoesNotContain(Logs.Entries, e => e.Message.Contains(ShardHarness.Token, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_session_that_reaches_READY_is_ok_and_is_closed_normally_at_once()
    {
        using var world = new World();
        var probing = world.Probe.RunAsync(Gateway, Timeout, CancellationToken.None);
        var connection = await world.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        var identify = (await connection.NextSentAsync(op: 2)).GetProperty("d");
        await connection.ReadyAsync();

        var result = await probing.WaitAsync(Timeouts.Signal);

        Assert.True(result.Ready, result.Detail);
        Assert.Null(result.Stop);
        Assert.Equal(3, identify.GetProperty("intents").GetInt32());
        Assert.Equal("probe", identify.GetProperty("properties").GetProperty("browser").GetString());
        Assert.Equal([0, 1], identify.GetProperty("shard").EnumerateArray().Select(e => e.GetInt32()));
        // 1000 ends the session at Discord, so the probe leaves no session behind to time out.
        Assert.Equal(1000, await connection.Closed.WaitAsync(Timeouts.Signal));
        Assert.Single(world.Server.Connections);
    }

    [Fact]
    public async Task A_fatal_close_is_reported_with_its_code_and_advice_and_not_retried()
    {
        using var world = new World();
        var probing = world.Probe.RunAsync(Gateway, Timeout, CancellationToken.None);
        var connection = await world.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.NextSentAsync(op: 2);
        await connection.CloseFromServerAsync(GatewayCloseCodes.DisallowedIntents);

        var result = await probing.WaitAsync(Timeouts.Signal);

        Assert.False(result.Ready);
        Assert.Equal(
            $"Discord closed the session with {GatewayCloseCodes.Describe(4014)}: {GatewayCloseCodes.Advice(4014)}",
            result.Detail);
        Assert.Equal(4014, result.Stop?.CloseCode);
        Assert.Single(world.Server.Connections);
    }

    [Fact]
    public async Task An_invalid_session_is_identified_again_after_Discords_wait_and_then_reaches_READY()
    {
        using var world = new World();
        var probing = world.Probe.RunAsync(Gateway, Timeout, CancellationToken.None);
        var first = await world.Server.NextConnectionAsync();
        await first.HelloAsync(ShardHarness.Interval);
        await first.NextSentAsync(op: 2);
        world.Time.Advance(TimeSpan.FromSeconds(10)); // past the identify gate's 5 s spacing: only the op 9 wait counts
        // Docs (gateway#rate-limiting): an IDENTIFY too soon after another is answered with op 9 d:false.
        await first.OpAsync(9, "false");
        await first.Closed.WaitAsync(Timeouts.Signal);

        world.Time.Advance(TimeSpan.FromSeconds(3)); // 1 s + 4 s × 0.5, then IDENTIFY again
        var second = await world.Server.NextConnectionAsync();
        await second.HelloAsync(ShardHarness.Interval);
        await second.NextSentAsync(op: 2);
        await second.ReadyAsync();

        var result = await probing.WaitAsync(Timeouts.Signal);
        Assert.True(result.Ready, result.Detail);
    }

    [Fact]
    public async Task No_READY_within_the_timeout_says_so_with_the_shards_last_state()
    {
        using var world = new World();
        var probing = world.Probe.RunAsync(Gateway, Timeout, CancellationToken.None);
        var connection = await world.Server.NextConnectionAsync();
        await connection.HelloAsync(ShardHarness.Interval);
        await connection.NextSentAsync(op: 2);

        world.Time.Advance(Timeout);
        var result = await probing.WaitAsync(Timeouts.Signal);

        Assert.False(result.Ready);
        Assert.StartsWith("no READY within 15 s (shard 0: ", result.Detail, StringComparison.Ordinal);
        Assert.Null(result.Stop);
    }
}
