using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

public class GatewayEventParserTests
{
    [Fact]
    public void Ready_keeps_session_resume_url_application_and_bot_user()
    {
        var ready = Assert.IsType<ReadyEvent>(GatewayEventParser.Parse("READY", Samples.Data("READY")));

        Assert.Equal("c9c1f2a5d0e84e2b8f2b1a7d6e5f4a3b", ready.SessionId);
        Assert.Equal("wss://gateway-us-east1-b.discord.gg", ready.ResumeGatewayUrl);
        Assert.Equal(1160000000000000001UL, ready.ApplicationId);
        Assert.Equal(new DiscordUser(1160000000000000001UL, "walverbot", "0", null, Bot: true), ready.User);
        Assert.Equal([197038439483310086UL], ready.GuildIds);
    }

    [Fact]
    public void Guild_members_chunk_keeps_members_chunk_position_not_found_and_nonce()
    {
        var chunk = Assert.IsType<GuildMembersChunkEvent>(GatewayEventParser.Parse("GUILD_MEMBERS_CHUNK", Samples.Data("GUILD_MEMBERS_CHUNK")));

        Assert.Equal(197038439483310086UL, chunk.GuildId);
        var member = Assert.Single(chunk.Members);
        Assert.Equal(("mason", "Mace"), (member.User.Username, member.Nick));
        Assert.Equal((1, 2), (chunk.ChunkIndex, chunk.ChunkCount));
        Assert.Equal([80351110224678913UL], chunk.NotFound);
        Assert.Equal("4f2c0e8d9a7b4c1e8f3a2b1c0d9e8f7a", chunk.Nonce);
    }

    [Fact]
    public void Rate_limited_keeps_the_opcode_the_wait_and_the_guild_and_nonce_of_an_op_8()
    {
        var limited = Assert.IsType<GatewayRateLimitedEvent>(GatewayEventParser.Parse("RATE_LIMITED", Samples.Data("RATE_LIMITED")));

        Assert.Equal(new GatewayRateLimitedEvent(8, TimeSpan.FromSeconds(27.5), 197038439483310086UL, "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f50"), limited);
    }

    [Fact]
    public void Guild_create_has_roles_channels_and_members()
    {
        var guild = Assert.IsType<GuildCreateEvent>(GatewayEventParser.Parse("GUILD_CREATE", Samples.Data("GUILD_CREATE"))).Guild;

        Assert.Equal(197038439483310086UL, guild.Id);
        Assert.Equal("Walver Holders", guild.Name);
        Assert.Equal(80351110224678912UL, guild.OwnerId);
        Assert.Equal(4, guild.Roles.Count);
        var botRole = guild.Roles.Single(r => r.Name == "WalverBot");
        Assert.True(botRole.Managed);
        Assert.Equal(5, botRole.Position);
        Assert.Equal(DiscordPermissions.ManageRoles, botRole.Permissions);
        Assert.Equal(DiscordPermissions.Administrator, guild.Roles.Single(r => r.Name == "Moderators").Permissions);
        Assert.Equal(3, guild.Channels.Count);
        Assert.True(guild.Channels.Single(c => c.Name == "verify").IsTextChannel);
        Assert.Equal(1180000000000000001UL, guild.Channels.Single(c => c.Name == "verify").ParentId);
        Assert.Equal(2, guild.Members.Count);
        Assert.Equal("Nelly the owner", guild.Members.Single(m => m.User.Username == "nelly").Nick);
        Assert.Equal(3, guild.MemberCount);
    }

