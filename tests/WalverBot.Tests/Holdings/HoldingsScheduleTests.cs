using WalverBot.Holdings;

namespace WalverBot.Tests.Holdings;

public sealed class HoldingsScheduleTests
{
    [Fact]
    public void Next_checks_spread_evenly_over_the_interval_and_stay_put()
    {
        var interval = TimeSpan.FromDays(1);
        var now = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero); // midnight: no burst here
        var wallets = Enumerable.Range(1, 24_000).Select(HoldingsScenario.Wallet).ToList();
        var next = wallets.Select(w => HoldingsSchedule.NextCheck("wb_hold", w, now, interval)).ToList();

        Assert.All(next, n => Assert.InRange(n, now.AddTicks(1), now + interval));
        // 24 hours, 1,000 wallets each on average: every hour gets between 850 and 1,150.
        var perHour = next.GroupBy(n => (int)((n - now).TotalHours)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(24, perHour.Count);
        Assert.All(perHour.Values, count => Assert.InRange(count, 850, 1150));
        // In the first minute (a start or midnight) about 1/1440 of them, not all.
        Assert.InRange(next.Count(n => n - now < TimeSpan.FromMinutes(1)), 0, 60);

        // A restart (a later "now" in the same interval) keeps every wallet's point; after it, the next interval's.
        var later = now.AddHours(5);
        for (var i = 0; i < 500; i++)
        {
            var again = HoldingsSchedule.NextCheck("wb_hold", wallets[i], later, interval);
            Assert.Equal(next[i] > later ? next[i] : next[i] + interval, again);
        }
    }

    [Fact]
    public void Amounts_earn_the_tiers_at_or_above_their_minimum_and_nothing_for_nothing_held()
    {
        var verification = new WalverBot.Verifications.Verification
        {
            Id = "v", GuildId = 1, RoleId = 10, SecretHash = "x", Chain = "ethereum", TokenAddress = "0x1111111111111111111111111111111111111111",
            MinAmount = 1m, Tiers = [new WalverBot.Verifications.RoleTier(100m, 11)], Source = "command",
        };
        Assert.Empty(HoldingsTiers.Earned(verification, 0m));
        Assert.Empty(HoldingsTiers.Earned(verification, 0.99m));
        Assert.Equal([10UL], HoldingsTiers.Earned(verification, 1m).Order());
        Assert.Equal([10UL, 11UL], HoldingsTiers.Earned(verification, 100m).Order());
        Assert.Empty(HoldingsTiers.Earned(verification with { MinAmount = null }, 0m)); // a gate without a minimum still needs something held
    }
}
