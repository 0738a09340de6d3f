using Microsoft.Extensions.DependencyInjection.Extensions;
using WalverBot.Discord;

namespace WalverBot.ScaleOut;

public static class ScaleOutServiceCollectionExtensions
{
    /// <summary>
    /// Several instances on one database: which guilds' work this instance does (<see cref="ShardOwnership"/>) and who
    /// runs the once-only jobs (<see cref="IJobLeader"/>; a store that supports several instances replaces the
    /// one-process default; PostgreSQL gets <see cref="PostgresJobLeader"/>).
    /// </summary>
    public static IServiceCollection AddScaleOut(this IServiceCollection services)
    {
        services.AddOptions<DiscordOptions>()
            .Validate(o => o.ShardIds.Count == 0 || o.ShardCount is not null,
                "Discord:ShardCount must be set when Discord:ShardIds is (every instance must map a guild to the same shard, (guild_id >> 22) % ShardCount)")
            .ValidateOnStart();
        services.TryAddSingleton<ShardOwnership>();
        // SQLite admits one process per database, which holds every job; PostgreSQL shares them through advisory locks.
        services.TryAddSingleton<IJobLeader>(provider => provider.GetRequiredService<Storage.Database>().IsPostgres
            ? ActivatorUtilities.CreateInstance<PostgresJobLeader>(provider)
            : new ProcessJobLeader());
        // PostgreSQL: the claims of a dead run of this shard set are taken back at once by its restart (InitializeStorageAsync takes it).
        services.TryAddSingleton<InstanceIdentity>();
        return services;
    }
}
