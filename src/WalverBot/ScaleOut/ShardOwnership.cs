using System.Globalization;
using Microsoft.Extensions.Options;
using WalverBot.Discord;

namespace WalverBot.ScaleOut;

/// <summary>
/// Which guilds' work this instance does: those of the shards it runs (<c>Discord:ShardIds</c> of
/// <c>Discord:ShardCount</c>). Discord's formula, the same on every instance: "shard_id = (guild_id &gt;&gt; 22) %
/// num_shards" (https://discord.com/developers/docs/events/gateway#sharding). Grants, pending grants and member joins
/// of other guilds are left to the instance that runs their shard.
/// </summary>
public sealed class ShardOwnership
{
    public ShardOwnership(IOptions<DiscordOptions> options)
        : this(options.Value.ShardCount, options.Value.ShardIds)
    {
    }

    public ShardOwnership(int? shardCount, IReadOnlyCollection<int> shardIds)
    {
        ShardCount = shardCount is > 0 ? shardCount.Value : 1;
        ShardIds = [.. shardIds.Distinct().Order()];
        // No ShardIds runs every shard; without a count (Discord's recommendation) an instance must run them all,
        // which the start-up check enforces whenever ShardIds is set.
        OwnsAll = ShardIds.Count == 0 || shardCount is null || Enumerable.Range(0, ShardCount).All(ShardIds.Contains);
    }

    /// <summary>One instance doing all the work (the single-process default).</summary>
    public static ShardOwnership All { get; } = new(null, []);

    public int ShardCount { get; }

    public IReadOnlyList<int> ShardIds { get; }

    /// <summary>Whether this instance runs every shard, so nothing needs filtering.</summary>
    public bool OwnsAll { get; }

    /// <summary>The shard a guild belongs to; guild ids are snowflakes below 2^63, so signed SQL shifts agree.</summary>
    public static int ShardOf(ulong guildId, int shardCount) => (int)((guildId >> 22) % (ulong)shardCount);

    public bool Owns(ulong guildId) => OwnsAll || ShardIds.Contains(ShardOf(guildId, ShardCount));

    /// <summary>
    /// A condition to AND into a WHERE clause that keeps the rows of owned guilds, or <c>1 = 1</c> when all are owned.
    /// SQLite and PostgreSQL both evaluate <c>&gt;&gt;</c> and <c>%</c> on 64-bit integers the same way for
    /// non-negative values. The numbers are validated integers from the settings, written in as constants.
    /// </summary>
    public string SqlCondition(string guildColumn = "guild_id") => OwnsAll
        ? "1 = 1"
        : string.Create(CultureInfo.InvariantCulture,
            $"(({guildColumn} >> 22) % {ShardCount}) IN ({string.Join(", ", ShardIds.Select(id => id.ToString(CultureInfo.InvariantCulture)))})");

    public override string ToString() => OwnsAll
        ? "all shards"
        : string.Create(CultureInfo.InvariantCulture, $"shard(s) {string.Join(", ", ShardIds)} of {ShardCount}");
}
