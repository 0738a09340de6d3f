using WalverBot.Discord.Models;

namespace WalverBot.Grants;

/// <summary>
/// Which roles the bot refuses to hand out: @everyone, managed roles, roles not below the bot's highest role (Discord
/// refuses those anyway: docs topics/permissions#permission-hierarchy) and, unless Roles:AllowPrivileged, roles with
/// permissions that would let a wallet holder run the server.
/// </summary>
public static class RoleSafety
{
    public const DiscordPermissions Dangerous =
        DiscordPermissions.Administrator | DiscordPermissions.ManageGuild | DiscordPermissions.ManageRoles |
        DiscordPermissions.ManageChannels | DiscordPermissions.ManageWebhooks | DiscordPermissions.BanMembers |
        DiscordPermissions.KickMembers;

    /// <summary>Null when the role may be granted, otherwise what the admin must change.</summary>
    public static string? Check(ulong guildId, ulong roleId, IReadOnlyCollection<DiscordRole> guildRoles, IReadOnlyCollection<ulong> botRoleIds, bool allowPrivileged)
    {
        // The @everyone role has the guild's id; everyone holds it already and it cannot be assigned.
        if (roleId == guildId)
        {
            return "the role is @everyone";
        }

        var role = guildRoles.FirstOrDefault(r => r.Id == roleId);
        if (role is null)
        {
            return "the role no longer exists in the server";
        }

        if (role.Managed)
        {
            return $"the role {role.Name} is managed by an integration and cannot be assigned";
        }

        // A bot can only assign roles below its own highest role (Discord's role hierarchy).
        var botHighest = guildRoles.Where(r => botRoleIds.Contains(r.Id)).Select(r => r.Position).DefaultIfEmpty(0).Max();
        if (role.Position >= botHighest)
        {
            return $"the role {role.Name} is not below the bot's highest role; move the bot's role above it in Server Settings → Roles";
        }

        if (!allowPrivileged && (role.Permissions & Dangerous) != 0)
        {
            return $"the role {role.Name} carries dangerous permissions ({role.Permissions & Dangerous}); set Roles:AllowPrivileged to allow it";
        }

        return null;
    }
}
