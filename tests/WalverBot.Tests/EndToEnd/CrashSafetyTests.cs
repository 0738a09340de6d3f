using WalverBot.Grants;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.EndToEnd;

public sealed class CrashSafetyTests
{
    [Fact]
    public async Task An_event_accepted_before_a_stop_is_granted_exactly_once_after_the_restart()
    {
        await using var bot = await BotScenario.StartAsync();
        bot.Discord.GoDown(503);
        var webhook = bot.Webhook();

        var answer = await bot.SendAsync(webhook);
        Assert.Equal("accepted", answer.Json!["status"]!.GetValue<string>());
        await bot.StopBotAsync(); // the grant never happened: Discord was down
        Assert.Equal(0, AppliedRolePuts(bot));

        bot.Discord.ComeBackUp();
        await bot.StartBotAsync();

        await Inbox.WaitForDecisionAsync(bot, Outcomes.Granted);
        Assert.Equal(1, AppliedRolePuts(bot));

        // Another restart does not grant again, and Walver retrying the same delivery is a duplicate.
        await bot.StopBotAsync();
        await bot.StartBotAsync();
        var retry = await bot.SendAsync(webhook);
        Assert.Equal("duplicate", retry.Json!["status"]!.GetValue<string>());
        await Inbox.WaitForDecisionAsync(bot, Outcomes.Duplicate);
        Assert.Equal(1, AppliedRolePuts(bot));
        Assert.Equal(1, await Inbox.CountEventsAsync(bot));
    }

    /// <summary>
    /// Role PUTs Discord applied (answered 2xx). A PUT sent while Discord was down is recorded with its 503: on a loaded
    /// machine the worker may reach it (the member known from the gateway, no search needed) before the stop.
    /// </summary>
    private static int AppliedRolePuts(BotScenario bot) =>
        bot.Discord.RequestsTo("PUT", $"/guilds/{BotScenario.GuildId}/members/{BotScenario.AliceId}/roles/{BotScenario.HolderRoleId}")
            .Count(r => r.Status is >= 200 and < 300);
}
