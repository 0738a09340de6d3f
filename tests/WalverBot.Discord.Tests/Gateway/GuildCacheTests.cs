using System.Text.Json;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

public class GuildCacheTests
{
    private const ulong GuildId = 197038439483310086UL;
    private const ulong BotId = 1160000000000000001UL;
    private const ulong BotRoleId = 1170000000000000020UL;
    private const ulong VerifiedRoleId = 1170000000000000010UL;

    [Fact]
    public void Guild_create_fills_roles_channels_and_the_bot_member()
    {
        var cache = ReadyCacheWithGuild();

        Assert.Equal(BotId, cache.CurrentUser!.Id);
        Assert.Equal(BotId, cache.ApplicationId);
        var guild = cache.GetGuild(GuildId)!;
        Assert.Equal("Walver Holders", guild.Name);
        Assert.Equal(GuildId, guild.EveryoneRole!.Id);
        Assert.True(guild.Roles[BotRoleId].Managed);
        Assert.Equal([BotRoleId], guild.BotMember!.Roles);
        Assert.Equal(5, guild.BotHighestRolePosition);
        Assert.True(guild.BotPermissions.HasFlag(DiscordPermissions.ManageRoles));
        Assert.Equal(3, guild.Channels.Count);
        Assert.Single(cache.Guilds);
    }

    [Fact]
    public void Role_events_create_update_and_delete_roles()
    {
        var cache = ReadyCacheWithGuild();

        cache.Apply(new GuildRoleCreateEvent(GuildId, new DiscordRole(42, "New", 1, DiscordPermissions.None, false)));
        cache.Apply(new GuildRoleUpdateEvent(GuildId, new DiscordRole(VerifiedRoleId, "Verified Holder", 7, DiscordPermissions.KickMembers, false)));
        cache.Apply(new GuildRoleDeleteEvent(GuildId, 1170000000000000030UL));

        var roles = cache.GetGuild(GuildId)!.Roles;
        Assert.Equal("New", roles[42].Name);
        Assert.Equal(7, roles[VerifiedRoleId].Position);
        Assert.Equal(DiscordPermissions.KickMembers, roles[VerifiedRoleId].Permissions);
        Assert.False(roles.ContainsKey(1170000000000000030UL));
    }

    [Fact]
    public void Member_update_of_the_bot_changes_its_roles_but_other_members_do_not()
    {
        var cache = ReadyCacheWithGuild();
        var bot = cache.GetGuild(GuildId)!.BotMember!.User;

        cache.Apply(new GuildMemberUpdateEvent(GuildId, new GuildMember(bot, null, [BotRoleId, 1170000000000000030UL])));
        cache.Apply(new GuildMemberUpdateEvent(GuildId, new GuildMember(new DiscordUser(5, "someone"), null, [])));

        var guild = cache.GetGuild(GuildId)!;
        Assert.Equal(8, guild.BotHighestRolePosition);
        Assert.True(guild.BotPermissions.HasFlag(DiscordPermissions.Administrator));
    }

    [Fact]
    public void Guild_delete_forgets_the_guild()
    {
        var cache = ReadyCacheWithGuild();

        cache.Apply(new GuildDeleteEvent(GuildId, Unavailable: false));

        Assert.Null(cache.GetGuild(GuildId));
        Assert.Empty(cache.Guilds);
    }

    [Fact]
    public void Events_for_unknown_guilds_are_ignored()
    {
        var cache = new GuildCache();

        cache.Apply(new GuildRoleUpdateEvent(1, new DiscordRole(2, "r", 1, DiscordPermissions.None, false)));

        Assert.Null(cache.GetGuild(1));
    }

    private static GuildCache ReadyCacheWithGuild()
    {
        var cache = new GuildCache();
        cache.Apply(Parse("READY"));
        cache.Apply(Parse("GUILD_CREATE"));
        return cache;
    }

    private static GatewayEvent Parse(string eventName) => GatewayEventParser.Parse(eventName, Samples.Data(eventName))!;
}
