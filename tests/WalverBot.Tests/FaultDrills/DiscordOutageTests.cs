using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>
/// Discord's REST API fails, then recovers: every grant completes. The full drill is 30 s of failure; the suite
/// runs the same shape with an 8 s outage (the worker's backoff is 2, 4, 8 … s, so recovery costs about one more
/// step of it). Set WALVERBOT_DRILL_OUTAGE_SECONDS=30 to run it at full length.
/// </summary>
public sealed class DiscordOutageTests
{
    private const int Events = 20;

    [Fact]
    public async Task All_grants_complete_once_Discord_recovers_from_an_outage()
    {
        var outage = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("WALVERBOT_DRILL_OUTAGE_SECONDS"), out var s) ? s : 8);
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            [DrillMembers.SignaturesOff.Key] = DrillMembers.SignaturesOff.Value,
            ["Grants:RetryFor"] = "01:00:00",
        });
        DrillMembers.Seed(bot.Discord, Events);

        bot.Discord.GoDown(503);
        var failingSince = DateTime.UtcNow;
        for (var i = 0; i < Events; i++)
        {
            Assert.Equal(200, (await bot.SendAsync(DrillMembers.Webhook(i))).Status);
        }

        await Task.Delay(outage - (DateTime.UtcNow - failingSince));
        var failedAnswers = bot.Discord.Requests.Count(r => r.Status == 503);
        bot.Discord.ComeBackUp();

        await bot.Discord.WaitUntilAsync(d => DrillMembers.AssignmentsPerMember(d).Count == Events, outage * 2 + TimeSpan.FromSeconds(20), "every grant after the outage");
        Assert.All(DrillMembers.AssignmentsPerMember(bot.Discord).Values, count => Assert.Equal(1, count));
        Assert.Contains(bot.Logs.Lines, l => l.Contains("Discord did not answer (503", StringComparison.Ordinal) && l.Contains("retrying in", StringComparison.Ordinal));
        // Backoff, not a hammering: a handful of attempts per event during the outage.
        Assert.InRange(failedAnswers, 1, Events * 6);
    }
}
