using System.Text.Json.Nodes;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Discord.Tests.Fakes;

public sealed class FakeGatewayServerTests : IAsyncLifetime
{
    private const string Guild = "3300000000000000001";
    private const int HeartbeatIntervalMs = 1234;
    private FakeDiscordServer _discord = null!;
    private FakeGatewayServer _gateway = null!;

    public async Task InitializeAsync()
    {
        _discord = await FakeDiscordServer.StartAsync();
        _discord.AddGuild(Guild, "Gateway guild");
        _discord.AddRole(Guild, new FakeRole("3300000000000000010", "WalverBot", 3, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
        _discord.SetBotRoles(Guild, "3300000000000000010");
        _discord.AddMember(Guild, new FakeMember("3300000000000000100", "alice"));
        _discord.AddChannel(new FakeChannel("3300000000000000200", Guild, "general"));
        _gateway = await FakeGatewayServer.StartAsync(_discord, new FakeGatewayOptions { HeartbeatIntervalMs = HeartbeatIntervalMs });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _discord.DisposeAsync();
    }

    [Fact]
    public async Task A_client_that_stops_heartbeating_is_closed_with_4009_and_cannot_resume()
    {
        await using var client = await GatewayTestClient.ConnectAsync(_gateway.Url);
        await client.ReceiveAsync(); // HELLO
        await client.SendAsync(GatewayTestClient.Identify(_discord.Token));
        await _gateway.WaitForReadyAsync();
        // Tight only from this heartbeat on (the fake reads the options at each one): a loaded machine may take longer
        // than 300 ms from HELLO to READY, which closed the connection before the session existed.
        _gateway.Options.HeartbeatIntervalMs = 200;
        _gateway.Options.HeartbeatAllowanceMs = 100;
        await client.SendAsync("""{"op":1,"d":null}""");
        await _gateway.WaitForHeartbeatsAsync(1);

        // No more heartbeats: the fake closes once 200 ms + 100 ms pass after the last one.
        Assert.Equal(4009, await client.ReceiveCloseAsync());
        var closed = await _gateway.WaitForConnectionClosedAsync(1);
        Assert.Equal(4009, closed.ServerCloseCode);
        Assert.Single(_gateway.Heartbeats);

        // 4009 ends the session, as Discord's close-code table says: a RESUME gets op 9 d:false. The new connection gets
        // the usual deadline back: with 300 ms, a loaded machine's RESUME arrived after it, and the fake closed the new
        // connection with 4009 instead of answering.
        _gateway.Options.HeartbeatIntervalMs = HeartbeatIntervalMs;
        _gateway.Options.HeartbeatAllowanceMs = new FakeGatewayOptions().HeartbeatAllowanceMs;
        await using var again = await GatewayTestClient.ConnectAsync(_gateway.ResumeUrl);
        await again.ReceiveAsync(); // HELLO
        await again.SendAsync(new JsonObject { ["op"] = 6, ["d"] = new JsonObject { ["token"] = _discord.Token, ["session_id"] = _gateway.SessionIds.Single(), ["seq"] = 2 } });
        var invalid = await again.ReceiveAsync();
        Assert.Equal((9, false), (invalid["op"]!.GetValue<int>(), invalid["d"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Hello_Heartbeat_Identify_Ready_GuildCreate()
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", "Bot " + _discord.Token);
        var gatewayBot = JsonNode.Parse(await http.GetStringAsync(_discord.ApiBaseUrl + "/gateway/bot"))!;
        Assert.Equal(_gateway.Url.TrimEnd('/'), gatewayBot["url"]!.GetValue<string>());

        await using var client = await GatewayTestClient.ConnectAsync(gatewayBot["url"]!.GetValue<string>());
        var hello = await client.ReceiveAsync();
        Assert.Equal(10, hello["op"]!.GetValue<int>());
        Assert.Equal(HeartbeatIntervalMs, hello["d"]!["heartbeat_interval"]!.GetValue<int>());

        await client.SendAsync("""{"op":1,"d":null}""");
        Assert.Equal(11, (await client.ReceiveAsync())["op"]!.GetValue<int>());

        await client.SendAsync(GatewayTestClient.Identify(_discord.Token));
        var ready = await client.ReceiveAsync();
        Assert.Equal(("READY", 1), (ready["t"]!.GetValue<string>(), ready["s"]!.GetValue<int>()));
        Assert.Equal(_gateway.ResumeUrl, ready["d"]!["resume_gateway_url"]!.GetValue<string>());
        Assert.Equal(_discord.BotUserId, ready["d"]!["user"]!["id"]!.GetValue<string>());
        Assert.True(ready["d"]!["guilds"]![0]!["unavailable"]!.GetValue<bool>());
        Assert.Equal(_gateway.SessionIds.Single(), ready["d"]!["session_id"]!.GetValue<string>());

        var guildCreate = await client.ReceiveAsync();
        Assert.Equal(("GUILD_CREATE", 2), (guildCreate["t"]!.GetValue<string>(), guildCreate["s"]!.GetValue<int>()));
        var members = guildCreate["d"]!["members"]!.AsArray().Select(m => m!["user"]!["id"]!.GetValue<string>());
        Assert.Contains(_discord.BotUserId, members);
        Assert.Equal(2, guildCreate["d"]!["roles"]!.AsArray().Count);
        Assert.Equal("general", guildCreate["d"]!["channels"]![0]!["name"]!.GetValue<string>());

        await client.SendAsync("""{"op":1,"d":2}""");
        await _gateway.WaitForHeartbeatsAsync(2);
        Assert.Equal([null, 2L], _gateway.Heartbeats.Select(h => h.Sequence));
        Assert.Equal(0x3, (await _gateway.WaitForIdentifyAsync()).Intents);
    }

    [Fact]
    public async Task Resume_OnResumeUrl_ReplaysMissedDispatches_ThenResumed()
    {
        string sessionId;
        await using (var first = await GatewayTestClient.ConnectAsync(_gateway.Url))
        {
            await first.ReceiveAsync(); // HELLO
            await first.SendAsync(GatewayTestClient.Identify(_discord.Token));
            sessionId = (await first.ReceiveAsync())["d"]!["session_id"]!.GetValue<string>();
            await first.ReceiveAsync(); // GUILD_CREATE, s = 2
            _gateway.DropConnection();
            await _gateway.WaitForConnectionClosedAsync(1);
        }

        await _gateway.DispatchAsync("GUILD_MEMBER_ADD", _discord.MemberEventJson(Guild, "3300000000000000100"));
        await _gateway.DispatchAsync("GUILD_ROLE_CREATE", """{"guild_id":"3300000000000000001","role":{"id":"1","name":"x"}}""");

        await using var second = await GatewayTestClient.ConnectAsync(_gateway.ResumeUrl);
        await second.ReceiveAsync(); // HELLO
        await second.SendAsync(new JsonObject { ["op"] = 6, ["d"] = new JsonObject { ["token"] = _discord.Token, ["session_id"] = sessionId, ["seq"] = 2 } });

        var replayed = new[] { await second.ReceiveAsync(), await second.ReceiveAsync(), await second.ReceiveAsync() };
        Assert.Equal(["GUILD_MEMBER_ADD", "GUILD_ROLE_CREATE", "RESUMED"], replayed.Select(p => p["t"]!.GetValue<string>()));
        Assert.Equal([3, 4, 5], replayed.Select(p => p["s"]!.GetValue<int>()));
        Assert.Equal("/resume", (await _gateway.WaitForResumeAsync()).Path);

        // Later dispatches go to the resumed connection, in large payloads split over frames.
        await _gateway.SendLargePayloadInFragmentsAsync("GUILD_MEMBER_UPDATE", _discord.MemberEventJson(Guild, "3300000000000000100"), fragments: 3);
        var update = await second.ReceiveAsync();
        Assert.Equal(("GUILD_MEMBER_UPDATE", 6), (update["t"]!.GetValue<string>(), update["s"]!.GetValue<int>()));
        Assert.Equal(3, second.LastFrameCount);
    }

    [Fact]
    public async Task RequestGuildMembers_IsAnsweredWithChunks_AsDiscordDocumentsThem()
    {
        _discord.AddMember(Guild, new FakeMember("3300000000000000101", "Alicia"));
        _discord.AddMember(Guild, new FakeMember("3300000000000000102", "bob") { Nick = "alice" });
        await using var client = await GatewayTestClient.ConnectAsync(_gateway.Url);
        await client.ReceiveAsync(); // HELLO
        await client.SendAsync(GatewayTestClient.Identify(_discord.Token));
        await client.ReceiveAsync(); // READY
        await client.ReceiveAsync(); // GUILD_CREATE

        // A query is a case-insensitive prefix of usernames only: bob's nickname does not count.
        await client.SendAsync("""{"op":8,"d":{"guild_id":"3300000000000000001","query":"ALI","limit":100,"nonce":"n-query"}}""");
        var byQuery = await client.ReceiveAsync();
        Assert.Equal("GUILD_MEMBERS_CHUNK", byQuery["t"]!.GetValue<string>());
        var d = byQuery["d"]!;
        Assert.Equal(Guild, d["guild_id"]!.GetValue<string>());
        Assert.Equal(["Alicia", "alice"], d["members"]!.AsArray().Select(m => m!["user"]!["username"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal((0, 1), (d["chunk_index"]!.GetValue<int>(), d["chunk_count"]!.GetValue<int>()));
        Assert.Equal("n-query", d["nonce"]!.GetValue<string>());
        Assert.Null(d["not_found"]);

        // user_ids: the members found, and the ids that are not members in not_found. A nonce over 32 bytes is dropped.
        await client.SendAsync("""{"op":8,"d":{"guild_id":"3300000000000000001","user_ids":["3300000000000000100","3300000000000000999"],"nonce":"123456789012345678901234567890123"}}""");
        d = (await client.ReceiveAsync())["d"]!;
        Assert.Equal(["3300000000000000100"], d["members"]!.AsArray().Select(m => m!["user"]!["id"]!.GetValue<string>()));
        Assert.Equal(["3300000000000000999"], d["not_found"]!.AsArray().Select(id => id!.GetValue<string>()));
        Assert.Null(d["nonce"]);

        // A prefix returns at most 100 members, whatever the limit asks.
        for (var i = 0; i < 150; i++)
        {
            _discord.AddMember(Guild, new FakeMember($"33000000000001{i:D5}", $"zed{i:D3}"));
        }

        await client.SendAsync("""{"op":8,"d":{"guild_id":"3300000000000000001","query":"zed","limit":1000}}""");
        Assert.Equal(100, (await client.ReceiveAsync())["d"]!["members"]!.AsArray().Count);

        // The whole list (empty query, limit 0: 1154 members, the bot included) comes in chunks of up to 1000 members.
        for (var i = 0; i < 1000; i++)
        {
            _discord.AddMember(Guild, new FakeMember($"33000000000002{i:D5}", $"many{i:D4}"));
        }

        await client.SendAsync("""{"op":8,"d":{"guild_id":"3300000000000000001","query":"","limit":0,"nonce":"all"}}""");
        var first = (await client.ReceiveAsync())["d"]!;
        var second = (await client.ReceiveAsync())["d"]!;
        Assert.Equal([(0, 2, 1000), (1, 2, 154)], new[] { first, second }.Select(c => (c["chunk_index"]!.GetValue<int>(), c["chunk_count"]!.GetValue<int>(), c["members"]!.AsArray().Count)));
        Assert.Equal(4, _gateway.MemberRequests.Count);
        Assert.Equal(["3300000000000000100", "3300000000000000999"], _gateway.MemberRequests[1].UserIds);
    }

    [Fact]
    public async Task A_role_change_through_rest_reaches_the_guilds_shard_as_guild_member_update_with_the_full_role_list()
    {
        const string otherGuild = "3300000000004194305"; // (id >> 22) % 2 == 0: shard 0; Guild is on shard 1
        const string role = "3300000000000000011", otherRole = "3300000000000000012";
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var discord = await FakeDiscordServer.StartAsync(new FakeDiscordOptions { TimeProvider = time });
        foreach (var guild in new[] { Guild, otherGuild })
        {
            discord.AddGuild(guild, "g");
            discord.AddRole(guild, new FakeRole("3300000000000000010", "WalverBot", 3, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
            discord.AddRole(guild, new FakeRole(role, "Holder", 1, "0"));
            discord.AddRole(guild, new FakeRole(otherRole, "Other", 2, "0"));
            discord.SetBotRoles(guild, "3300000000000000010");
            discord.AddMember(guild, new FakeMember("3300000000000000100", "alice") { Roles = [otherRole] });
        }

        await using var gateway = await FakeGatewayServer.StartAsync(discord, new FakeGatewayOptions { TimeProvider = time });
        var shards = new List<GatewayTestClient>();
        for (var shard = 0; shard < 2; shard++)
        {
            var client = await GatewayTestClient.ConnectAsync(gateway.Url);
            shards.Add(client);
            await client.ReceiveAsync(); // HELLO
            var identify = GatewayTestClient.Identify(discord.Token);
            identify["d"]!["shard"] = new JsonArray(shard, 2);
            await client.SendAsync(identify);
            Assert.Equal("READY", (await client.ReceiveAsync())["t"]!.GetValue<string>());
            Assert.Equal("GUILD_CREATE", (await client.ReceiveAsync())["t"]!.GetValue<string>());
            time.Advance(TimeSpan.FromSeconds(5)); // one IDENTIFY per 5 s (max_concurrency 1)
        }

        await using var _ = shards[0];
        await using var __ = shards[1];
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", "Bot " + discord.Token);
        async Task Change(HttpMethod method, string guild, string roleId) =>
            Assert.Equal(System.Net.HttpStatusCode.NoContent,
                (await http.SendAsync(new HttpRequestMessage(method, $"{discord.ApiBaseUrl}/guilds/{guild}/members/3300000000000000100/roles/{roleId}"))).StatusCode);

        await Change(HttpMethod.Put, Guild, role);
        var added = await shards[1].ReceiveAsync();
        Assert.Equal(("GUILD_MEMBER_UPDATE", 3), (added["t"]!.GetValue<string>(), added["s"]!.GetValue<int>()));
        Assert.Equal(Guild, added["d"]!["guild_id"]!.GetValue<string>());
        Assert.Equal("alice", added["d"]!["user"]!["username"]!.GetValue<string>());
        Assert.Equal([role, otherRole], added["d"]!["roles"]!.AsArray().Select(r => r!.GetValue<string>()).Order());

        // A PUT of a role held changes nothing and sends nothing: the next dispatch is the DELETE's, numbered 4.
        await Change(HttpMethod.Put, Guild, role);
        await Change(HttpMethod.Delete, Guild, role);
        var removed = await shards[1].ReceiveAsync();
        Assert.Equal(("GUILD_MEMBER_UPDATE", 4), (removed["t"]!.GetValue<string>(), removed["s"]!.GetValue<int>()));
        Assert.Equal([otherRole], removed["d"]!["roles"]!.AsArray().Select(r => r!.GetValue<string>()));

        // Shard 0 got none of that: its first dispatch after GUILD_CREATE is its own guild's change.
        await Change(HttpMethod.Put, otherGuild, role);
        var other = await shards[0].ReceiveAsync();
        Assert.Equal(("GUILD_MEMBER_UPDATE", 3, otherGuild), (other["t"]!.GetValue<string>(), other["s"]!.GetValue<int>(), other["d"]!["guild_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_session_without_the_guild_members_intent_gets_no_member_update_for_a_role_change()
    {
        _discord.AddRole(Guild, new FakeRole("3300000000000000011", "Holder", 1, "0"));
        await using var client = await GatewayTestClient.ConnectAsync(_gateway.Url);
        await client.ReceiveAsync(); // HELLO
        await client.SendAsync(GatewayTestClient.Identify(_discord.Token, intents: 1 << 0)); // GUILDS only
        await client.ReceiveAsync(); // READY
        await client.ReceiveAsync(); // GUILD_CREATE

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", "Bot " + _discord.Token);
        var put = await http.PutAsync($"{_discord.ApiBaseUrl}/guilds/{Guild}/members/3300000000000000100/roles/3300000000000000011", null);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, put.StatusCode);
        await _gateway.WaitUntilAsync(g => g.RoleChangesDispatched == 1, description: "the role change handed to the sessions");

        // The next dispatch the session gets is one the test sends (numbered 3): no GUILD_MEMBER_UPDATE came before it.
        await _gateway.DispatchAsync("TYPING_START", new JsonObject { ["guild_id"] = Guild });
        var next = await client.ReceiveAsync();
        Assert.Equal(("TYPING_START", 3), (next["t"]!.GetValue<string>(), next["s"]!.GetValue<int>()));
    }

    [Fact]
    public async Task RequestGuildMembers_WithoutQueryOrUserIds_IsADecodeError()
    {
        await using var client = await GatewayTestClient.ConnectAsync(_gateway.Url);
        await client.ReceiveAsync(); // HELLO
        await client.SendAsync(GatewayTestClient.Identify(_discord.Token));
        await client.ReceiveAsync(); // READY
        await client.ReceiveAsync(); // GUILD_CREATE

        await client.SendAsync("""{"op":8,"d":{"guild_id":"3300000000000000001","limit":10}}""");

        Assert.Equal(4002, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Resume_OfExpiredSession_GetsInvalidSessionNotResumable()
    {
        await using var client = await GatewayTestClient.ConnectAsync(_gateway.ResumeUrl);
        await client.ReceiveAsync();
        await client.SendAsync(new JsonObject { ["op"] = 6, ["d"] = new JsonObject { ["token"] = _discord.Token, ["session_id"] = "nope", ["seq"] = 7 } });

        var invalid = await client.ReceiveAsync();
        Assert.Equal(9, invalid["op"]!.GetValue<int>());
        Assert.False(invalid["d"]!.GetValue<bool>());
    }

    public static TheoryData<string, string?, int> CloseCases() => new()
    {
        // query, payload after HELLO (null: none), expected close code
        { "?v=9&encoding=json", null, 4012 },
        { "?v=10&encoding=json", """{"op":3,"d":{"status":"online"}}""", 4003 },
        { "?v=10&encoding=json", """{"op":42,"d":null}""", 4001 },
        { "?v=10&encoding=json", "{not json", 4002 },
        { "?v=10&encoding=json", """{"op":2,"d":{"token":"wrong","intents":3,"properties":{"os":"linux","browser":"b","device":"d"}}}""", 4004 },
        { "?v=10&encoding=json", """{"op":2,"d":{"token":"TOKEN","intents":3,"properties":{"os":"linux","browser":"b","device":"d"},"shard":[1,1]}}""", 4010 },
        { "?v=10&encoding=json", """{"op":2,"d":{"token":"TOKEN","intents":-1,"properties":{"os":"linux","browser":"b","device":"d"}}}""", 4013 },
        { "?v=10&encoding=json", """{"op":2,"d":{"token":"TOKEN","intents":3,"properties":{"os":"linux","browser":"b","device":"d"}}}""", 4014 },
    };

    [Theory]
    [MemberData(nameof(CloseCases))]
    public async Task ClosesWithDiscordsCode(string query, string? payload, int expected)
    {
        _gateway.Options.GuildMembersIntentEnabled = false; // makes the valid IDENTIFY (intents 3) a 4014
        await using var client = await GatewayTestClient.ConnectAsync(_gateway.Url, query);
        if (payload is not null)
        {
            await client.ReceiveAsync(); // HELLO
            await client.SendAsync(payload.Replace("TOKEN", _discord.Token, StringComparison.Ordinal));
        }

        Assert.Equal(expected, await client.ReceiveCloseAsync());
        var info = await _gateway.WaitForConnectionClosedAsync(1);
        Assert.Equal(expected, info.ServerCloseCode);
    }
}
