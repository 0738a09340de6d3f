using System.Text.Json;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>
/// Every gateway fixture (Gateway/Samples/{EVENT}.json, Discord's documented shapes with their undocumented extras)
/// reads through the one source-generated context; what Discord leaves out or sends as null never fails a dispatch.
/// </summary>
public class GatewayFixtureTests
{
    public static TheoryData<string, Type> Dispatches => new()
    {
        { "READY", typeof(ReadyEvent) },
        { "GUILD_CREATE", typeof(GuildCreateEvent) },
        { "GUILD_DELETE", typeof(GuildDeleteEvent) },
        { "GUILD_ROLE_CREATE", typeof(GuildRoleCreateEvent) },
        { "GUILD_ROLE_UPDATE", typeof(GuildRoleUpdateEvent) },
        { "GUILD_ROLE_DELETE", typeof(GuildRoleDeleteEvent) },
        { "GUILD_MEMBER_ADD", typeof(GuildMemberAddEvent) },
        { "GUILD_MEMBER_UPDATE", typeof(GuildMemberUpdateEvent) },
        { "GUILD_MEMBER_REMOVE", typeof(GuildMemberRemoveEvent) },
        { "INTERACTION_CREATE", typeof(InteractionCreateEvent) },
        { "GUILD_MEMBERS_CHUNK", typeof(GuildMembersChunkEvent) },
    };

    [Theory]
    [MemberData(nameof(Dispatches))]
    public void Each_fixture_is_a_dispatch_named_after_its_file_and_becomes_that_event(string eventName, Type eventType)
    {
        var payload = JsonSerializer.Deserialize(Samples.Payload(eventName), DiscordJsonContext.Default.GatewayPayload)!;

        Assert.Equal(0, payload.Op);
        Assert.Equal(eventName, payload.T);
        Assert.NotNull(payload.S);
        Assert.IsType(eventType, GatewayEventParser.Parse(eventName, payload.D));
    }

    [Fact]
    public void Hello_carries_the_heartbeat_interval()
    {
        var payload = JsonSerializer.Deserialize(Samples.Payload("HELLO"), DiscordJsonContext.Default.GatewayPayload)!;

        Assert.Equal((10, null, null), (payload.Op, payload.S, payload.T));
        Assert.Equal(45000, GatewayEventParser.Read(payload.D, DiscordJsonContext.Default.HelloData).HeartbeatInterval);
    }

    [Fact]
    public void Member_update_remove_and_role_fixtures_keep_ids_names_and_permissions()
    {
        var update = Assert.IsType<GuildMemberUpdateEvent>(GatewayEventParser.Parse("GUILD_MEMBER_UPDATE", Samples.Data("GUILD_MEMBER_UPDATE")));
        Assert.Equal((197038439483310086UL, 80351110224678912UL, "nelly"), (update.GuildId, update.Member.User.Id, update.Member.User.Username));
        Assert.Equal([41771983423143936UL], update.Member.Roles);
        Assert.Null(update.Member.Nick);
        Assert.Null(update.Member.User.GlobalName);

        var removed = Assert.IsType<GuildMemberRemoveEvent>(GatewayEventParser.Parse("GUILD_MEMBER_REMOVE", Samples.Data("GUILD_MEMBER_REMOVE")));
        Assert.Equal((197038439483310086UL, 53908232506183680UL), (removed.GuildId, removed.User.Id));

        var role = Assert.IsType<GuildRoleUpdateEvent>(GatewayEventParser.Parse("GUILD_ROLE_UPDATE", Samples.Data("GUILD_ROLE_UPDATE"))).Role;
        Assert.Equal(new DiscordRole(41771983423143936UL, "WE DEM BOYZZ!!!!!!", 1, (DiscordPermissions)66321471UL, false), role);

        var roleDeleted = Assert.IsType<GuildRoleDeleteEvent>(GatewayEventParser.Parse("GUILD_ROLE_DELETE", Samples.Data("GUILD_ROLE_DELETE")));
        Assert.Equal((197038439483310086UL, 41771983423143936UL), (roleDeleted.GuildId, roleDeleted.RoleId));

        var guildDeleted = Assert.IsType<GuildDeleteEvent>(GatewayEventParser.Parse("GUILD_DELETE", Samples.Data("GUILD_DELETE")));
        Assert.True(guildDeleted.Unavailable);
    }

