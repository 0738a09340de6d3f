using WalverBot.Grants;
using WalverBot.Testing.Waiting;
using WalverBot.Tests.Hosting;
using static WalverBot.Tests.SolanaRealTime.SolanaRealTimeScenario;

namespace WalverBot.Tests.SolanaRealTime;

/// <summary>Solana real time against the fake RPC and PubSub WebSocket: notifications re-check at once, through the re-check engine's rules.</summary>
public sealed class SolanaRealTimeTests
{
    private const string Alice = BotScenario.AliceId;
    private const string Bob = BotScenario.BobId;
    private const string Holder = BotScenario.HolderRoleId;

    [Fact]
    public async Task A_sale_notified_on_the_token_account_removes_the_role_at_the_second_check_and_a_buy_gives_it_back()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, AliceWallet, 5m);
        Assert.Contains(Holder, s.RolesOf(Alice));
        var requestsBefore = s.Rpc.HttpRequests;

        // The sale: the notification re-checks Alice at once; the first failed check is only a strike.
        await s.Rpc.SetTokenAmountAsync(AliceWallet, Mint, Tokens(0.5m));
        await s.Bot.Logs.WaitForLineAsync("Re-checked 1 wallets of verification \"wb_test_1\"");
        Assert.Contains("0 removed, 1 first strikes", s.Bot.Logs.Lines.Last(l => l.Contains("Re-checked 1 wallets", StringComparison.Ordinal)));
        Assert.True(s.Rpc.HttpRequests > requestsBefore); // the amount is read over RPC, not taken from the notification
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice));

        // Another change, still below the minimum, after the (zero) grace: the second check removes the role.
        await s.Rpc.SetTokenAmountAsync(AliceWallet, Mint, Tokens(0.25m));
        var revoked = await s.WaitForDecisionAsync(Alice, d => d[0].Outcome == Outcomes.RevokedHoldings);
        Assert.Contains("holds 0.25", revoked.Reason);
        // Answered, not only arrived: the fake records the DELETE before its handler takes the role away.
        await Eventually.UntilAsync(() => s.AnsweredDeletes(Alice) == 1, "the DELETE of the role answered (sent after the decision is recorded)");
        Assert.Equal(1, s.Deletes(Alice));
        Assert.DoesNotContain(Holder, s.RolesOf(Alice));
        await s.Bot.Discord.WaitUntilAsync(d => d.Messages.Any(m => m.ChannelId == LogChannelId && (m.Body["content"]?.GetValue<string>() ?? "").Contains("revoked_holdings")),
            TimeSpan.FromSeconds(10), "a log-channel notice of the removal");

        // A buy: granted back at the next notification.
        await s.Rpc.SetTokenAmountAsync(AliceWallet, Mint, Tokens(3m));
        var back = await s.WaitForDecisionAsync(Alice, d => d[0].Outcome == Outcomes.Regranted);
        Assert.Contains("holds 3", back.Reason);
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(3, s.Status.Matched);
    }

    [Fact]
    public async Task A_notification_for_a_subscription_the_bot_does_not_hold_changes_nothing()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, AliceWallet, 5m);
        var requests = s.Rpc.HttpRequests;
        var decisions = (await s.DecisionsAsync(Alice)).Count;
        var roleChanges = s.Bot.Discord.RoleChanges.Count;

        await s.Rpc.SendStrayNotificationAsync();
        await Eventually.UntilAsync(() => s.Status.Ignored == 1, "the stray notification to be received and ignored");

        Assert.Equal(0, s.Status.Matched);
        Assert.Equal(requests, s.Rpc.HttpRequests); // nothing was read
        Assert.Equal(decisions, (await s.DecisionsAsync(Alice)).Count);
        Assert.Equal(roleChanges, s.Bot.Discord.RoleChanges.Count);
        Assert.Contains(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task A_change_on_bobs_token_account_re_checks_bob_alone()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, AliceWallet, 5m);
        await s.GrantAsync("bob", Bob, BobWallet, 5m);
        var aliceDecisions = (await s.DecisionsAsync(Alice)).Count;
        var bodies = s.Rpc.Bodies.Count;

        await s.Rpc.SetTokenAmountAsync(BobWallet, Mint, Tokens(40m));
        await s.Bot.Logs.WaitForLineAsync("Re-checked 1 wallets of verification \"wb_test_1\"");

        var reads = s.Rpc.Bodies.Skip(bodies).Where(b => b.Contains("getTokenAccountsByOwner", StringComparison.Ordinal)).ToList();
        Assert.Contains(BobWallet, Assert.Single(reads));
        Assert.DoesNotContain(AliceWallet, reads[0]);
        Assert.Equal(aliceDecisions, (await s.DecisionsAsync(Alice)).Count);
    }

    [Fact]
    public async Task Notifications_arriving_while_a_re_check_waits_are_folded_into_one_that_reads_the_latest_amount()
    {
        await using var s = await StartAsync();
        await s.GrantAsync("alice", Alice, AliceWallet, 5m);

        // Hold the verification's re-check lock (as a long scheduled pass would) while the account changes six times.
        var locks = s.Bot.Services.GetRequiredService<WalverBot.Holdings.RecheckLocks>();
        var held = await locks.AcquireAsync(BotScenario.VerificationId, CancellationToken.None);
        for (var amount = 6; amount <= 11; amount++)
        {
            await s.Rpc.SetTokenAmountAsync(AliceWallet, Mint, Tokens(amount));
        }

        await Eventually.UntilAsync(() => s.Status.Matched == 6, "six notifications");
        held.Dispose();

        var store = s.Bot.Services.GetRequiredService<WalverBot.Holdings.HoldingsStore>();
        await Eventually.UntilAsync(async () => s.Status.RechecksRun == s.Status.RechecksQueued &&
            (await store.WalletsAsync(BotScenario.VerificationId, CancellationToken.None)).Single().Amount == "11",
            "every queued re-check run and the latest amount (11) stored");
        // The one waiting for the lock, and at most one more for all the changes behind it: not six.
        Assert.InRange(s.Status.RechecksQueued, 1, 2);
        Assert.Equal(s.Status.RechecksQueued, s.Bot.Logs.Lines.Count(l => l.Contains("Re-checked 1 wallets", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_native_SOL_gate_watches_the_wallet_account_itself_and_a_balance_drop_is_a_first_strike()
    {
        await using var s = await StartAsync(native: true);
        s.Rpc.SetLamports(AliceWallet, 5_000_000_000); // 5 SOL
        var response = await s.Bot.SendAsync(WalverBot.Testing.FakeWalver.FakeWalverWebhook.For(BotScenario.VerificationId).WithDiscord("alice")
            .WithSecret(BotScenario.Secret).WithWallet(AliceWallet).WithChain("solana").WithToken("", 1m, 5m, passed: true));
        Assert.Equal(200, response.Status);
        Assert.Equal(Outcomes.Granted, (await s.WaitForDecisionAsync(Alice, d => d.Count >= 1)).Outcome);
        await s.WaitForSubscribedAsync(AliceWallet);

        await s.Rpc.SetLamportsAsync(AliceWallet, 500_000_000); // 0.5 SOL
        await s.Bot.Logs.WaitForLineAsync("Re-checked 1 wallets of verification \"wb_test_1\"");

        Assert.Contains("0 removed, 1 first strikes", s.Bot.Logs.Lines.Last(l => l.Contains("Re-checked 1 wallets", StringComparison.Ordinal)));
        Assert.Equal([AliceWallet], s.Rpc.SubscribeRequests);
        Assert.Contains(Holder, s.RolesOf(Alice));
    }

    [Fact]
    public async Task Unlinking_a_wallet_unsubscribes_its_token_account_and_keeps_the_others()
    {
        await using var s = await StartAsync();
        var alices = await s.GrantAsync("alice", Alice, AliceWallet, 5m);
        var bobs = await s.GrantAsync("bob", Bob, BobWallet, 5m);

        // What /walver revoke stores: the grant revoked, the member's wallets out of the re-checks.
        var ledger = s.Bot.Services.GetRequiredService<GrantLedger>();
        var grant = (await ledger.GrantsForMemberAsync(GuildId, ulong.Parse(Alice), CancellationToken.None)).First();
        await ledger.RecordRevocationAsync(grant, "revoked by an admin", CancellationToken.None);

        await Eventually.UntilAsync(() => s.Rpc.UnsubscribedAccounts.Contains(alices), "accountUnsubscribe of Alice's token account");
        Assert.DoesNotContain(alices, s.Rpc.SubscribedAccounts);
        Assert.Contains(bobs, s.Rpc.SubscribedAccounts);
        Assert.DoesNotContain(bobs, s.Rpc.UnsubscribedAccounts);
        Assert.Equal(1, s.Rpc.SubscribeRequests.Count(a => a == alices)); // subscribed once, never again
    }

    [Fact]
    public async Task A_wallet_without_a_token_account_is_watched_once_it_opens_one()
    {
        await using var s = await StartAsync();
        var closing = await s.GrantAsync("alice", Alice, AliceWallet, 5m);
        s.Bot.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WalverBot.SolanaRealTime.SolanaSubscriptionTuning>>().Value.EmptyOwnerRefresh = TimeSpan.Zero;

        // Alice sells everything and the account is closed (lamports 0): the notification re-checks her...
        await s.Rpc.CloseTokenAccountAsync(AliceWallet, Mint);
        await s.Bot.Logs.WaitForLineAsync("1 first strikes");

        // ... and a buy opens a new token account, which the next resync finds and subscribes to.
        var fresh = s.Rpc.AddTokenAccount(AliceWallet, Mint, Tokens(2m), Decimals);
        Assert.NotEqual(closing, fresh); // a new address: the subscription awaited next is the bot's new one, not the old one's
        await s.WaitForSubscribedAsync(fresh);
        await s.Rpc.SetTokenAmountAsync(AliceWallet, Mint, Tokens(4m));
        // At least two: a count that overshot (a second notification's re-check) must not wait forever; the lines show it.
        await Eventually.UntilAsync(() => s.Bot.Logs.Lines.Count(l => l.Contains("Re-checked 1 wallets", StringComparison.Ordinal)) >= 2, "the new account's re-check",
            observed: () => $"re-checks: [{string.Join(" | ", s.Bot.Logs.Lines.Where(l => l.Contains("Re-checked", StringComparison.Ordinal)))}]; subscribed: {string.Join(", ", s.Rpc.SubscribedAccounts)}; " +
                $"fresh {fresh}; matched notifications {s.Status.Matched}; up {s.Status.Up}");
        Assert.Contains("0 removed, 0 first strikes", s.Bot.Logs.Lines.Last(l => l.Contains("Re-checked 1 wallets", StringComparison.Ordinal)));
        Assert.Equal(2, s.Status.Matched);
        Assert.Contains(Holder, s.RolesOf(Alice));
        Assert.Equal(0, s.Deletes(Alice));
    }
}
