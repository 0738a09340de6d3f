using WalverBot.Commands;
using WalverBot.Discord.Models;
using P = WalverBot.Discord.Models.DiscordPermissions;

namespace WalverBot.Tests.Commands;

public sealed class ChannelPermissionsTests
{
    private const ulong Guild = 100, Bot = 200, Owner = 300, BotRole = 400, OtherRole = 500;

    private static readonly DiscordRole[] Roles =
    [
        new(Guild, "@everyone", 0, P.ViewChannel | P.SendMessages, false),
        new(BotRole, "Bot", 5, P.ManageRoles, true),
        new(OtherRole, "Other", 1, P.None, false),
    ];

    [Fact]
    public void Without_overwrites_the_bot_has_its_guild_permissions()
    {
        var permissions = ChannelPermissions.Compute(Guild, Bot, Owner, [BotRole], Roles, []);

        Assert.True(ChannelPermissions.CanPost(permissions));
        Assert.True(permissions.HasFlag(P.ManageRoles));
    }

    [Fact]
    public void An_everyone_deny_closes_the_channel_unless_a_role_or_member_allow_opens_it()
    {
        var denyEveryone = new PermissionOverwrite(Guild, PermissionOverwriteType.Role, P.None, P.SendMessages);

        Assert.False(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Bot, Owner, [BotRole], Roles, [denyEveryone])));
        Assert.True(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Bot, Owner, [BotRole], Roles,
            [denyEveryone, new PermissionOverwrite(BotRole, PermissionOverwriteType.Role, P.SendMessages, P.None)])));
        Assert.True(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Bot, Owner, [BotRole], Roles,
            [denyEveryone, new PermissionOverwrite(Bot, PermissionOverwriteType.Member, P.SendMessages, P.None)])));
    }

    [Fact]
    public void A_member_deny_beats_a_role_allow_and_overwrites_of_roles_not_held_do_not_count()
    {
        Assert.False(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Bot, Owner, [BotRole], Roles,
        [
            new PermissionOverwrite(BotRole, PermissionOverwriteType.Role, P.SendMessages, P.None),
            new PermissionOverwrite(Bot, PermissionOverwriteType.Member, P.None, P.ViewChannel),
        ])));
        Assert.True(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Bot, Owner, [BotRole], Roles,
            [new PermissionOverwrite(OtherRole, PermissionOverwriteType.Role, P.None, P.SendMessages)])));
    }

    [Fact]
    public void Administrators_and_the_owner_are_not_bound_by_overwrites()
    {
        var denyAll = new PermissionOverwrite(Guild, PermissionOverwriteType.Role, P.None, P.ViewChannel | P.SendMessages);
        DiscordRole[] roles = [.. Roles, new DiscordRole(600, "Admin", 2, P.Administrator, false)];

        Assert.True(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Bot, Owner, [600], roles, [denyAll])));
        Assert.True(ChannelPermissions.CanPost(ChannelPermissions.Compute(Guild, Owner, Owner, [], roles, [denyAll])));
    }
}
