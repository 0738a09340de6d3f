using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>Where a shard hands its dispatches, one at a time and in sequence order.</summary>
internal interface IGatewayDispatchTarget
{
    /// <summary>Takes one dispatch; may wait (backpressure), which holds up the shard's queue and then its socket.</summary>
    ValueTask DispatchAsync(int shardId, string eventName, JsonElement data);
}

/// <summary>How gateway events reach their handlers: lanes, and how many events each lane may hold.</summary>
internal sealed record GatewayDispatchOptions
{
    /// <summary>Lanes for guild events; one guild's events always take the same lane, so they run in order.</summary>
    public int GuildLanes { get; init; } = 4;

    /// <summary>Lanes for interactions, apart from guild events: a slow member handler must not eat into the 3 s an interaction has.</summary>
    public int InteractionLanes { get; init; } = 4;

    /// <summary>Events a lane holds before <see cref="GatewayEventDispatcher.DispatchAsync"/> waits (backpressure).</summary>
    public int LaneCapacity { get; init; } = 256;
}

/// <summary>
/// Turns dispatches into typed events, applies them to the guild cache, and hands them to the
/// <see cref="IGatewayEventHandler{TEvent}"/>s registered in DI. A shard calls <see cref="DispatchAsync"/> for its
/// events one at a time (in sequence order) from its own event worker, never from the receive loop.
/// Handlers run on a fixed set of lanes, one consumer each: every event of a guild goes to the same lane, so a
/// member's ADD is handled before its UPDATE; events without a guild (READY) take their shard's lane; interactions
/// have lanes of their own. A lane holds at most <see cref="GatewayDispatchOptions.LaneCapacity"/> events; past that
/// <see cref="DispatchAsync"/> waits, which holds up the shard's queue and then its socket, instead of growing memory.
/// <see cref="DrainAsync"/> finishes what was handed over, within the host's shutdown budget.
/// </summary>
internal sealed class GatewayEventDispatcher : IGatewayDispatchTarget
{
    private readonly IServiceScopeFactory _scopes;
    private readonly GuildCache _cache;
    private readonly MemberDirectory? _directory;
    private readonly ILogger _logger;
    private readonly Lane[] _guildLanes;
    private readonly Lane[] _interactionLanes;
    // Cancelled when the shutdown budget runs out: handlers see it as their token, queued events are dropped.
    private readonly CancellationTokenSource _abort = new();
    private int _inFlight;

    public GatewayEventDispatcher(IServiceScopeFactory scopes, GuildCache cache, ILogger<GatewayEventDispatcher> logger, GatewayDispatchOptions? options = null, MemberDirectory? directory = null)
    {
        _directory = directory;
        options ??= new GatewayDispatchOptions();
        _scopes = scopes;
        _cache = cache;
        _logger = logger;
        _guildLanes = [.. Enumerable.Range(0, Math.Max(1, options.GuildLanes)).Select(_ => new Lane(this, options.LaneCapacity))];
        _interactionLanes = [.. Enumerable.Range(0, Math.Max(1, options.InteractionLanes)).Select(_ => new Lane(this, options.LaneCapacity))];
    }

    /// <summary>Events handed over and waiting for their lane's consumer.</summary>
    public int Queued => _guildLanes.Concat(_interactionLanes).Sum(lane => lane.Count);

