using WalverBot.Discord.Models;
using WalverBot.Grants;

namespace WalverBot.Tests.Grants;

public class RoleSafetyTests
{
    private const ulong Guild = 100;

    private static readonly DiscordRole[] Roles =
    [
        new(Guild, "@everyone", 0, DiscordPermissions.ViewChannel, false),
        new(1, "Holder", 1, DiscordPermissions.ViewChannel, false),
        new(2, "Booster", 2, DiscordPermissions.None, true),
        new(3, "Mod", 3, DiscordPermissions.KickMembers, false),
        new(5, "WalverBot", 5, DiscordPermissions.ManageRoles, true),
        new(6, "Top", 6, DiscordPermissions.None, false),
    ];

    private static string? Check(ulong roleId, bool allowPrivileged = false) =>
        RoleSafety.Check(Guild, roleId, Roles, [5], allowPrivileged);

    [Fact]
    public void An_ordinary_role_below_the_bot_is_safe() => Assert.Null(Check(1));

    [Fact]
    public void Everyone_is_refused() => Assert.Contains("@everyone", Check(Guild));

    [Fact]
    public void Managed_roles_are_refused() => Assert.Contains("managed", Check(2));

    [Fact]
    public void Roles_at_or_above_the_bot_are_refused()
    {
        Assert.Contains("not below the bot's highest role", Check(6));
        Assert.Contains("not below", RoleSafety.Check(Guild, 1, Roles, [], false));
    }

    [Fact]
    public void Dangerous_permissions_need_explicit_permission()
    {
        Assert.Contains("Roles:AllowPrivileged", Check(3));
        Assert.Null(Check(3, allowPrivileged: true));
    }

    [Fact]
    public void A_deleted_role_is_refused() => Assert.Contains("no longer exists", Check(99));
}
