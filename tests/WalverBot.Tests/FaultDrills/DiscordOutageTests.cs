using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>
/// Discord's REST API fails for 30 s, then recovers: every grant completes. The bot and the fakes run on a fake clock
/// that the test moves from one retry time to the next, each step once the worker has dealt with everything due; so the
/// full drill costs no real waiting, and the worker's backoff (1, 2, 4 … s, capped at a minute) is as in production.
/// </summary>
public sealed class DiscordOutageTests
{
    private const int Events = 20;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task All_grants_complete_once_Discord_recovers_from_an_outage()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            [DrillMembers.SignaturesOff.Key] = DrillMembers.SignaturesOff.Value,
            ["Grants:RetryFor"] = "01:00:00",
        }, time: clock);
        DrillMembers.Seed(bot.Discord, Events);
        // The drill is about the outage, not Discord's rate limits (10 member searches per 10 s in the fake): a grant
        // held in the bot's rate limiter waits on this clock, and the test moves the clock only once nothing is in flight.
        bot.Discord.SetRateLimit(WalverBot.Testing.FakeDiscord.FakeDiscordBuckets.MemberRoles, 1000, TimeSpan.FromSeconds(1));
        bot.Discord.SetRateLimit(WalverBot.Testing.FakeDiscord.FakeDiscordBuckets.MemberSearch, 1000, TimeSpan.FromSeconds(1));
        bot.Discord.GlobalRateLimitPerSecond = 1000;

        bot.Discord.GoDown(503);
        var failingSince = clock.GetUtcNow();
        for (var i = 0; i < Events; i++)
        {
            Assert.Equal(200, (await bot.SendAsync(DrillMembers.Webhook(i))).Status);
        }

        await Inbox.WaitUntilNothingDueAsync(bot);
        while (clock.GetUtcNow() - failingSince < Outage)
        {
            await NextRetryAsync(bot, until: failingSince + Outage);
        }

        var failedAnswers = bot.Discord.Requests.Count(r => r.Status == 503);
        bot.Discord.ComeBackUp();

        // Recovery waits for each event's next backoff step, at most the one-minute cap (plus its jitter).
        var recovering = clock.GetUtcNow();
        while (DrillMembers.AssignmentsPerMember(bot.Discord).Count < Events)
        {
            Assert.True(clock.GetUtcNow() - recovering < TimeSpan.FromMinutes(1.2),
                $"{DrillMembers.AssignmentsPerMember(bot.Discord).Count} of {Events} grants after {clock.GetUtcNow() - recovering} of recovery; inbox: {await Inbox.ReadStateAsync(bot.DatabasePath)}");
            await NextRetryAsync(bot, until: DateTimeOffset.MaxValue);
        }

        await Inbox.WaitUntilDrainedAsync(bot, atLeast: Events);
        Assert.All(DrillMembers.AssignmentsPerMember(bot.Discord).Values, count => Assert.Equal(1, count));
        Assert.Contains(bot.Logs.Lines, l => l.Contains("Discord did not answer (503", StringComparison.Ordinal) && l.Contains("retrying in", StringComparison.Ordinal));
        // Backoff, not a hammering: a handful of attempts per event over the outage (1 + log2 of 30 s at most).
        Assert.InRange(failedAnswers, Events, Events * 6);
    }

    /// <summary>Moves the clock to the earliest retry (no further than <paramref name="until"/>) and lets the worker handle it.</summary>
    private static async Task NextRetryAsync(BotScenario bot, DateTimeOffset until)
    {
        var next = await Inbox.NextRetryAsync(bot.DatabasePath) ?? throw new InvalidOperationException("no event waits for a retry");
        bot.Time!.SetUtcNow(next < until ? next : until);
        // A wait the worker computed just before the jump would end only a whole step later on this clock (a real
        // clock does not jump); a wake-up, as a new webhook gives, makes it look at the inbox again.
        bot.Services.GetRequiredService<GrantSignal>().Notify();
        await Inbox.WaitUntilNothingDueAsync(bot);
    }
}
