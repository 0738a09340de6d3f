using WalverBot.Discord.Gateway;

namespace WalverBot.Grants;

/// <summary>
/// Role-safety data from the gateway's guild view, kept current by GUILD_CREATE and role events, so a grant
/// costs no extra REST call; falls back to REST for a guild the gateway has not delivered yet.
/// </summary>
public sealed class CachedGuildRoleSource(IGuildCache cache, RestGuildRoleSource rest) : IGuildRoleSource
{
    public Task<GuildRoleView> GetAsync(ulong guildId, CancellationToken cancellationToken)
    {
        var guild = cache.GetGuild(guildId);
        if (guild?.BotMember is { } bot)
        {
            return Task.FromResult(new GuildRoleView([.. guild.Roles.Values], bot.Roles));
        }

        return rest.GetAsync(guildId, cancellationToken);
    }

    public void Invalidate(ulong guildId) => rest.Invalidate(guildId);
}