    [Fact]
    public void Missing_optional_fields_and_nulls_become_empty_not_a_failure()
    {
        static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

        // No roles, no nick, no pending, a null username and null booleans: all optional for reading.
        var added = Assert.IsType<GuildMemberAddEvent>(GatewayEventParser.Parse("GUILD_MEMBER_ADD",
            Json("""{"guild_id":"1","user":{"id":"2","username":null,"bot":null},"roles":null,"pending":null,"brand_new_field":{"x":[1]}}""")));
        Assert.Equal((2UL, "", false), (added.Member.User.Id, added.Member.User.Username, added.Member.User.Bot));
        Assert.Empty(added.Member.Roles);
        Assert.False(added.Member.Pending);

        // A guild with only its id and name: no roles, members or channels lists.
        var guild = Assert.IsType<GuildCreateEvent>(GatewayEventParser.Parse("GUILD_CREATE", Json("""{"id":"5","name":"g"}"""))).Guild;
        Assert.Equal((5UL, 0UL), (guild.Id, guild.OwnerId));
        Assert.Empty(guild.Roles);
        Assert.Empty(guild.Members);
        Assert.Empty(guild.Channels);
        Assert.Null(guild.MemberCount);

        // A role without name or permissions; a chunk without not_found or nonce.
        var role = Assert.IsType<GuildRoleCreateEvent>(GatewayEventParser.Parse("GUILD_ROLE_CREATE", Json("""{"guild_id":"1","role":{"id":"9"}}"""))).Role;
        Assert.Equal(new DiscordRole(9, "", 0, DiscordPermissions.None, false), role);
        var chunk = Assert.IsType<GuildMembersChunkEvent>(GatewayEventParser.Parse("GUILD_MEMBERS_CHUNK",
            Json("""{"guild_id":"1","members":[],"chunk_index":0,"chunk_count":1}""")));
        Assert.Empty(chunk.NotFound);
        Assert.Null(chunk.Nonce);

        // READY without guilds; an interaction without data, member, user or token.
        Assert.Empty(Assert.IsType<ReadyEvent>(GatewayEventParser.Parse("READY",
            Json("""{"session_id":"s","resume_gateway_url":"wss://r","user":{"id":"1","username":"b"},"application":{"id":"2"}}"""))).GuildIds);
        var interaction = Assert.IsType<InteractionCreateEvent>(GatewayEventParser.Parse("INTERACTION_CREATE",
            Json("""{"id":"1","application_id":"2","type":1}"""))).Interaction;
        Assert.Equal(("", null, null), (interaction.Token, interaction.Data, interaction.Invoker));
    }

    [Theory]
    [InlineData("GUILD_MEMBER_ADD", """{"user":{"id":"2","username":"u"},"roles":[]}""")] // no guild_id
    [InlineData("GUILD_MEMBER_ADD", """{"guild_id":"1","roles":[]}""")] // no user
    [InlineData("GUILD_MEMBER_ADD", """{"guild_id":"1","user":{"username":"u"}}""")] // a user without id
    [InlineData("GUILD_MEMBER_ADD", """{"guild_id":"not-a-snowflake","user":{"id":"2"}}""")]
    [InlineData("GUILD_ROLE_CREATE", """{"guild_id":"1","role":{"name":"r"}}""")] // a role without id
    [InlineData("GUILD_MEMBERS_CHUNK", """{"guild_id":"1","members":[]}""")] // no chunk position
    [InlineData("READY", """{"user":{"id":"1"},"application":{"id":"2"}}""")] // no session
    [InlineData("INTERACTION_CREATE", """{"application_id":"2","type":2}""")] // no id
    [InlineData("GUILD_MEMBER_REMOVE", "null")]
    public void A_dispatch_without_an_id_it_needs_is_unreadable(string eventName, string data)
    {
        var d = JsonDocument.Parse(data).RootElement.Clone();

        Assert.ThrowsAny<JsonException>(() => GatewayEventParser.Parse(eventName, d));
    }
}
