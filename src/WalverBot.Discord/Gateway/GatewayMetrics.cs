using System.Diagnostics.Metrics;
using WalverBot.Discord.Rest;

namespace WalverBot.Discord.Gateway;

/// <summary>Names of the gateway's metrics, on the <see cref="DiscordMetrics.MeterName"/> meter, tagged <c>shard</c>.</summary>
public static class GatewayMetrics
{
    /// <summary>Counter of reconnects, tagged <c>shard</c> and <c>mode</c> (identify or resume).</summary>
    public const string Reconnects = "walverbot.discord.gateway.reconnects";

    /// <summary>Counter of sessions that became ready, tagged <c>shard</c> and <c>kind</c> (ready for a new session, resumed).</summary>
    public const string Sessions = "walverbot.discord.gateway.sessions";
}

/// <summary>Records the shards' reconnects and sessions on a meter from the host's <see cref="IMeterFactory"/>.</summary>
internal sealed class GatewayShardMetrics
{
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _sessions;

    public GatewayShardMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(DiscordMetrics.MeterName);
        _reconnects = meter.CreateCounter<long>(GatewayMetrics.Reconnects, "{reconnect}", "Gateway reconnects.");
        _sessions = meter.CreateCounter<long>(GatewayMetrics.Sessions, "{session}", "Gateway sessions that reached READY or RESUMED.");
    }

    public void Reconnecting(int shardId, string mode) =>
        _reconnects.Add(1, new KeyValuePair<string, object?>("shard", shardId), new KeyValuePair<string, object?>("mode", mode));

    public void SessionReady(int shardId, bool resumed) =>
        _sessions.Add(1, new KeyValuePair<string, object?>("shard", shardId), new KeyValuePair<string, object?>("kind", resumed ? "resumed" : "ready"));
}
