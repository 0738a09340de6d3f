namespace WalverBot.Discord;

/// <summary>Settings of the Discord client an operator gives, bound by the host (usually from the <c>Discord</c> section).</summary>
public sealed class DiscordOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Discord";

    /// <summary>The bot token (without the "Bot " prefix). Never logged.</summary>
    public string Token { get; set; } = "";

    /// <summary>REST base URL, including the API version.</summary>
    public string ApiBaseUrl { get; set; } = "https://discord.com/api/v10";

    /// <summary>Number of shards; null uses the <c>shards</c> value recommended by <c>GET /gateway/bot</c>.</summary>
    public int? ShardCount { get; set; }

    /// <summary>The shard ids this process runs; empty runs all of them (0 … ShardCount-1).</summary>
    public List<int> ShardIds { get; set; } = [];

    /// <summary>
    /// REST requests per second this process may send across all routes (interaction responses excepted). Discord's
    /// global limit is 50 per second per bot token, so N processes on one token each get 50/N.
    /// </summary>
    public int GlobalRateLimit { get; set; } = 50;

    /// <summary>
    /// Keep every member of the bot's guilds in memory (filled over the gateway, about 100 bytes a member) so lookups
    /// need no REST search; false looks members up on Discord every time (for a host short of memory).
    /// </summary>
    public bool MemberDirectory { get; set; } = true;
}
