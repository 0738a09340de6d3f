using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>How a probe session ended.</summary>
/// <param name="Ready">True when Discord accepted the IDENTIFY (READY arrived).</param>
/// <param name="Detail">What happened, in words for an operator; never contains the token.</param>
/// <param name="Stop">The fatal close that refused the session, with the operator's advice; null otherwise.</param>
public sealed record GatewayProbeResult(bool Ready, string Detail, GatewayStop? Stop = null);

/// <summary>
/// Opens one gateway session with the configured token, intents and IDENTIFY properties and closes it again: tells
/// whether Discord accepts them (READY) or refuses them with a fatal close (e.g. 4014 when a privileged intent is not
/// enabled in the developer portal, 4004 for a bad token). It costs one of the day's session starts.
/// </summary>
public interface IGatewayProbe
{
    /// <summary>
    /// Runs one session on <paramref name="gateway"/> until READY, a fatal close, or <paramref name="timeout"/>
    /// (on the host's <see cref="TimeProvider"/>). Non-fatal closes and op 9 are retried as a running shard would.
    /// </summary>
    Task<GatewayProbeResult> RunAsync(GatewayBotInfo gateway, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>
/// The probe is a <see cref="GatewayShard"/> run like any other (same transport, identify gate, heartbeats and
/// <see cref="TimeProvider"/>) whose dispatches go nowhere but to notice READY; its status is its own, not the host's.
/// </summary>
internal sealed class GatewayProbe(
    IOptions<DiscordOptions> options,
    IOptions<DiscordGatewayOptions> gatewayOptions,
    IGatewayTransportFactory transports,
    IReconnectStrategy reconnect,
    GatewayShardMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : IGatewayProbe
{
    private readonly ILogger _logger = loggers.CreateLogger<GatewayProbe>();

    /// <summary>Source of randomness for the shard (heartbeat jitter, op 9 wait); fixed in tests.</summary>
    internal Func<double>? Random { get; init; }

    public async Task<GatewayProbeResult> RunAsync(GatewayBotInfo gateway, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var identify = gatewayOptions.Value;
        var status = new GatewayStatus();
        status.Start([0]);
        var ready = new ReadySignal();
        // Shard 0 of the count Discord recommends, as the bot's first shard identifies: a bot that needs sharding
        // would otherwise be closed with 4011 Sharding required.
        var shard = new GatewayShard(
            new GatewayShardSettings(options.Value.Token, 0, Math.Max(1, gateway.Shards), new Uri(gateway.Url), identify.Intents, identify.Properties),
            transports, new IdentifyGate(gateway.SessionStartLimit, time, _logger), reconnect, ready, status, metrics, time, _logger, Random);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = shard.RunAsync(stop.Token);
        var deadline = Task.Delay(timeout, time, stop.Token);
        var first = await Task.WhenAny(running, ready.Reached, deadline);

        // Stopping the shard closes its connection with 1000, which ends the probe's session at Discord at once.
        await stop.CancelAsync();
        Exception? ended = null;
        try
        {
            await running;
        }
        catch (Exception ex)
        {
            ended = ex;
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (first == ready.Reached)
        {
            return new(true, $"a test session identified with intents {identify.Intents} and got READY");
        }

        if (ended is GatewayFatalException fatal)
        {
            var detail = fatal.CloseCode is { } code
                ? $"Discord closed the session with {GatewayCloseCodes.Describe(code)}: {GatewayCloseCodes.Advice(code)}"
                : fatal.Message;
            return new(false, detail, fatal.ToStop(time.GetUtcNow()));
        }

        if (first == running && ended is not null and not OperationCanceledException)
        {
            return new(false, $"the test session failed: {ended.Message}");
        }

        return new(false, $"no READY within {timeout.TotalSeconds:0} s ({status.NotReadyReason ?? "no session"})");
    }

    /// <summary>Takes the probe's dispatches: only READY matters.</summary>
    private sealed class ReadySignal : IGatewayDispatchTarget
    {
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _ready.Task;

        public ValueTask DispatchAsync(int shardId, string eventName, JsonElement data)
        {
            if (eventName == "READY")
            {
                _ready.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }
    }
}