    [Fact]
    public void Unavailable_guild_create_is_not_an_event()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""{"id":"1","unavailable":true}""");
        Assert.Null(GatewayEventParser.Parse("GUILD_CREATE", document.RootElement));
    }

    [Fact]
    public void Guild_member_add_has_the_member_and_guild()
    {
        var added = Assert.IsType<GuildMemberAddEvent>(GatewayEventParser.Parse("GUILD_MEMBER_ADD", Samples.Data("GUILD_MEMBER_ADD")));

        Assert.Equal(197038439483310086UL, added.GuildId);
        Assert.Equal(53908232506183680UL, added.Member.User.Id);
        Assert.Equal("mason", added.Member.User.Username);
        Assert.Equal("Mason", added.Member.User.GlobalName);
        Assert.Empty(added.Member.Roles);
        Assert.True(added.Member.Pending);
    }

    [Fact]
    public void Interaction_create_has_nested_options_member_permissions_and_resolved_entities()
    {
        var interaction = Assert.IsType<InteractionCreateEvent>(GatewayEventParser.Parse("INTERACTION_CREATE", Samples.Data("INTERACTION_CREATE"))).Interaction;

        Assert.Equal(1190000000000000001UL, interaction.Id);
        Assert.Equal(1160000000000000001UL, interaction.ApplicationId);
        Assert.Equal(InteractionType.ApplicationCommand, interaction.Type);
        Assert.Equal(197038439483310086UL, interaction.GuildId);
        Assert.Equal(1180000000000000002UL, interaction.ChannelId);
        Assert.Equal("en-US", interaction.Locale);
        Assert.StartsWith("aW50", interaction.Token, StringComparison.Ordinal);
        Assert.DoesNotContain(interaction.Token, interaction.ToString(), StringComparison.Ordinal);

        var member = interaction.Member!;
        Assert.Equal("nelly", interaction.Invoker!.Username);
        Assert.True(member.Permissions.HasFlag(DiscordPermissions.ManageRoles));
        Assert.True(member.Permissions.HasFlag(DiscordPermissions.Administrator));
        Assert.True(interaction.AppPermissions!.Value.HasFlag(DiscordPermissions.ManageRoles));

        var data = interaction.Data!;
        Assert.Equal("walver", data.Name);
        var status = Assert.Single(data.Options);
        Assert.Equal(ApplicationCommandOptionType.SubCommand, status.Type);
        Assert.Null(status.Value);
        Assert.Equal(53908232506183680UL, status.Options.Single(o => o.Name == "member").AsSnowflake());
        Assert.True(status.Options.Single(o => o.Name == "verbose").AsBoolean());
        Assert.Equal(25, status.Options.Single(o => o.Name == "limit").AsInt64());

        var resolved = data.Resolved!;
        Assert.Equal("mason", resolved.Users[53908232506183680UL].Username);
        Assert.Equal("mason", resolved.Members[53908232506183680UL].User.Username);
        Assert.Equal([1170000000000000010UL], resolved.Members[53908232506183680UL].Roles);
    }

    [Fact]
    public void Autocomplete_marks_the_focused_option()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""
            {"id":"1","application_id":"2","type":4,"token":"t","user":{"id":"3","username":"dm-user"},
             "data":{"id":"4","name":"walver","type":1,"options":[{"name":"chain","type":3,"value":"sol","focused":true}]}}
            """);

        var interaction = Assert.IsType<InteractionCreateEvent>(GatewayEventParser.Parse("INTERACTION_CREATE", document.RootElement)).Interaction;

        Assert.Equal(InteractionType.ApplicationCommandAutocomplete, interaction.Type);
        Assert.Null(interaction.Member);
        Assert.Equal("dm-user", interaction.Invoker!.Username);
        var option = Assert.Single(interaction.Data!.Options);
        Assert.True(option.Focused);
        Assert.Equal("sol", option.Value);
    }

    [Fact]
    public void Button_press_has_custom_id()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""
            {"id":"1","application_id":"2","type":3,"token":"t","guild_id":"5",
             "member":{"user":{"id":"3","username":"u"},"roles":[],"permissions":"0"},
             "data":{"custom_id":"walver:verify:abc","component_type":2}}
            """);

        var interaction = Assert.IsType<InteractionCreateEvent>(GatewayEventParser.Parse("INTERACTION_CREATE", document.RootElement)).Interaction;

        Assert.Equal(InteractionType.MessageComponent, interaction.Type);
        Assert.Equal("walver:verify:abc", interaction.Data!.CustomId);
        Assert.Equal(2, interaction.Data.ComponentType);
        Assert.Equal(DiscordPermissions.None, interaction.Member!.Permissions);
    }

    [Fact]
    public void Member_and_role_events_parse()
    {
        static System.Text.Json.JsonElement Json(string text) => System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();

        var update = Assert.IsType<GuildMemberUpdateEvent>(GatewayEventParser.Parse("GUILD_MEMBER_UPDATE",
            Json("""{"guild_id":"1","user":{"id":"2","username":"u"},"roles":["3","4"],"nick":"n"}""")));
        Assert.Equal([3UL, 4UL], update.Member.Roles);

        var removed = Assert.IsType<GuildMemberRemoveEvent>(GatewayEventParser.Parse("GUILD_MEMBER_REMOVE",
            Json("""{"guild_id":"1","user":{"id":"2","username":"u"}}""")));
        Assert.Equal(2UL, removed.User.Id);

        var roleCreate = Assert.IsType<GuildRoleCreateEvent>(GatewayEventParser.Parse("GUILD_ROLE_CREATE",
            Json("""{"guild_id":"1","role":{"id":"9","name":"r","position":3,"permissions":"32","managed":false}}""")));
        Assert.Equal(DiscordPermissions.ManageGuild, roleCreate.Role.Permissions);

        var deleted = Assert.IsType<GuildDeleteEvent>(GatewayEventParser.Parse("GUILD_DELETE", Json("""{"id":"1","unavailable":true}""")));
        Assert.True(deleted.Unavailable);

        Assert.Null(GatewayEventParser.Parse("TYPING_START", Json("{}")));
    }
}
