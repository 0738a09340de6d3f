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

public sealed class HoldingsMigrationTests
{
    [Fact]
    public async Task Migration_8_takes_over_granted_roles_and_spreads_their_first_check_over_a_day()
    {
        await using var db = await WalverBot.Tests.Storage.TestDatabase.CreateAsync();
        await using var connection = await db.Database.OpenAsync();
        // A database as version 7 left it, with one role granted and one revoked.
        await Dapper.SqlMapper.ExecuteAsync(connection, """
            DROP TABLE holdings_wallets; DROP TABLE holdings_members; DROP TABLE holdings_verifications; DROP TABLE holdings_removals;
            ALTER TABLE webhook_events DROP COLUMN claimed_until;
            PRAGMA user_version = 7;
            INSERT INTO webhook_events (id, delivery_key, verification_id, guild_id, wallet_address, payload, received_at, status, next_attempt_at)
            VALUES (1, 'k1', 'v', 1, '0xabc', '{}', '2026-01-01T00:00:00.0000000Z', 'done', '2026-01-01T00:00:00.0000000Z'),
                   (2, 'k2', 'v', 1, '0xdef', '{}', '2026-01-01T00:00:00.0000000Z', 'done', '2026-01-01T00:00:00.0000000Z');
            INSERT INTO role_grants (verification_id, guild_id, role_id, user_id, wallet_address, event_id, status, granted_at)
            VALUES ('v', 1, 10, 100, '0xabc', 1, 'granted', '2026-01-01T00:00:00.0000000Z'),
                   ('v', 1, 10, 101, '0xdef', 2, 'revoked', '2026-01-01T00:00:00.0000000Z');
            """);

        await WalverBot.Storage.Migrations.ApplyAsync(connection);

        var store = new HoldingsStore(db.Database, TimeProvider.System);
        var wallet = Assert.Single(await store.WalletsAsync("v", CancellationToken.None));
        Assert.Equal((100UL, "0xabc"), (wallet.UserId, wallet.WalletAddress));
        Assert.Null(wallet.CheckedAt);
        Assert.InRange(wallet.NextCheckAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal([10UL], Assert.Single(await store.MembersAsync("v", CancellationToken.None)).RoleSet);
    }
}
