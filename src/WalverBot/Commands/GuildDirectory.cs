using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Grants;

namespace WalverBot.Commands;

/// <summary>
/// What commands need to know about a guild: roles and the bot's roles (for role safety), its name, and the
/// bot's permissions in a channel. Read from the gateway's <see cref="IGuildCache"/>, falling back to REST when
/// the guild has not arrived there yet.
/// </summary>
public sealed class GuildDirectory(IGuildCache cache, IGuildRoleSource restRoles, IDiscordRestClient discord)
{
    public async Task<GuildRoleView> RolesAsync(ulong guildId, CancellationToken cancellationToken)
    {
        if (cache.GetGuild(guildId) is { BotMember: { } bot } guild)
        {
            return new GuildRoleView([.. guild.Roles.Values], bot.Roles);
        }

        return await restRoles.GetAsync(guildId, cancellationToken);
    }

    public async Task<string> NameAsync(ulong guildId, CancellationToken cancellationToken) =>
        cache.GetGuild(guildId)?.Name ?? (await discord.GetGuildAsync(guildId, cancellationToken)).Name;

    /// <summary>The bot's permissions in a channel, overwrites included. The channel is read fresh (REST) so recent overwrite changes count.</summary>
    public async Task<(DiscordChannel? Channel, DiscordPermissions Permissions)> BotChannelPermissionsAsync(ulong guildId, ulong channelId, CancellationToken cancellationToken)
    {
        DiscordChannel channel;
        try
        {
            channel = await discord.GetChannelAsync(channelId, cancellationToken);
        }
        catch (DiscordRestException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Forbidden)
        {
            return (null, DiscordPermissions.None);
        }

        if (channel.GuildId != guildId)
        {
            return (null, DiscordPermissions.None);
        }

        var view = await RolesAsync(guildId, cancellationToken);
        var botId = cache.CurrentUser?.Id ?? (await discord.GetCurrentUserAsync(cancellationToken)).Id;
        var ownerId = cache.GetGuild(guildId)?.OwnerId ?? 0;
        return (channel, ChannelPermissions.Compute(guildId, botId, ownerId, view.BotRoleIds, view.Roles, channel.PermissionOverwrites));
    }
}

/// <summary>Discord's permission algorithm (https://discord.com/developers/docs/topics/permissions#permission-overwrites).</summary>
public static class ChannelPermissions
{
    private const DiscordPermissions All = (DiscordPermissions)ulong.MaxValue;

    public static DiscordPermissions Compute(
        ulong guildId, ulong memberId, ulong ownerId, IReadOnlyCollection<ulong> memberRoleIds,
        IReadOnlyCollection<DiscordRole> roles, IReadOnlyList<PermissionOverwrite>? overwrites)
    {
        if (memberId == ownerId)
        {
            return All;
        }

        var permissions = roles.FirstOrDefault(r => r.Id == guildId)?.Permissions ?? DiscordPermissions.None;
        foreach (var role in roles.Where(r => memberRoleIds.Contains(r.Id)))
        {
            permissions |= role.Permissions;
        }

        if ((permissions & DiscordPermissions.Administrator) != 0)
        {
            return All;
        }

        if (overwrites is null or { Count: 0 })
        {
            return permissions;
        }

        if (overwrites.FirstOrDefault(o => o.Id == guildId && o.Type == PermissionOverwriteType.Role) is { } everyone)
        {
            permissions = (permissions & ~everyone.Deny) | everyone.Allow;
        }

        var allow = DiscordPermissions.None;
        var deny = DiscordPermissions.None;
        foreach (var overwrite in overwrites.Where(o => o.Type == PermissionOverwriteType.Role && o.Id != guildId && memberRoleIds.Contains(o.Id)))
        {
            allow |= overwrite.Allow;
            deny |= overwrite.Deny;
        }

        permissions = (permissions & ~deny) | allow;

        if (overwrites.FirstOrDefault(o => o.Id == memberId && o.Type == PermissionOverwriteType.Member) is { } own)
        {
            permissions = (permissions & ~own.Deny) | own.Allow;
        }

        return permissions;
    }

    public static bool CanPost(DiscordPermissions permissions) =>
        (permissions & (DiscordPermissions.ViewChannel | DiscordPermissions.SendMessages)) == (DiscordPermissions.ViewChannel | DiscordPermissions.SendMessages);
}
