using System.Diagnostics.Metrics;
using WalverBot.Discord.Rest;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Gateway lifecycle counters on the <see cref="DiscordMetrics.MeterName"/> meter, tagged <c>shard</c>, so an exporter
/// listening to that meter shows reconnects, new sessions and resumes per shard.
/// </summary>
public static class GatewayMetrics
{
    /// <summary>Counter of reconnects, tagged <c>shard</c> and <c>mode</c> (identify or resume).</summary>
    public const string Reconnects = "walverbot.discord.gateway.reconnects";

    /// <summary>Counter of sessions that became ready, tagged <c>shard</c> and <c>kind</c> (ready for a new session, resumed).</summary>
    public const string Sessions = "walverbot.discord.gateway.sessions";

    // A process-wide meter: shards are created per client, and exporters match meters by name.
    private static readonly Meter Meter = new(DiscordMetrics.MeterName);
    private static readonly Counter<long> ReconnectCounter = Meter.CreateCounter<long>(Reconnects, "{reconnect}", "Gateway reconnects.");
    private static readonly Counter<long> SessionCounter = Meter.CreateCounter<long>(Sessions, "{session}", "Gateway sessions that reached READY or RESUMED.");

    internal static void Reconnecting(int shardId, string mode) =>
        ReconnectCounter.Add(1, new KeyValuePair<string, object?>("shard", shardId), new KeyValuePair<string, object?>("mode", mode));

    internal static void SessionReady(int shardId, bool resumed) =>
        SessionCounter.Add(1, new KeyValuePair<string, object?>("shard", shardId), new KeyValuePair<string, object?>("kind", resumed ? "resumed" : "ready"));
}
