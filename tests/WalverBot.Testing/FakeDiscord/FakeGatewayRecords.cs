using System.Text.Json.Nodes;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>Configuration of the fake gateway; every property can also be changed while it runs.</summary>
public sealed class FakeGatewayOptions
{
    /// <summary>Sent in HELLO. Discord sends about 41 250–45 000 ms; tests use small values.</summary>
    public int HeartbeatIntervalMs { get; set; } = 45_000;

    /// <summary>Whether the Server Members privileged intent is enabled in the developer portal (else IDENTIFY with it closes 4014).</summary>
    public bool GuildMembersIntentEnabled { get; set; } = true;

    public bool PresenceIntentEnabled { get; set; }

    public bool MessageContentIntentEnabled { get; set; }

    /// <summary>When true, IDENTIFY without a shard count above 1 closes 4011.</summary>
    public bool ShardingRequired { get; set; }

    /// <summary>
    /// How late a heartbeat may be, beyond heartbeat_interval, before the fake closes the connection with 4009 as
    /// Discord does (measured in real time from HELLO, then from each heartbeat); null never closes.
    /// </summary>
    public int? HeartbeatAllowanceMs { get; set; } = 5_000;

    /// <summary>Discord allows 120 gateway sends per 60 s per connection; more closes 4008.</summary>
    public int MaxPayloadsPerMinute { get; set; } = 120;

    /// <summary>Clock for the send rate limit; defaults to the fake Discord's clock.</summary>
    public TimeProvider? TimeProvider { get; init; }
}

/// <summary>One IDENTIFY the bot sent.</summary>
public sealed record FakeGatewayIdentify(int ConnectionId, string Path, JsonObject Data, DateTimeOffset At)
{
    public string? Token => Data["token"]?.GetValue<string>();

    public long Intents => Data["intents"]?.GetValue<long>() ?? 0;

    public JsonArray? Shard => Data["shard"] as JsonArray;
}

/// <summary>One RESUME the bot sent (Path tells whether it used resume_gateway_url).</summary>
public sealed record FakeGatewayResume(int ConnectionId, string Path, string? Token, string? SessionId, long? Seq, DateTimeOffset At);

/// <summary>One heartbeat (op 1) the bot sent; Sequence is its "d" (null before any dispatch).</summary>
public sealed record FakeGatewayHeartbeat(int ConnectionId, long? Sequence, DateTimeOffset At);

/// <summary>A WebSocket connection the bot opened, and how it ended.</summary>
public sealed record FakeGatewayConnectionInfo(int Id, string Path, string Query, bool Open, int? ServerCloseCode, int? ClientCloseCode, bool Aborted);

/// <summary>One Request Guild Members (op 8) the bot sent, with its "d".</summary>
public sealed record FakeGatewayMemberRequest(int ConnectionId, JsonObject Data, DateTimeOffset At)
{
    public string? GuildId => Data["guild_id"]?.GetValue<string>();

    public string? Query => Data["query"] is JsonValue q && q.TryGetValue(out string? text) ? text : null;

    /// <summary>The requested user ids (Discord accepts one snowflake or an array).</summary>
    public IReadOnlyList<string> UserIds => Data["user_ids"] switch
    {
        JsonArray ids => [.. ids.Select(id => id!.GetValue<string>())],
        JsonValue id => [id.GetValue<string>()],
        _ => [],
    };

    public string? Nonce => Data["nonce"] is JsonValue n && n.TryGetValue(out string? text) ? text : null;
}
