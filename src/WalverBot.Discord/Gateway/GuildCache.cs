using System.Collections.Concurrent;
using System.Collections.Immutable;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// What the gateway has told the bot about its guilds: roles (position, permissions, managed), channels and
/// the bot's own membership. Kept up to date from GUILD_CREATE/DELETE, GUILD_ROLE_* and GUILD_MEMBER_UPDATE,
/// so role-safety checks need no REST calls.
/// </summary>
public interface IGuildCache
{
    /// <summary>The bot user, once a shard is READY.</summary>
    DiscordUser? CurrentUser { get; }

    /// <summary>The application id, once a shard is READY.</summary>
    ulong? ApplicationId { get; }

    /// <summary>Every guild currently available to the bot.</summary>
    IReadOnlyCollection<CachedGuild> Guilds { get; }

    /// <summary>The guild, or null when the bot is not in it (or it has not arrived yet).</summary>
    CachedGuild? GetGuild(ulong guildId);
}

/// <summary>An immutable snapshot of one guild; a change produces a new snapshot.</summary>
/// <param name="Id">Guild id (also the @everyone role id).</param>
/// <param name="Name">Guild name.</param>
/// <param name="OwnerId">The owner's user id.</param>
/// <param name="Roles">Roles by id, @everyone included.</param>
/// <param name="Channels">Channels by id.</param>
/// <param name="BotMember">The bot's own membership, when known.</param>
public sealed record CachedGuild(
    ulong Id,
    string Name,
    ulong OwnerId,
    ImmutableDictionary<ulong, DiscordRole> Roles,
    ImmutableDictionary<ulong, DiscordChannel> Channels,
    GuildMember? BotMember)
{
    /// <summary>The @everyone role, whose id equals the guild id.</summary>
    public DiscordRole? EveryoneRole => Roles.GetValueOrDefault(Id);

    /// <summary>The roles the bot holds (without @everyone).</summary>
    public IReadOnlyList<DiscordRole> BotRoles =>
        BotMember is null ? [] : [.. BotMember.Roles.Select(id => Roles.GetValueOrDefault(id)).OfType<DiscordRole>()];

    /// <summary>Position of the bot's highest role (0 when it holds none); it can only manage roles below this.</summary>
    public int BotHighestRolePosition => BotRoles.Select(r => r.Position).DefaultIfEmpty(0).Max();

    /// <summary>The bot's guild-level permissions: @everyone plus its roles.</summary>
    public DiscordPermissions BotPermissions =>
        BotRoles.Aggregate(EveryoneRole?.Permissions ?? DiscordPermissions.None, (all, role) => all | role.Permissions);
}

/// <summary>The in-memory <see cref="IGuildCache"/>, fed by the gateway's event dispatcher in event order.</summary>
internal sealed class GuildCache : IGuildCache
{
    private readonly ConcurrentDictionary<ulong, CachedGuild> _guilds = new();
    private volatile DiscordUser? _currentUser;
    private ulong _applicationId;

    public DiscordUser? CurrentUser => _currentUser;

    public ulong? ApplicationId => Volatile.Read(ref _applicationId) is var id and not 0 ? id : null;

    public IReadOnlyCollection<CachedGuild> Guilds => [.. _guilds.Values];

    public CachedGuild? GetGuild(ulong guildId) => _guilds.GetValueOrDefault(guildId);

    // Each guild belongs to one shard and each shard applies its events one at a time,
    // so read-modify-write of a guild's snapshot never races with another writer.
    public void Apply(GatewayEvent gatewayEvent)
    {
        switch (gatewayEvent)
        {
            case ReadyEvent ready:
                _currentUser = ready.User;
                Volatile.Write(ref _applicationId, ready.ApplicationId);
                break;
            case GuildCreateEvent { Guild: var g }:
                _guilds[g.Id] = new CachedGuild(
                    g.Id,
                    g.Name,
                    g.OwnerId,
                    g.Roles.ToImmutableDictionary(r => r.Id),
                    g.Channels.ToImmutableDictionary(c => c.Id),
                    g.Members.FirstOrDefault(m => m.User.Id == _currentUser?.Id));
                break;
            case GuildDeleteEvent delete:
                _guilds.TryRemove(delete.GuildId, out _);
                break;
            case GuildRoleCreateEvent create:
                Update(create.GuildId, g => g with { Roles = g.Roles.SetItem(create.Role.Id, create.Role) });
                break;
            case GuildRoleUpdateEvent update:
                Update(update.GuildId, g => g with { Roles = g.Roles.SetItem(update.Role.Id, update.Role) });
                break;
            case GuildRoleDeleteEvent delete:
                Update(delete.GuildId, g => g with { Roles = g.Roles.Remove(delete.RoleId) });
                break;
            case GuildMemberUpdateEvent memberUpdate when memberUpdate.Member.User.Id == _currentUser?.Id:
                Update(memberUpdate.GuildId, g => g with { BotMember = memberUpdate.Member });
                break;
            case GuildMemberAddEvent memberAdd when memberAdd.Member.User.Id == _currentUser?.Id:
                Update(memberAdd.GuildId, g => g with { BotMember = memberAdd.Member });
                break;
        }
    }

    private void Update(ulong guildId, Func<CachedGuild, CachedGuild> change)
    {
        if (_guilds.TryGetValue(guildId, out var guild))
        {
            _guilds[guildId] = change(guild);
        }
    }
}
