namespace WalverBot.Discord.Gateway;

/// <summary>
/// Gateway intents: which groups of events a session receives
/// (https://discord.com/developers/docs/events/gateway#list-of-intents). Privileged intents (GUILD_MEMBERS,
/// GUILD_PRESENCES, MESSAGE_CONTENT) must also be switched on in the developer portal, or IDENTIFY is closed with 4014.
/// </summary>
[Flags]
public enum GatewayIntents
{
    /// <summary>No intent.</summary>
    None = 0,
    /// <summary>GUILDS: guilds, roles and channels.</summary>
    Guilds = 1 << 0,
    /// <summary>GUILD_MEMBERS, privileged: member joins, updates and leaves.</summary>
    GuildMembers = 1 << 1,
    /// <summary>GUILD_MODERATION: bans and audit log entries.</summary>
    GuildModeration = 1 << 2,
    /// <summary>GUILD_EXPRESSIONS: emojis, stickers and soundboard sounds.</summary>
    GuildExpressions = 1 << 3,
    /// <summary>GUILD_INTEGRATIONS.</summary>
    GuildIntegrations = 1 << 4,
    /// <summary>GUILD_WEBHOOKS.</summary>
    GuildWebhooks = 1 << 5,
    /// <summary>GUILD_INVITES.</summary>
    GuildInvites = 1 << 6,
    /// <summary>GUILD_VOICE_STATES.</summary>
    GuildVoiceStates = 1 << 7,
    /// <summary>GUILD_PRESENCES, privileged.</summary>
    GuildPresences = 1 << 8,
    /// <summary>GUILD_MESSAGES.</summary>
    GuildMessages = 1 << 9,
    /// <summary>GUILD_MESSAGE_REACTIONS.</summary>
    GuildMessageReactions = 1 << 10,
    /// <summary>GUILD_MESSAGE_TYPING.</summary>
    GuildMessageTyping = 1 << 11,
    /// <summary>DIRECT_MESSAGES.</summary>
    DirectMessages = 1 << 12,
    /// <summary>DIRECT_MESSAGE_REACTIONS.</summary>
    DirectMessageReactions = 1 << 13,
    /// <summary>DIRECT_MESSAGE_TYPING.</summary>
    DirectMessageTyping = 1 << 14,
    /// <summary>MESSAGE_CONTENT, privileged.</summary>
    MessageContent = 1 << 15,
    /// <summary>GUILD_SCHEDULED_EVENTS.</summary>
    GuildScheduledEvents = 1 << 16,
    /// <summary>AUTO_MODERATION_CONFIGURATION.</summary>
    AutoModerationConfiguration = 1 << 20,
    /// <summary>AUTO_MODERATION_EXECUTION.</summary>
    AutoModerationExecution = 1 << 21,
    /// <summary>GUILD_MESSAGE_POLLS.</summary>
    GuildMessagePolls = 1 << 24,
    /// <summary>DIRECT_MESSAGE_POLLS.</summary>
    DirectMessagePolls = 1 << 25,
}

/// <summary>Guild-to-shard routing (https://discord.com/developers/docs/events/gateway#sharding).</summary>
public static class GatewaySharding
{
    /// <summary>The shard that receives a guild's events: <c>(guild_id &gt;&gt; 22) % shard_count</c>.</summary>
    public static int ShardFor(ulong guildId, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        return (int)((guildId >> 22) % (ulong)shardCount);
    }
}
