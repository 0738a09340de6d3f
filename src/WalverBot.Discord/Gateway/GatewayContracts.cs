namespace WalverBot.Discord.Gateway;

/// <summary>Whether every shard of the gateway currently holds a READY (or RESUMED) session.</summary>
public interface IGatewayStatus
{
    /// <summary>True while every shard has a live, ready session.</summary>
    bool IsReady { get; }

    /// <summary>When not ready, a short human-readable reason (e.g. "shard 0: reconnecting").</summary>
    string? NotReadyReason { get; }
}
