using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Tests.EndToEnd;

/// <summary>
/// Grants with the member directory (Discord:MemberDirectory=true, the default) and without it (Discord's member
/// search each time): the same exactness rules either way, and what each grant costs in REST calls.
/// </summary>
public sealed class MemberDirectoryGrantTests
{
    private const string LookAlikeId = "1400000000000000041"; // "аlice" with a Cyrillic а
    private const string CarolFanId = "1400000000000000042";
    private const string Dan1Id = "1400000000000000043", Dan2Id = "1400000000000000044"; // legacy dan#1111, Dan#2222
    private const string KateId = "1400000000000000045";
    private const string HolderMemberId = "1400000000000000046"; // already has the Holder role

    private static async Task<BotScenario> StartAsync(bool directory)
    {
        var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Discord:MemberDirectory"] = directory ? "true" : "false" }, startBot: false);
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(LookAlikeId, "\u0430lice"));
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(CarolFanId, "carol_fan") { Nick = "carol" });
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(Dan1Id, "dan") { Discriminator = "1111" });
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(Dan2Id, "Dan") { Discriminator = "2222" });
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(KateId, "kate_x"));
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(HolderMemberId, "holder") { Roles = [BotScenario.HolderRoleId] });
        await bot.StartBotAsync();
        await bot.WaitForGatewayAsync();
        if (directory)
        {
            await bot.WaitForMemberDirectoryAsync();
        }

        // Start-up's own REST calls (gateway discovery, command registration) are done before the grant is measured.
        await bot.Discord.WaitUntilAsync(d => d.RequestsTo("PUT", "/applications/*/commands").Any(r => r.Status is not null), TimeSpan.FromSeconds(15), "command registration");
        bot.Discord.ClearRecordedRequests();
        return bot;
    }

    private static int Searches(BotScenario bot) => bot.Discord.RequestsTo("GET", "/guilds/*/members/search").Count;

    [Theory]
    [InlineData(true, "alice", BotScenario.AliceId)]        // bob's nickname is "alice"; "аlice" is a look-alike
    [InlineData(false, "alice", BotScenario.AliceId)]
    [InlineData(true, "ALICE", BotScenario.AliceId)]
    [InlineData(false, "ALICE", BotScenario.AliceId)]
    [InlineData(true, "\u0430lice", LookAlikeId)]           // the look-alike's own exact username is its own
    [InlineData(false, "\u0430lice", LookAlikeId)]
    [InlineData(true, "dan#2222", Dan2Id)]                   // legacy names: the discriminator picks the account
    [InlineData(false, "dan#2222", Dan2Id)]
    [InlineData(true, "DAN#1111", Dan1Id)]
    [InlineData(false, "DAN#1111", Dan1Id)]
    [InlineData(true, BotScenario.AliceId, BotScenario.AliceId)]
    [InlineData(false, BotScenario.AliceId, BotScenario.AliceId)]
    public async Task Only_the_member_whose_username_is_exactly_the_typed_one_gets_the_role(bool directory, string typed, string userId)
    {
        await using var bot = await StartAsync(directory);

        await bot.SendAsync(bot.Webhook(typed));

        await bot.WaitForRolePutsAsync(userId);
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        Assert.Single(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
        if (directory)
        {
            // Steady state: the role PUT is the grant's only REST call.
            Assert.Equal(["PUT"], bot.Discord.Requests.Select(r => r.Method));
        }
        else
        {
            Assert.True(bot.Discord.Requests.Count >= 2, "without the directory the member is looked up on Discord first");
        }
    }

    [Theory]
    [InlineData(true, "carol", Outcomes.PendingMember)]      // carol_fan (nickname "carol") is not carol
    [InlineData(false, "carol", Outcomes.PendingMember)]
    [InlineData(true, "\u212Aate_x", Outcomes.PendingMember)] // KELVIN SIGN is not "k"
    [InlineData(false, "\u212Aate_x", Outcomes.PendingMember)]
    [InlineData(true, "dan#3333", Outcomes.PendingMember)]
    [InlineData(false, "dan#3333", Outcomes.PendingMember)]
    [InlineData(true, "dan", Outcomes.AmbiguousMember)]      // two legacy accounts named dan
    [InlineData(false, "dan", Outcomes.AmbiguousMember)]
    public async Task A_name_that_is_not_exactly_one_members_username_grants_nothing(bool directory, string typed, string outcome)
    {
        await using var bot = await StartAsync(directory);

        await bot.SendAsync(bot.Webhook(typed));

        await Inbox.WaitForDecisionAsync(bot, outcome);
        Assert.Empty(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
        // A name the directory does not know is still asked of Discord (the member may have joined during a gap).
        Assert.Equal(outcome == Outcomes.PendingMember || !directory, Searches(bot) > 0);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task A_member_who_already_has_the_role_is_recorded_granted_without_a_role_call(bool directory, int restCalls)
    {
        await using var bot = await StartAsync(directory);

        await bot.SendAsync(bot.Webhook("holder"));

        var decision = await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        Assert.Contains("already had the role", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
        Assert.Equal(restCalls, bot.Discord.Requests.Count);
    }

    [Fact]
    public async Task A_member_who_joins_after_the_fill_is_found_in_the_directory_from_the_gateway_event()
    {
        await using var bot = await StartAsync(directory: true);
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember("1400000000000000047", "newcomer"));
        await bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", bot.Discord.MemberEventJson(BotScenario.GuildId, "1400000000000000047"));
        var directory = bot.Services.GetRequiredService<WalverBot.Discord.Gateway.IMemberDirectory>();
        await WalverBot.Testing.Waiting.Eventually.UntilAsync(
            () => directory.TryFindByUsername(ulong.Parse(BotScenario.GuildId), "newcomer", out var m) && m.Count == 1, "newcomer in the directory");

        await bot.SendAsync(bot.Webhook("newcomer"));

        await bot.WaitForRolePutsAsync("1400000000000000047");
        Assert.Equal(0, Searches(bot));
    }

    [Fact]
    public async Task The_bots_own_role_changes_come_back_over_the_gateway_so_the_directory_knows_which_grants_are_already_true()
    {
        await using var bot = await StartAsync(directory: true);
        var directory = bot.Services.GetRequiredService<WalverBot.Discord.Gateway.IMemberDirectory>();
        bool AliceHasTheRole() => directory.TryGetMember(ulong.Parse(BotScenario.GuildId), ulong.Parse(BotScenario.AliceId), out var member)
            && member!.Roles.Contains(ulong.Parse(BotScenario.HolderRoleId));
        const string alicePuts = $"/guilds/{BotScenario.GuildId}/members/{BotScenario.AliceId}/roles/{BotScenario.HolderRoleId}";

        await bot.SendAsync(bot.Webhook("alice"));
        await bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await WalverBot.Testing.Waiting.Eventually.UntilAsync(AliceHasTheRole, "the role PUT's GUILD_MEMBER_UPDATE in the directory");

        // Another delivery for alice (a new signature): the directory says she holds the role, so no call at all.
        await bot.SendAsync(bot.Webhook("alice"));
        var decisions = await WalverBot.Testing.Waiting.Eventually.UntilAsync(() => Inbox.DecisionsAsync(bot), d => d.Count == 2, "two decisions");
        Assert.Equal(Outcomes.Granted, decisions[1].Outcome);
        Assert.Contains("already had the role", decisions[1].Reason, StringComparison.Ordinal);
        Assert.Equal(["PUT"], bot.Discord.Requests.Select(r => r.Method));

        // Someone else takes the role away: that change comes over the gateway too, and the next delivery grants again.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", "Bot " + bot.Discord.Token);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.DeleteAsync(bot.Discord.ApiBaseUrl + alicePuts)).StatusCode);
        await WalverBot.Testing.Waiting.Eventually.UntilAsync(() => !AliceHasTheRole(), "the role DELETE's GUILD_MEMBER_UPDATE in the directory");

        await bot.SendAsync(bot.Webhook("alice"));
        await bot.WaitForRolePutsAsync(BotScenario.AliceId, count: 2);
        decisions = await WalverBot.Testing.Waiting.Eventually.UntilAsync(() => Inbox.DecisionsAsync(bot), d => d.Count == 3, "three decisions");
        Assert.Equal(Outcomes.Granted, decisions[2].Outcome);
        Assert.DoesNotContain("already had the role", decisions[2].Reason, StringComparison.Ordinal);
        Assert.Contains(BotScenario.HolderRoleId, bot.Discord.GetMemberRoles(BotScenario.GuildId, BotScenario.AliceId));
    }
}
