using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Discord.Gateway;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Discord.Models;
using static WalverBot.Discord.Tests.GatewayIntegration.GatewayWorld;

namespace WalverBot.Discord.Tests.GatewayIntegration;

/// <summary>The real gateway client (through the host) against the fake gateway, over WebSockets on loopback.</summary>
public sealed class GatewaySessionTests
{
    [Fact]
    public async Task Identify_ready_and_guild_create_fill_status_and_cache()
    {
        await using var world = await StartAsync();

        var identify = await world.Gateway.WaitForIdentifyAsync(timeout: WaitTimeout);
        await world.WaitForSessionAsync();

        Assert.Equal("/", identify.Path);
        Assert.Equal(world.Discord.Token, identify.Token);
        Assert.Equal(3, identify.Intents);
        Assert.Equal([0, 1], identify.Shard!.Select(n => n!.GetValue<int>()));
        var properties = identify.Data["properties"]!.AsObject();
        Assert.All(["os", "browser", "device"], p => Assert.False(string.IsNullOrEmpty(properties[p]?.GetValue<string>())));
        Assert.Equal("?v=10&encoding=json", world.Gateway.Connections.Single().Query);

        Assert.True(world.Status.IsReady);
        Assert.Null(world.Status.NotReadyReason);
        Assert.Equal(ulong.Parse(world.Discord.BotUserId, CultureInfo.InvariantCulture), world.Cache.CurrentUser?.Id);
        var guild = world.Cache.GetGuild(ulong.Parse(GuildId, CultureInfo.InvariantCulture))!;
        Assert.Equal("Integration guild", guild.Name);
        Assert.Equal([GuildId, BotRoleId, VerifiedRoleId], guild.Roles.Keys.Order().Select(id => id.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(BotRoleId, Assert.Single(guild.BotRoles).Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(5, guild.BotHighestRolePosition);
        Assert.True(guild.BotPermissions.HasFlag(DiscordPermissions.ManageRoles));
        Assert.Equal("general", Assert.Single(guild.Channels.Values).Name);
        Assert.Contains(world.Logs.Lines, l => l.Contains("ready as WalverBot", StringComparison.Ordinal) && l.Contains("in 1 guilds", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Heartbeats_carry_the_last_sequence_number()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync(); // READY is s=1, GUILD_CREATE s=2

        await world.Gateway.WaitUntilAsync(g => g.Heartbeats.Any(h => h.Sequence == 2), WaitTimeout, "a heartbeat with d=2");
        var sequence = await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, AliceId));
        Assert.Equal(3, sequence);
        await world.Gateway.WaitUntilAsync(g => g.Heartbeats.Any(h => h.Sequence == 3), WaitTimeout, "a heartbeat with d=3");

        var beats = world.Gateway.Heartbeats;
        Assert.All(beats, h => Assert.Equal(1, h.ConnectionId));
        Assert.Equal(beats.Select(h => h.Sequence ?? 0).Order(), beats.Select(h => h.Sequence ?? 0));
        Assert.Equal(1, world.Gateway.ConnectionCount);
    }

    [Fact]
    public async Task The_bots_heartbeats_never_trip_the_gateways_missed_heartbeat_close()
    {
        // The fake closes 4009 when a heartbeat is more than three intervals late (4 x 1 s of silence); the bot
        // heartbeats on a fixed cadence, so over several intervals no connection is timed out. The allowance is real
        // time on a shared machine: one interval of it was too little in a run beside a second suite and two busy loops
        // (load average 35), where a timer can fire a second late; a bot that stopped heartbeating still trips it.
        await using var world = await StartAsync(gatewayOptions: o =>
        {
            o.HeartbeatIntervalMs = HeartbeatIntervalMs;
            o.HeartbeatAllowanceMs = 3 * HeartbeatIntervalMs;
        });
        await world.WaitForSessionAsync();

        await world.Gateway.WaitForHeartbeatsAsync(5, WaitTimeout);

        Assert.DoesNotContain(world.Gateway.Connections, c => c.ServerCloseCode == 4009);
        var first = world.Gateway.Connections[0];
        Assert.Null(first.ServerCloseCode);
        Assert.Contains(world.Gateway.Heartbeats, h => h.ConnectionId == first.Id);
    }

    [Fact]
    public async Task Withheld_acks_make_a_zombie_that_is_closed_and_resumed_on_the_resume_url()
    {
        await using var world = await StartAsync(gatewayOptions: o => o.HeartbeatIntervalMs = HeartbeatIntervalMs);
        await world.WaitForSessionAsync();
        await world.Gateway.WaitUntilAsync(g => g.Heartbeats.Any(h => h.Sequence == 2), WaitTimeout, "a heartbeat with d=2");

        world.Gateway.WithholdAcks(true);
        var zombie = await world.Gateway.WaitForConnectionClosedAsync(1, WaitTimeout);
        world.Gateway.WithholdAcks(false);
        var resume = await world.Gateway.WaitForResumeAsync(timeout: WaitTimeout);
        await world.Gateway.WaitForResumedAsync(timeout: WaitTimeout);
        await world.WaitForReadyAsync();

        // Docs: close a zombie with a code other than 1000/1001 (so the session stays resumable), then resume.
        Assert.NotNull(zombie.ClientCloseCode);
        Assert.NotEqual(1000, zombie.ClientCloseCode);
        Assert.NotEqual(1001, zombie.ClientCloseCode);
        Assert.Equal("/resume", resume.Path);
        Assert.Equal(world.Gateway.SessionIds.Single(), resume.SessionId);
        Assert.Equal(world.Discord.Token, resume.Token);
        Assert.Equal(2, resume.Seq);
        Assert.Single(world.Gateway.Identifies);
        Assert.Contains(world.Logs.Lines, l => l.Contains("zombie", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dispatches_missed_by_a_zombie_are_replayed_on_resume_applied_in_order_and_handled_once()
    {
        await using var world = await StartAsync(gatewayOptions: o => o.HeartbeatIntervalMs = HeartbeatIntervalMs);
        await world.WaitForSessionAsync();
        world.Discord.AddMember(GuildId, new FakeMember("4400000000000000101", "bob"));
        world.Discord.AddMember(GuildId, new FakeMember("4400000000000000102", "carol"));

        world.Gateway.FreezeConnection();
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, "4400000000000000101"));
        await world.Gateway.DispatchAsync("GUILD_ROLE_CREATE", RoleJson("4400000000000000012", "Holder", 1));
        await world.Gateway.DispatchAsync("GUILD_ROLE_UPDATE", RoleJson("4400000000000000012", "Whale", 1));
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, "4400000000000000102"));

        var resume = await world.Gateway.WaitForResumeAsync(timeout: WaitTimeout);
        await world.Gateway.WaitForResumedAsync(timeout: WaitTimeout);
        // One guild's handlers run in order, but the EventLog only records; wait for each kind all the same.
        await world.Events.WaitForAsync<GuildMemberAddEvent>(2);
        await world.Events.WaitForAsync<GuildRoleCreateEvent>(1);
        await world.Events.WaitForAsync<GuildRoleUpdateEvent>(1);

        Assert.Equal(("/resume", 2L), (resume.Path, resume.Seq));
        Assert.Equal(["bob", "carol"], world.Events.Of<GuildMemberAddEvent>().Select(e => e.Member.User.Username).Order());
        Assert.Single(world.Events.Of<GuildRoleCreateEvent>());
        // The cache applies events in sequence order: the update (s=5) lands after the create (s=4).
        Assert.Equal("Whale", world.Cache.GetGuild(ulong.Parse(GuildId, CultureInfo.InvariantCulture))!.Roles[4400000000000000012].Name);
        Assert.Contains(world.Logs.Lines, l => l.Contains("resumed the session (4 missed events replayed)", StringComparison.Ordinal));

        // Nothing is delivered twice, even after a later dispatch.
        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, AliceId));
        await world.Events.WaitForAsync<GuildMemberAddEvent>(3);
        Assert.Equal(["alice", "bob", "carol"], world.Events.Of<GuildMemberAddEvent>().Select(e => e.Member.User.Username).Order());
        Assert.Single(world.Events.Of<GuildRoleCreateEvent>());
        Assert.Single(world.Gateway.Identifies);
    }

