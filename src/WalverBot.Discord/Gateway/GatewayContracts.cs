namespace WalverBot.Discord.Gateway;

/// <summary>Whether every shard of the gateway currently holds a READY (or RESUMED) session.</summary>
public interface IGatewayStatus
{
    /// <summary>True while every shard has a live, ready session.</summary>
    bool IsReady { get; }

    /// <summary>When not ready, a short human-readable reason (e.g. "shard 0: reconnecting").</summary>
    string? NotReadyReason { get; }

    /// <summary>
    /// Set once the gateway has stopped for good (a fatal close code, a token Discord rejects, an unexpected error);
    /// null while it runs or reconnects. The gateway does not connect again in this process: what follows (keep
    /// serving, alert, exit) is the host's decision.
    /// </summary>
    GatewayStop? Stopped { get; }

    /// <summary>Completes with <see cref="Stopped"/> when the gateway stops for good; never completes otherwise.</summary>
    Task<GatewayStop> WhenStopped { get; }
}

/// <summary>Why the gateway stopped for good, and what the operator has to change.</summary>
/// <param name="Reason">What happened, e.g. "Discord closed the gateway connection of shard 0 with 4014 Disallowed intent(s)".</param>
/// <param name="Advice">What to change; never contains the token.</param>
/// <param name="At">When it stopped (the host's <see cref="TimeProvider"/>).</param>
/// <param name="CloseCode">The gateway close code, when Discord sent one.</param>
/// <param name="ShardId">The shard that received it, when one did.</param>
public sealed record GatewayStop(string Reason, string Advice, DateTimeOffset At, int? CloseCode = null, int? ShardId = null)
{
    /// <summary>One line for logs, readiness bodies and metrics: "stopped: {reason}: {advice}".</summary>
    public override string ToString() => $"stopped: {Reason}: {Advice}";
}
