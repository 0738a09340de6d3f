using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Testing.Waiting;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>How dispatched events reach their handlers: in order per guild, through bounded lanes, drained at shutdown.</summary>
public sealed class GatewayDispatchTests
{
    private const ulong Guild = 197038439483310086;
    private const string Member = "53908232506183680";

    [Fact]
    public async Task A_members_ADD_and_UPDATE_are_handled_in_order_even_when_the_ADD_handler_is_slow()
    {
        await using var world = new DispatchWorld(new GatewayDispatchOptions());
        world.Handler.Hold("ADD");

        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_ADD", MemberJson(Guild, Member, nick: null));
        await world.Handler.StartedAsync("ADD");
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "renamed"));

        // The UPDATE was handed over (its DispatchAsync returned) and waits behind the running ADD.
        await EventuallyAsync(() => world.Dispatcher.Queued == 1 || world.Handler.Log.Contains("start UPDATE"), "the UPDATE queued or started");
        Assert.DoesNotContain("start UPDATE", world.Handler.Log);
        Assert.Equal(1, world.Dispatcher.InFlight);

        world.Handler.Release("ADD");
        await EventuallyAsync(() => world.Handler.Log.Count == 4, "both handlers done");
        Assert.Equal(["start ADD", "end ADD", "start UPDATE", "end UPDATE"], world.Handler.Log);
        Assert.Equal(["renamed"], world.Handler.Nicks);
    }

    [Fact]
    public async Task Another_guilds_events_are_not_held_up_by_a_slow_guild()
    {
        var options = new GatewayDispatchOptions();
        var other = Enumerable.Range(1, 1000).Select(i => Guild + (ulong)i)
            .First(id => GatewayEventDispatcher.LaneOf(id, options.GuildLanes) != GatewayEventDispatcher.LaneOf(Guild, options.GuildLanes));
        await using var world = new DispatchWorld(options);
        world.Handler.Hold("ADD");

        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_ADD", MemberJson(Guild, Member, nick: null));
        await world.Handler.StartedAsync("ADD");
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(other, Member, nick: "elsewhere"));

        await EventuallyAsync(() => world.Handler.Log.Contains("end UPDATE"), "the other guild's UPDATE handled while the first guild's ADD runs");
        Assert.DoesNotContain("end ADD", world.Handler.Log);
        world.Handler.Release("ADD");
    }

    [Fact]
    public async Task A_full_lane_makes_DispatchAsync_wait_instead_of_growing()
    {
        await using var world = new DispatchWorld(new GatewayDispatchOptions { GuildLanes = 1, LaneCapacity = 2 });
        world.Handler.Hold("ADD");
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_ADD", MemberJson(Guild, Member, nick: null));
        await world.Handler.StartedAsync("ADD");

        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "a"));
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "b"));
        var fourth = world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "c")).AsTask();

        // One running, two queued (the capacity), the fourth waits for room: the caller (the shard) is held up.
        Assert.False(fourth.IsCompleted);
        Assert.Equal(2, world.Dispatcher.Queued);
        Assert.Equal(1, world.Dispatcher.InFlight);

        world.Handler.Release("ADD");
        await fourth.WaitAsync(Timeouts.Signal);
        await EventuallyAsync(() => world.Handler.Log.Count(l => l.StartsWith("end", StringComparison.Ordinal)) == 4, "all four handled");
        Assert.Equal(["ADD", "UPDATE", "UPDATE", "UPDATE"], world.Handler.Log.Where(l => l.StartsWith("end", StringComparison.Ordinal)).Select(l => l[4..]).ToList());
        Assert.Equal(["a", "b", "c"], world.Handler.Nicks);
    }

    [Fact]
    public async Task Drain_finishes_running_and_queued_handlers_before_it_returns()
    {
        await using var world = new DispatchWorld(new GatewayDispatchOptions());
        world.Handler.Hold("ADD");
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_ADD", MemberJson(Guild, Member, nick: null));
        await world.Handler.StartedAsync("ADD");
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "queued"));

        var drain = world.Dispatcher.DrainAsync(CancellationToken.None);
        Assert.False(drain.IsCompleted);

        world.Handler.Release("ADD");
        await drain.WaitAsync(Timeouts.Signal);
        Assert.Equal(["start ADD", "end ADD", "start UPDATE", "end UPDATE"], world.Handler.Log);
        Assert.False(world.Handler.SawCancellation);

        // After the drain nothing more is taken; a late event is logged, not lost silently, and does not throw.
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "late"));
        Assert.Contains(world.Logs.Entries, e => e.Message.Contains("after gateway events were drained", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Drain_cancels_the_handlers_and_drops_the_queue_when_the_shutdown_budget_runs_out()
    {
        await using var world = new DispatchWorld(new GatewayDispatchOptions());
        world.Handler.Hold("ADD", untilCancelled: true);
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_ADD", MemberJson(Guild, Member, nick: null));
        await world.Handler.StartedAsync("ADD");
        await world.Dispatcher.DispatchAsync(0, "GUILD_MEMBER_UPDATE", MemberJson(Guild, Member, nick: "dropped"));

        using var budget = new CancellationTokenSource();
        var drain = world.Dispatcher.DrainAsync(budget.Token);
        await budget.CancelAsync();
        await drain.WaitAsync(Timeouts.Signal);

        await EventuallyAsync(() => world.Handler.SawCancellation, "the running handler to see its token cancelled");
        var warning = Assert.Single(world.Logs.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("1 gateway event handler(s) still running (cancelled) and 1 event(s) not handled", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("start UPDATE", world.Handler.Log);
    }

    internal static JsonElement MemberJson(ulong guildId, string userId, string? nick) => JsonDocument.Parse(
        $$"""
        {"guild_id":"{{guildId}}","user":{"id":"{{userId}}","username":"mason","discriminator":"0"},
         "nick":{{(nick is null ? "null" : $"\"{nick}\"")}},"roles":[],"joined_at":"2024-06-01T09:30:00.000000+00:00"}
        """).RootElement.Clone();

    private static Task EventuallyAsync(Func<bool> condition, string description) =>
        Eventually.UntilAsync(condition, description, Timeouts.Signal);

    private sealed class DispatchWorld : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        public DispatchWorld(GatewayDispatchOptions options)
        {
            var services = new ServiceCollection().AddLogging(b => b.AddProvider(Logs));
            services.AddSingleton<IGatewayEventHandler<GuildMemberAddEvent>>(Handler);
            services.AddSingleton<IGatewayEventHandler<GuildMemberUpdateEvent>>(Handler);
            _services = services.BuildServiceProvider();
            Dispatcher = new GatewayEventDispatcher(
                _services.GetRequiredService<IServiceScopeFactory>(), new GuildCache(), _services.GetRequiredService<ILogger<GatewayEventDispatcher>>(), options);
        }

        public ListLoggerProvider Logs { get; } = new();
        public RecordingHandler Handler { get; } = new();
        public GatewayEventDispatcher Dispatcher { get; }

        public async ValueTask DisposeAsync()
        {
            Handler.ReleaseAll();
            using var budget = new CancellationTokenSource(Timeouts.Signal);
            await Dispatcher.DrainAsync(budget.Token);
            await _services.DisposeAsync();
        }
    }

    /// <summary>Records each handler's start and end; an event kind can be held until released (or cancelled).</summary>
    internal sealed class RecordingHandler : IGatewayEventHandler<GuildMemberAddEvent>, IGatewayEventHandler<GuildMemberUpdateEvent>
    {
        private readonly ConcurrentDictionary<string, HoldState> _holds = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
        private readonly ConcurrentQueue<string> _log = new();
        private readonly ConcurrentQueue<string> _nicks = new();
        private volatile bool _sawCancellation;

        public IReadOnlyList<string> Log => [.. _log];
        public IReadOnlyList<string> Nicks => [.. _nicks];
        public bool SawCancellation => _sawCancellation;

        public void Hold(string kind, bool untilCancelled = false) =>
            _holds[kind] = new HoldState(untilCancelled);

        public void Release(string kind) => _holds[kind].Gate.TrySetResult();

        public void ReleaseAll()
        {
            foreach (var hold in _holds.Values)
            {
                hold.Gate.TrySetResult();
            }
        }

        public Task StartedAsync(string kind) => Started(kind).Task.WaitAsync(Timeouts.Signal);

        public Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken) => RunAsync("ADD", cancellationToken);

        public Task HandleAsync(GuildMemberUpdateEvent gatewayEvent, CancellationToken cancellationToken)
        {
            _nicks.Enqueue(gatewayEvent.Member.Nick ?? "");
            return RunAsync("UPDATE", cancellationToken);
        }

        private TaskCompletionSource Started(string kind) => _started.GetOrAdd(kind, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        private async Task RunAsync(string kind, CancellationToken cancellationToken)
        {
            _log.Enqueue($"start {kind}");
            Started(kind).TrySetResult();
            // Only the first event of a held kind waits.
            if (_holds.TryGetValue(kind, out var hold) && Interlocked.Exchange(ref hold.Used, 1) == 0)
            {
                try
                {
                    await (hold.UntilCancelled ? Task.Delay(Timeout.Infinite, cancellationToken) : hold.Gate.Task.WaitAsync(cancellationToken));
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    _sawCancellation = true;
                    throw;
                }
            }

            _log.Enqueue($"end {kind}");
        }

        private sealed class HoldState(bool untilCancelled)
        {
            public int Used;

            public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public bool UntilCancelled { get; } = untilCancelled;
        }
    }
}