    [Fact]
    public async Task Op7_reconnect_resumes_the_session()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        await world.Gateway.SendReconnectAsync();
        var resume = await world.Gateway.WaitForResumeAsync(timeout: WaitTimeout);
        await world.Gateway.WaitForResumedAsync(timeout: WaitTimeout);
        await world.WaitForReadyAsync();

        Assert.Equal(("/resume", world.Gateway.SessionIds.Single(), 2L), (resume.Path, resume.SessionId, resume.Seq));
        Assert.Single(world.Gateway.Identifies);
        var first = world.Gateway.Connections[0];
        Assert.NotEqual(1000, first.ClientCloseCode);
    }

    [Fact]
    public async Task Op9_resumable_resumes_the_session()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        await world.Gateway.SendInvalidSessionAsync(resumable: true);
        var resume = await world.Gateway.WaitForResumeAsync(timeout: WaitTimeout);
        await world.Gateway.WaitForResumedAsync(timeout: WaitTimeout);
        await world.WaitForReadyAsync();

        Assert.Equal(("/resume", world.Gateway.SessionIds.Single()), (resume.Path, resume.SessionId));
        Assert.Single(world.Gateway.Identifies);
    }

    [Theory]
    [InlineData(4000)] // unknown error
    [InlineData(4008)] // rate limited
    public async Task Resumable_close_code_resumes_the_session(int code)
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        await world.Gateway.CloseAsync(code);
        var resume = await world.Gateway.WaitForResumeAsync(timeout: WaitTimeout);
        await world.Gateway.WaitForResumedAsync(timeout: WaitTimeout);
        await world.WaitForReadyAsync();

        Assert.Equal(("/resume", world.Gateway.SessionIds.Single(), 2L), (resume.Path, resume.SessionId, resume.Seq));
        Assert.Single(world.Gateway.Identifies);
        Assert.Contains(world.Logs.Lines, l => l.Contains($"reconnecting to resume", StringComparison.Ordinal) && l.Contains(code.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stopping_the_host_closes_the_connection_with_1000_so_the_session_ends()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        await world.Host.StopAsync();

        // Docs (gateway#initiating-a-disconnect): 1000 or 1001 invalidates the session and shows the bot offline.
        var closed = await world.Gateway.WaitForConnectionClosedAsync(1, WaitTimeout);
        Assert.Equal(1000, closed.ClientCloseCode);
        Assert.Equal(1, world.Gateway.ConnectionCount);
    }

    [Fact]
    public async Task A_large_dispatch_in_several_frames_is_reassembled()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();

        // ~60 KiB of GUILD_CREATE with multi-byte names, so frame boundaries fall inside characters.
        const ulong bigGuild = 4500000000000000001;
        var roles = new JsonArray();
        for (var i = 0; i < 400; i++)
        {
            roles.Add(new JsonObject { ["id"] = (bigGuild + 10 + (ulong)i).ToString(CultureInfo.InvariantCulture), ["name"] = $"Rôle 🚀 №{i} — ünïcødé", ["position"] = i, ["permissions"] = "0", ["managed"] = false });
        }

        var guild = new JsonObject
        {
            ["id"] = bigGuild.ToString(CultureInfo.InvariantCulture),
            ["name"] = "Große Gilde 🐉",
            ["owner_id"] = "1100000000000000999",
            ["roles"] = roles,
            ["channels"] = new JsonArray(),
            ["members"] = new JsonArray(),
            ["member_count"] = 1,
            ["unavailable"] = false,
        };
        Assert.True(guild.ToJsonString().Length > 32 * 1024);
        await world.Gateway.SendLargePayloadInFragmentsAsync("GUILD_CREATE", guild, fragments: 7);

        await world.Events.WaitForAsync<GuildCreateEvent>(2);
        var cached = world.Cache.GetGuild(bigGuild)!;
        Assert.Equal("Große Gilde 🐉", cached.Name);
        Assert.Equal(400, cached.Roles.Count);
        Assert.Equal("Rôle 🚀 №399 — ünïcødé", cached.Roles[bigGuild + 409].Name);
        Assert.Equal(1, world.Gateway.ConnectionCount);
    }

    [Fact]
    public async Task Readiness_is_lost_while_disconnected_and_back_after_resumed()
    {
        // A visible gap between the drop and the reconnect, so the not-ready state can be observed.
        await using var world = await StartAsync(s => s.AddSingleton<IReconnectStrategy>(new FixedReconnectStrategy(TimeSpan.FromMilliseconds(500))));
        await world.WaitForSessionAsync();

        world.Gateway.DropConnection();
        await EventuallyAsync(() => !world.Status.IsReady, "the gateway to report not ready");
        Assert.Contains("reconnecting", world.Status.NotReadyReason, StringComparison.Ordinal);
        await world.Gateway.WaitForResumedAsync(timeout: WaitTimeout);
        await world.WaitForReadyAsync();

        Assert.Null(world.Status.NotReadyReason);
        Assert.Single(world.Gateway.Identifies);
        Assert.Equal(1, world.Gateway.ResumedCount);
    }

    [Fact]
    public async Task Guild_member_add_reaches_the_registered_handler()
    {
        await using var world = await StartAsync();
        await world.WaitForSessionAsync();
        world.Discord.AddMember(GuildId, new FakeMember("4400000000000000103", "dave") { Nick = "Dave", Roles = [VerifiedRoleId] });

        await world.Gateway.DispatchAsync("GUILD_MEMBER_ADD", world.Discord.MemberEventJson(GuildId, "4400000000000000103"));
        await world.Events.WaitForAsync<GuildMemberAddEvent>(1);

        var added = Assert.Single(world.Events.Of<GuildMemberAddEvent>());
        Assert.Equal(ulong.Parse(GuildId, CultureInfo.InvariantCulture), added.GuildId);
        Assert.Equal((4400000000000000103UL, "dave", "Dave"), (added.Member.User.Id, added.Member.User.Username, added.Member.Nick));
        Assert.Equal([ulong.Parse(VerifiedRoleId, CultureInfo.InvariantCulture)], added.Member.Roles);
        Assert.Equal(0, added.ShardId);
    }

    [Fact]
    public async Task Interaction_create_reaches_the_registered_handler()
    {
        var interactions = new Gateway.RecordingHandler<InteractionCreateEvent>();
        await using var world = await StartAsync(s => s.AddSingleton<IGatewayEventHandler<InteractionCreateEvent>>(interactions));
        await world.WaitForSessionAsync();
        var interaction = world.Discord.CreateCommandInteraction(GuildId, ChannelId, AliceId, new JsonObject { ["name"] = "verify" });

        await world.Gateway.DispatchAsync("INTERACTION_CREATE", interaction.Payload);
        var received = await interactions.NextAsync();

        Assert.Equal(ulong.Parse(interaction.Id, CultureInfo.InvariantCulture), received.Interaction.Id);
        Assert.Equal(interaction.Token, received.Interaction.Token);
        Assert.Equal("verify", received.Interaction.Data?.Name);
        Assert.Equal(ulong.Parse(AliceId, CultureInfo.InvariantCulture), received.Interaction.Member?.Member.User.Id);
    }

    private static JsonObject RoleJson(string id, string name, int position) => new()
    {
        ["guild_id"] = GuildId,
        ["role"] = new JsonObject { ["id"] = id, ["name"] = name, ["position"] = position, ["permissions"] = "0", ["managed"] = false },
    };
}