    /// <summary>Events whose handlers are running now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Parses the dispatch, applies it to the cache, and queues it for its handlers; waits while its lane is full.
    /// Completes once the event is queued, not handled.
    /// </summary>
    public async ValueTask DispatchAsync(int shardId, string eventName, JsonElement data)
    {
        GatewayEvent? gatewayEvent;
        try
        {
            gatewayEvent = GatewayEventParser.Parse(eventName, data);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            _logger.LogWarning(ex, "Shard {ShardId}: could not read a {EventName} dispatch; it is skipped", shardId, eventName);
            return;
        }

        if (gatewayEvent is null)
        {
            return;
        }

        gatewayEvent = gatewayEvent with { ShardId = shardId };
        _cache.Apply(gatewayEvent);
        _directory?.Apply(gatewayEvent);
        try
        {
            await LaneFor(gatewayEvent).Writer.WriteAsync(gatewayEvent, _abort.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // Only after the shutdown budget ran out (or the lanes were closed for the drain): the event is dropped.
            _logger.LogWarning("Shard {ShardId}: {EventName} arrived after gateway events were drained at shutdown; it is not handled", shardId, eventName);
        }
    }

    /// <summary>
    /// At shutdown, after the shards stopped: handles every event already queued and waits for running handlers,
    /// until <paramref name="budget"/> is cancelled; then cancels the handlers and drops what is left, with a log line.
    /// </summary>
    public async Task DrainAsync(CancellationToken budget)
    {
        var lanes = _guildLanes.Concat(_interactionLanes).ToList();
        foreach (var lane in lanes)
        {
            lane.Writer.TryComplete();
        }

        var consumers = Task.WhenAll(lanes.Select(lane => lane.Consumer));
        try
        {
            await consumers.WaitAsync(budget);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            // The line first, then the cancellation: whoever sees a handler cancelled can already read why.
            _logger.LogWarning(
                "Shutdown budget ran out with {InFlight} gateway event handler(s) still running (cancelled) and {Queued} event(s) not handled",
                InFlight, Queued);
            await _abort.CancelAsync();
        }
    }

    private Lane LaneFor(GatewayEvent gatewayEvent)
    {
        ulong? guildId = gatewayEvent switch
        {
            GuildCreateEvent e => e.Guild.Id,
            GuildDeleteEvent e => e.GuildId,
            GuildRoleCreateEvent e => e.GuildId,
            GuildRoleUpdateEvent e => e.GuildId,
            GuildRoleDeleteEvent e => e.GuildId,
            GuildMemberAddEvent e => e.GuildId,
            GuildMemberUpdateEvent e => e.GuildId,
            GuildMemberRemoveEvent e => e.GuildId,
            _ => null,
        };
        if (gatewayEvent is InteractionCreateEvent interaction)
        {
            return _interactionLanes[LaneOf(interaction.Interaction.Id, _interactionLanes.Length)];
        }

        return _guildLanes[LaneOf(guildId ?? (ulong)gatewayEvent.ShardId, _guildLanes.Length)];
    }

    // Snowflakes' low bits are a per-process counter, often the same few values: Fibonacci hashing spreads them.
    internal static int LaneOf(ulong key, int lanes) => (int)(((key * 0x9E3779B97F4A7C15UL) >> 32) % (ulong)lanes);

    private async Task ConsumeAsync(ChannelReader<GatewayEvent> reader)
    {
        try
        {
            await foreach (var gatewayEvent in reader.ReadAllAsync(_abort.Token))
            {
                if (_abort.IsCancellationRequested)
                {
                    // ReadAllAsync hands out what is already queued without looking at the token.
                    return;
                }

                Interlocked.Increment(ref _inFlight);
                try
                {
                    await RunHandlersAsync(gatewayEvent, _abort.Token);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
    }

    private Task RunHandlersAsync(GatewayEvent gatewayEvent, CancellationToken cancellationToken) => gatewayEvent switch
    {
        ReadyEvent e => RunHandlersAsync(e, cancellationToken),
        GuildCreateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildDeleteEvent e => RunHandlersAsync(e, cancellationToken),
        GuildRoleCreateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildRoleUpdateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildRoleDeleteEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMemberAddEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMemberUpdateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMemberRemoveEvent e => RunHandlersAsync(e, cancellationToken),
        InteractionCreateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMembersChunkEvent e => RunHandlersAsync(e, cancellationToken),
        _ => Task.CompletedTask,
    };

    private async Task RunHandlersAsync<TEvent>(TEvent gatewayEvent, CancellationToken cancellationToken)
        where TEvent : GatewayEvent
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            foreach (var handler in scope.ServiceProvider.GetServices<IGatewayEventHandler<TEvent>>())
            {
                try
                {
                    await handler.HandleAsync(gatewayEvent, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // A failing handler is the handler's bug; the session and the other handlers carry on.
                    _logger.LogError(ex, "Gateway event handler {Handler} failed on {EventType} (shard {ShardId})",
                        handler.GetType().Name, typeof(TEvent).Name, gatewayEvent.ShardId);
                }
            }
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Could not resolve the handlers of {EventType}", typeof(TEvent).Name);
        }
    }

    /// <summary>A bounded queue and the one consumer that runs its events' handlers one after the other.</summary>
    private sealed class Lane
    {
        private readonly Channel<GatewayEvent> _channel;

        public Lane(GatewayEventDispatcher owner, int capacity)
        {
            _channel = Channel.CreateBounded<GatewayEvent>(new BoundedChannelOptions(Math.Max(1, capacity))
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
            });
            Consumer = Task.Run(() => owner.ConsumeAsync(_channel.Reader));
        }

        public ChannelWriter<GatewayEvent> Writer => _channel.Writer;

        public Task Consumer { get; }

        public int Count => _channel.Reader.Count;
    }
}
