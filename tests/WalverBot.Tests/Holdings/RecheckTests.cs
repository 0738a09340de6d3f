using WalverBot.Grants;
using WalverBot.Holdings;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;
using WalverBot.Testing.Waiting;
using static WalverBot.Tests.Holdings.HoldingsScenario;

namespace WalverBot.Tests.Holdings;

/// <summary>Re-check passes against the fake chain and the fake Discord: strikes, tiers, sums, the breaker, restarts.</summary>
public sealed class RecheckTests
{
    private const string Alice = BotScenario.AliceId;
    private const string Bob = BotScenario.BobId;
    private const string Holder = BotScenario.HolderRoleId;

    [Fact]
    public async Task Selling_below_the_minimum_removes_the_role_after_the_grace_not_before_and_buying_back_regrants_it()
    {
        await using var s = await StartAsync();
        var granted = await s.GrantAsync("alice", Alice, Wallet(1), 5m);
        Assert.Equal(Outcomes.Granted, granted.Outcome);
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.DoesNotContain(WhaleRoleId, s.RolesOf(Alice));

        s.Chain.SetAmount(Wallet(1), 0.5m);
        s.Chain.Block = 1001;
        var first = await s.PassAsync();
        Assert.Equal(1, first.Strikes);
        Assert.Empty(first.Removed);

        s.Time.Advance(TimeSpan.FromMinutes(59));
        var early = await s.PassAsync();
        Assert.Empty(early.Removed);
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice, Holder));

        s.Time.Advance(TimeSpan.FromMinutes(1));
        var second = await s.PassAsync();
        var removed = Assert.Single(second.Removed);
        Assert.Equal((ulong.Parse(Alice), HolderRole, 0.5m), (removed.UserId, removed.RoleId, removed.Amount));
        Assert.DoesNotContain(Holder, s.RolesOf(Alice));
        Assert.Equal(1, s.Deletes(Alice, Holder));
        var change = Assert.Single(s.Discord.RoleChanges, c => c.Method == "DELETE");
        Assert.Contains("holds 0.5, below 1", change.AuditLogReason);
        var revoked = (await s.DecisionsAsync(Alice))[0];
        Assert.Equal(Outcomes.RevokedHoldings, revoked.Outcome);
        Assert.Contains("holds 0.5", revoked.Reason);
        Assert.Contains("below 1", revoked.Reason);
        await s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == LogChannelId && (m.Body["content"]?.GetValue<string>() ?? "").Contains("revoked_holdings")),
            TimeSpan.FromSeconds(10), "a log-channel notice of the removal");

        s.Chain.SetAmount(Wallet(1), 3m);
        var back = await s.PassAsync();
        Assert.Single(back.Added);
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(Outcomes.Regranted, (await s.DecisionsAsync(Alice))[0].Outcome);
    }

    [Fact]
    public async Task A_role_another_verification_also_gives_stays_on_discord_when_the_holdings_fall()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, Wallet(1), 5m);
        // An ungated verification gives Alice the same Holder role.
        const string otherSecret = "another-verifications-secret-0123456789";
        await s.Services.GetRequiredService<WalverBot.Verifications.VerificationStore>().UpsertAsync(new WalverBot.Verifications.Verification
        {
            Id = "wb_other", GuildId = ulong.Parse(BotScenario.GuildId), RoleId = HolderRole,
            SecretHash = WalverBot.Verifications.SecretHasher.Hash(otherSecret), Source = "command",
        });
        var before = (await s.DecisionsAsync(Alice)).Count;
        Assert.Equal(200, (await s.Bot.SendAsync(WalverBot.Testing.FakeWalver.FakeWalverWebhook.For("wb_other").WithDiscord("alice").WithSecret(otherSecret).Signed())).Status);
        Assert.Equal(Outcomes.Granted, (await s.WaitForDecisionAsync(Alice, before + 1)).Outcome);

        s.Chain.SetAmount(Wallet(1), 0.5m);
        s.Chain.Block = 1001;
        Assert.Equal(1, (await s.PassAsync()).Strikes);
        s.Time.Advance(TimeSpan.FromHours(1));
        var second = await s.PassAsync();

        Assert.Single(second.Removed); // wb_hold no longer gives the role ...
        Assert.Equal(0, s.Deletes(Alice, Holder)); // ... but Discord is not asked to remove it
        Assert.Contains(Holder, s.RolesOf(Alice));
        var decision = (await s.DecisionsAsync(Alice))[0];
        Assert.Equal(Outcomes.RevokedHoldings, decision.Outcome);
        Assert.Contains("kept on Discord because another verification gives it too", decision.Reason);
    }

    [Fact]
    public async Task Tier_up_adds_at_once_and_tier_down_removes_only_the_higher_tier_after_the_grace()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, Wallet(1), 5m);

        s.Chain.SetAmount(Wallet(1), 150m);
        var up = await s.PassAsync();
        Assert.Equal([WhaleRole], up.Added.Select(a => a.RoleId));
        Assert.Superset(new HashSet<string> { Holder, WhaleRoleId }, s.RolesOf(Alice));
        Assert.Equal(Outcomes.Granted, (await s.DecisionsAsync(Alice))[0].Outcome);
        Assert.Contains("at least 100", (await s.DecisionsAsync(Alice))[0].Reason);

        s.Chain.SetAmount(Wallet(1), 50m);
        Assert.Empty((await s.PassAsync()).Removed);
        s.Time.Advance(TimeSpan.FromMinutes(61));
        var down = await s.PassAsync();
        Assert.Equal([WhaleRole], down.Removed.Select(r => r.RoleId));
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.DoesNotContain(WhaleRoleId, s.RolesOf(Alice));
    }

    [Fact]
    public async Task Two_wallets_of_one_member_are_summed_at_grant_time_and_at_every_check()
    {
        await using var s = await StartAsync();
        var first = await s.GrantAsync("alice", Alice, Wallet(1), 60m);
        Assert.DoesNotContain(WhaleRoleId, s.RolesOf(Alice));
        Assert.Contains("shows 60 held", first.Reason);

        var second = await s.GrantAsync("alice", Alice, Wallet(2), 50m);
        Assert.Contains("110 held over 2 linked wallets", second.Reason);
        Assert.Contains(WhaleRoleId, s.RolesOf(Alice));
        Assert.Equal(2, s.Chain.Reads[^1].Wallets.Count);

        // One wallet sold: 50 left, below the Whale tier, still a Holder.
        s.Chain.SetAmount(Wallet(1), 0m);
        var pass = await s.PassAsync();
        Assert.Equal(1, pass.Strikes);
        Assert.Equal(2, s.Chain.Reads[^1].Wallets.Count); // both wallets in one ReadAsync
        s.Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal([WhaleRole], (await s.PassAsync()).Removed.Select(r => r.RoleId));
        Assert.Contains(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task An_RPC_down_for_an_hour_removes_nothing_pauses_and_tells_the_admins()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, Wallet(1), 5m);
        s.Chain.SetAmount(Wallet(1), 0m);
        s.Chain.Fail("connection refused by the RPC endpoint");
        s.Time.Advance(TimeSpan.FromDays(1)); // every wallet is due

        for (var minute = 0; minute <= 60; minute += 10)
        {
            var pass = await s.PassAsync(new PassOptions());
            Assert.Empty(pass.Removed);
            s.Time.Advance(TimeSpan.FromMinutes(10));
        }

        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice, Holder));
        Assert.Contains(await s.AllDecisionsAsync(), d => d.Outcome == Outcomes.RecheckPaused && d.Reason.Contains("connection refused", StringComparison.Ordinal));
        Assert.All(await s.Services.GetRequiredService<HoldingsStore>().MembersAsync(VerificationId, CancellationToken.None), m => Assert.Null(m.StrikeAt));
        await s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == LogChannelId && (m.Body["content"]?.GetValue<string>() ?? "").Contains("paused")),
            TimeSpan.FromSeconds(10), "a log-channel notice of the pause");

        // Paused: the scheduler leaves it alone; an admin's pass on good data resumes it, the error counted as no check.
        s.Chain.Fail(null);
        var calls = s.Chain.Calls;
        Assert.Equal(0, (await s.PassAsync(new PassOptions())).Checked);
        Assert.Equal(calls, s.Chain.Calls);
        var resumed = await s.PassAsync();
        Assert.Null(resumed.PausedReason);
        Assert.Equal(1, resumed.Strikes); // the first failed check, not the second
        Assert.Contains(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task Half_the_holders_selling_in_one_pass_trips_the_breaker_and_confirm_removals_releases_it()
    {
        await using var s = await StartAsync(members: 10);
        // Discord's limits are not this test's subject (the REST client's rate-limit tests cover them), and at their
        // usual values they cost it ten seconds twice over: the breaker's notice queued behind the ten grants' notices
        // (5 messages per 5 s in a channel), and the five removals behind the ten grants' PUTs (10 per 10 s per guild).
        s.Discord.SetRateLimit(FakeDiscordBuckets.ChannelMessages, 100, TimeSpan.FromSeconds(1));
        s.Discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 100, TimeSpan.FromSeconds(1));
        for (var i = 1; i <= 10; i++)
        {
            await s.GrantAsync($"user{i}", UserId(i), Wallet(i), 5m);
        }

        for (var i = 1; i <= 5; i++)
        {
            s.Chain.SetAmount(Wallet(i), 0m); // e.g. a wrong token address reads 0 for everyone
        }

        var members = await s.DumpAsync("holdings_members");
        var tripped = await s.PassAsync();
        Assert.NotNull(tripped.PausedReason);
        Assert.Contains("5 of 10 holders", tripped.PausedReason);
        Assert.Empty(tripped.Removed);
        Assert.Equal(members, await s.DumpAsync("holdings_members")); // no strike either
        Assert.Empty(s.Discord.RequestsTo("DELETE", "/guilds/*/members/*/roles/*"));
        await s.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == LogChannelId && (m.Body["content"]?.GetValue<string>() ?? "").Contains("5 of 10 holders")),
            TimeSpan.FromSeconds(60), "a log-channel notice naming the breaker"); // queued behind the ten grants' notices; failed at 10 s under load

        var released = await s.PassAsync(new PassOptions(Manual: true, ConfirmRemovals: true));
        Assert.Null(released.PausedReason);
        Assert.Equal(5, released.Removed.Count);
        for (var i = 1; i <= 10; i++)
        {
            Assert.Equal(i > 5, s.RolesOf(UserId(i)).Contains(Holder));
        }

        Assert.False((await s.Services.GetRequiredService<HoldingsStore>().StateAsync(VerificationId, CancellationToken.None)).IsPaused);
    }

    [Fact]
    public async Task A_crash_mid_pass_repeats_no_removal_and_skips_no_wallet()
    {
        await using var s = await StartAsync(members: 3, settings: new Dictionary<string, string?> { ["Rechecks:MaxRemovalFraction"] = "1" });
        for (var i = 1; i <= 3; i++)
        {
            await s.GrantAsync($"user{i}", UserId(i), Wallet(i), 5m);
            s.Chain.SetAmount(Wallet(i), 0m);
        }

        Assert.Equal(3, (await s.PassAsync()).Strikes);
        s.Time.Advance(TimeSpan.FromMinutes(61));

        // The first DELETE hangs and the pass is killed while it waits: user1's removal is recorded, users 2 and 3 untouched.
        s.Discord.InjectFault("DELETE", "/guilds/*/members/*/roles/*", FakeFault.Delay(TimeSpan.FromSeconds(30)));
        using var crash = new CancellationTokenSource();
        var crashing = s.PassAsync(new PassOptions(), crash.Token);
        var store = s.Services.GetRequiredService<HoldingsStore>();
        await Eventually.UntilAsync(async () => (await store.PendingRemovalsAsync(CancellationToken.None)).Count > 0, "the first removal recorded");
        // Killed only once that DELETE is held at Discord: killed before it arrived, the fault would hold the restarted
        // bot's replay instead, past its request timeout.
        await Eventually.UntilAsync(() => s.Discord.RequestsTo("DELETE", "/guilds/*/members/*/roles/*").Count > 0, "the first DELETE held at Discord");

        await crash.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => crashing);

        // A fresh engine (a restarted bot) on the same database.
        var after = await s.PassAsync(new PassOptions());
        Assert.Equal(2, after.Removed.Count);
        for (var i = 1; i <= 3; i++)
        {
            Assert.DoesNotContain(Holder, s.RolesOf(UserId(i)));
            Assert.Single(await s.DecisionsAsync(UserId(i)), d => d.Outcome == Outcomes.RevokedHoldings);
        }

        Assert.InRange(s.Deletes(UserId(1), Holder), 1, 2); // at most sent again, which Discord treats as a no-op
        Assert.Equal(1, s.Deletes(UserId(2), Holder));
        Assert.Equal(1, s.Deletes(UserId(3), Holder));
        Assert.Empty(await s.Services.GetRequiredService<HoldingsStore>().PendingRemovalsAsync(CancellationToken.None));
        var wallets = await s.Services.GetRequiredService<HoldingsStore>().WalletsAsync(VerificationId, CancellationToken.None);
        Assert.All(wallets, w => Assert.True(w.NextCheckAt > s.Time.GetUtcNow() && w.CheckedAt is not null, $"{w.WalletAddress} was skipped"));
    }

    [Fact]
    public async Task A_dry_run_answers_what_would_change_and_changes_nothing()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, Wallet(1), 5m);
        await s.GrantAsync("bob", Bob, Wallet(2), 5m);
        s.Chain.SetAmount(Wallet(1), 0m);
        await s.PassAsync(); // alice's first strike
        s.Time.Advance(TimeSpan.FromMinutes(61));
        s.Chain.SetAmount(Wallet(2), 150m);
        s.Chain.Block = 2000;

        string[] tables = ["holdings_wallets", "holdings_members", "holdings_verifications", "holdings_removals", "decisions", "role_grants"];
        var before = await Task.WhenAll(tables.Select(s.DumpAsync));
        var roleRequests = RoleRequests(s);

        var dry = await s.PassAsync(new PassOptions(Manual: true, DryRun: true));

        var removed = Assert.Single(dry.Removed);
        Assert.Equal((ulong.Parse(Alice), HolderRole), (removed.UserId, removed.RoleId));
        var added = Assert.Single(dry.Added);
        Assert.Equal((ulong.Parse(Bob), WhaleRole), (added.UserId, added.RoleId));
        Assert.Equal(before, await Task.WhenAll(tables.Select(s.DumpAsync)));
        Assert.Equal(roleRequests, RoleRequests(s));
        Assert.Contains(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task A_member_who_leaves_and_rejoins_gets_back_every_role_their_wallets_still_earn()
    {
        await using var s = await StartAsync();
        await s.Bot.WaitForGatewayAsync();
        await s.GrantAsync("alice", Alice, Wallet(1), 150m);
        Assert.Superset(new HashSet<string> { Holder, WhaleRoleId }, s.RolesOf(Alice));
        var decisions = (await s.DecisionsAsync(Alice)).Count;

        // Discord drops a member's roles when they leave.
        s.Discord.RemoveMember(BotScenario.GuildId, Alice);
        s.Discord.AddMember(BotScenario.GuildId, new FakeMember(Alice, "alice"));
        await s.Bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", s.Discord.MemberEventJson(BotScenario.GuildId, Alice));

        await s.WaitForDecisionAsync(Alice, decisions + 2);
        Assert.Superset(new HashSet<string> { Holder, WhaleRoleId }, s.RolesOf(Alice));
        Assert.All((await s.DecisionsAsync(Alice)).Take(2), d => Assert.Equal(Outcomes.Regranted, d.Outcome));
    }

    [Fact]
    public async Task A_join_whose_pending_grant_already_gave_the_roles_is_not_taken_for_a_rejoin()
    {
        await using var s = await StartAsync();
        await s.Bot.WaitForGatewayAsync();
        // The state a join meets when the grant it woke ran first: the membership recorded, the roles on the member.
        await s.GrantAsync("alice", Alice, Wallet(1), 150m);
        await s.GrantAsync("bob", Bob, Wallet(2), 5m);
        var alicePuts = RoleRequests(s, Alice);
        var aliceDecisions = (await s.DecisionsAsync(Alice)).Count;
        var bobDecisions = (await s.DecisionsAsync(Bob)).Count;

        await s.Bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", s.Discord.MemberEventJson(BotScenario.GuildId, Alice));
        // A real rejoin after it: one guild's events are handled in order, so bob's role back means alice's join is done.
        s.Discord.RemoveMember(BotScenario.GuildId, Bob);
        s.Discord.AddMember(BotScenario.GuildId, new FakeMember(Bob, "bob"));
        await s.Bot.Gateway.DispatchAsync("GUILD_MEMBER_ADD", s.Discord.MemberEventJson(BotScenario.GuildId, Bob));
        await s.WaitForDecisionAsync(Bob, bobDecisions + 1);

        Assert.Equal(Outcomes.Regranted, (await s.DecisionsAsync(Bob))[0].Outcome);
        Assert.Equal(alicePuts, RoleRequests(s, Alice));
        Assert.Equal(aliceDecisions, (await s.DecisionsAsync(Alice)).Count);
        Assert.Superset(new HashSet<string> { Holder, WhaleRoleId }, s.RolesOf(Alice));
    }

    [Fact]
    public async Task An_admins_revoke_ends_the_re_checks_so_no_pass_gives_the_role_back()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, Wallet(1), 5m);
        var ledger = s.Services.GetRequiredService<GrantLedger>();
        var grant = Assert.Single(await ledger.GrantsForMemberAsync(GuildId, ulong.Parse(Alice), CancellationToken.None));
        await ledger.RecordRevocationAsync(grant, "revoked by an admin", CancellationToken.None);
        var puts = s.Bot.RolePuts(Alice);

        var pass = await s.PassAsync();

        Assert.Equal(0, pass.Checked);
        Assert.Equal(puts, s.Bot.RolePuts(Alice));
        Assert.Empty(await s.Services.GetRequiredService<HoldingsStore>().WalletsOfMemberAsync(VerificationId, ulong.Parse(Alice), CancellationToken.None));
    }

    private static int RoleRequests(HoldingsScenario s) =>
        s.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*").Count + s.Discord.RequestsTo("DELETE", "/guilds/*/members/*/roles/*").Count;

    private static int RoleRequests(HoldingsScenario s, string userId) =>
        s.Discord.RequestsTo("PUT", $"/guilds/*/members/{userId}/roles/*").Count + s.Discord.RequestsTo("DELETE", $"/guilds/*/members/{userId}/roles/*").Count;
}

/// <summary>Passes over many wallets: batched reads, and webhooks still accepted and granted while a pass runs.</summary>
public sealed class RecheckBatchTests
{
    [Fact]
    public async Task Wallets_due_together_are_read_in_batches_of_1000_and_a_webhook_is_granted_while_a_pass_reads()
    {
        await using var s = await StartAsync();
        var verification = (await s.Services.GetRequiredService<WalverBot.Verifications.VerificationStore>().FindAsync(VerificationId))!;
        await using (var connection = await s.Services.GetRequiredService<WalverBot.Storage.Database>().OpenAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            for (var i = 1; i <= 1200; i++)
            {
                await HoldingsStore.RecordGrantAsync(connection, transaction, verification, 1_500_000_000_000_000_000UL + (ulong)i, Wallet(1000 + i),
                    [], new HashSet<ulong> { HolderRole }, s.Time.GetUtcNow(), TimeSpan.FromDays(1));
                s.Chain.SetAmount(Wallet(1000 + i), 5m);
            }

            await transaction.CommitAsync();
        }

        s.Time.Advance(TimeSpan.FromDays(1)); // all 1,200 due at once
        var accepted = false;
        s.Chain.BeforeRead = async wallets =>
        {
            if (!accepted && wallets.Count > 1)
            {
                // Mid-pass: the listener and the grant worker still work.
                accepted = true;
                await s.GrantAsync("alice", BotScenario.AliceId, Wallet(1), 5m);
            }
        };
        var calls = s.Chain.Calls;

        var pass = await s.PassAsync(new PassOptions());

        Assert.Equal(1200, pass.Checked);
        Assert.True(accepted);
        Assert.Contains(BotScenario.HolderRoleId, s.RolesOf(BotScenario.AliceId));
        var passReads = s.Chain.Reads.Skip(calls).Where(r => r.Wallets.Count > 1).Select(r => r.Wallets.Count).ToList();
        Assert.Equal([1000, 200], passReads);
    }
}
