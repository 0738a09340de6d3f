using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Tests.EndToEnd;

/// <summary>Finding the member a webhook names: bots, crowded names, and members who joined while no session was open.</summary>
public sealed class MemberResolutionTests
{
    private const string TaraId = "1400000000000000020";
    private const string DaveId = "1400000000000000004";

    // Discord's member search is the subject: with the directory (MemberDirectoryGrantTests) tara needs no search.
    private static readonly Dictionary<string, string?> SearchOnly = new() { ["Discord:MemberDirectory"] = "false" };

    [Fact]
    public async Task A_bot_account_gets_no_role_and_a_decision_of_its_own()
    {
        await using var bot = await BotScenario.StartAsync();
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember("1400000000000000030", "helperbot") { Bot = true });

        await bot.SendAsync(bot.Webhook("helperbot"));
        var decision = await Inbox.WaitForDecisionAsync(bot, Outcomes.BotAccount);

        Assert.Contains("bot account", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task The_bot_itself_named_by_id_gets_no_role()
    {
        await using var bot = await BotScenario.StartAsync();

        await bot.SendAsync(bot.Webhook($"<@{bot.Discord.BotUserId}>"));
        await Inbox.WaitForDecisionAsync(bot, Outcomes.BotAccount);

        Assert.Empty(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
    }

    [Fact]
    public async Task A_pending_grant_looked_up_by_id_says_no_member_with_that_id()
    {
        await using var bot = await BotScenario.StartAsync();

        await bot.SendAsync(bot.Webhook(DaveId));
        var pending = await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingMember);

        Assert.StartsWith("no member with that id ", pending.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_exact_member_is_found_behind_1000_nicknames_that_start_with_the_name()
    {
        await using var bot = await BotScenario.StartAsync(SearchOnly);
        await bot.WaitForGatewayAsync();
        // Nicknames chosen to fill Discord's REST search (1000 prefix matches of usernames or nicknames) before tara.
        for (var i = 0; i < 1000; i++)
        {
            bot.Discord.AddMember(BotScenario.GuildId, new FakeMember($"15000000000000{i:D5}", $"crowd{i:D4}") { Nick = $"tara{i}" });
        }

        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(TaraId, "tara"));

        await bot.SendAsync(bot.Webhook("tara"));

        await bot.WaitForRolePutsAsync(TaraId);
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        var request = Assert.Single(bot.Gateway.MemberRequests);
        Assert.Equal("tara", request.Query);
    }

    [Fact]
    public async Task When_every_search_is_full_the_decision_asks_for_the_user_id_instead_of_waiting_silently()
    {
        await using var bot = await BotScenario.StartAsync(SearchOnly);
        await bot.WaitForGatewayAsync();
        for (var i = 0; i < 1000; i++)
        {
            bot.Discord.AddMember(BotScenario.GuildId, new FakeMember($"15000000000000{i:D5}", $"crowd{i:D4}") { Nick = $"tara{i}" });
        }

        // And more than 100 usernames with the prefix, so the gateway's username search is full as well.
        for (var i = 0; i < 100; i++)
        {
            bot.Discord.AddMember(BotScenario.GuildId, new FakeMember($"16000000000000{i:D5}", $"tara{i:D3}"));
        }

        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(TaraId, "tara"));

        await bot.SendAsync(bot.Webhook("tara"));
        var decision = await Inbox.WaitForDecisionAsync(bot, Outcomes.UnresolvedMember);

        Assert.Contains("user id", decision.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(await Inbox.DecisionsAsync(bot), d => d.Outcome == Outcomes.PendingMember);
    }

    [Theory]
    [InlineData("dave")]
    [InlineData(DaveId)]
    public async Task A_member_who_joined_while_the_session_was_invalidated_gets_the_role_on_the_new_session(string typed)
    {
        await using var bot = await BotScenario.StartAsync(time: new FakeTimeProvider(DateTimeOffset.UtcNow));
        await bot.WaitForGatewayAsync();
        await bot.SendAsync(bot.Webhook(typed));
        await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingMember);

        // Discord ends the session (op 9 d:false); dave joins before the bot identifies anew. Only a RESUME replays
        // missed events, so no GUILD_MEMBER_ADD ever reaches the bot.
        await bot.Gateway.SendInvalidSessionAsync(resumable: false);
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(DaveId, "dave"));
        await bot.PassTheWaitsBeforeTheNextIdentifyAsync(endedConnection: 1);

        await bot.Discord.WaitUntilAsync(d => bot.RolePuts(DaveId) >= 1, TimeSpan.FromSeconds(30), "the role PUT for dave");
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        Assert.Equal(2, bot.Gateway.ReadyCount);
    }

    [Fact]
    public async Task A_member_who_joined_while_the_bot_was_stopped_gets_the_role_after_the_restart()
    {
        await using var bot = await BotScenario.StartAsync(time: new FakeTimeProvider(DateTimeOffset.UtcNow));
        await bot.WaitForGatewayAsync();
        await bot.SendAsync(bot.Webhook(DaveId));
        await Inbox.WaitForDecisionAsync(bot, Outcomes.PendingMember);

        await bot.StopBotAsync();
        bot.Discord.AddMember(BotScenario.GuildId, new FakeMember(DaveId, "dave"));
        await bot.StartBotAsync();
        // The restarted bot identifies at once, within Discord's 5 s of the first session start: op 9 d:false.
        await bot.Gateway.WaitUntilAsync(g => g.IdentifiesRefused >= 1, TimeSpan.FromSeconds(30), "the restarted bot's IDENTIFY refused");
        await bot.PassTheWaitsBeforeTheNextIdentifyAsync(endedConnection: 2);

        await bot.Discord.WaitUntilAsync(d => bot.RolePuts(DaveId) >= 1, TimeSpan.FromSeconds(30), "the role PUT for dave");
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        Assert.Contains(bot.Gateway.MemberRequests, r => r.UserIds.Contains(DaveId));
    }
}
