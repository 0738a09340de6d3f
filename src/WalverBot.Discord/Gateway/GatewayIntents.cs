namespace WalverBot.Discord.Gateway;

/// <summary>Gateway intents the bot asks for (https://discord.com/developers/docs/events/gateway#gateway-intents).</summary>
public static class GatewayIntents
{
    /// <summary>GUILDS (1 &lt;&lt; 0): guilds, roles and channels.</summary>
    public const int Guilds = 1 << 0;

    /// <summary>GUILD_MEMBERS (1 &lt;&lt; 1), privileged: member joins, updates and leaves. Needs the Server Members intent switched on in the developer portal.</summary>
    public const int GuildMembers = 1 << 1;

    /// <summary>What WalverBot identifies with: <see cref="Guilds"/> | <see cref="GuildMembers"/> = 3.</summary>
    public const int WalverBot = Guilds | GuildMembers;
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
