using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;
using WalverBot.Storage;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Storage;

/// <summary>The store-level tests, on SQLite here and on PostgreSQL in <see cref="PostgresStorageTests"/>.</summary>
public class StorageTests
{
    /// <summary>Which store the tests run against.</summary>
    protected virtual string Provider => StorageProviders.Sqlite;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    private GrantLedger Ledger(TestDatabase db) => new(
        db.Database, _time, NullLogger<GrantLedger>.Instance, new SilentNotifier(),
        new WalverBot.Operations.BotMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

    /// <summary>No log channel in storage tests.</summary>
    private sealed class SilentNotifier : WalverBot.Commands.IAdminNotifier
    {
        public void DecisionRecorded(WalverBot.Commands.DecisionNotice notice)
        {
        }
    }

    [SkippableFact]
    public async Task Verifications_round_trip_large_snowflakes_and_amounts()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var store = new VerificationStore(db.Database, _time);
        var verification = new Verification
        {
            Id = "wb_1", GuildId = 1_234_567_890_123_456_789, RoleId = 9_223_372_036_854_775_000, SecretHash = SecretHasher.Hash("s"),
            Source = "command", Chain = "solana", TokenAddress = "So1", MinAmount = 0.000001m, IsNft = true, Name = "Holders",
            TokenStandard = "erc1155", TokenId = "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            Tiers = [new RoleTier(100.5m, 18_446_744_073_709_551_615), new RoleTier(0.000000000000000001m, 2)],
            ReverifyAfter = TimeSpan.FromDays(90.5),
        };

        await store.UpsertAsync(verification);

        // Records compare lists by reference, so the tiers are compared apart.
        var stored = (await store.FindAsync("wb_1"))!;
        Assert.Equal(verification with { Tiers = [] }, stored with { Tiers = [] });
        Assert.Equal(verification.Tiers, stored.Tiers);
        Assert.Single(await store.ListForGuildAsync(1_234_567_890_123_456_789));
        Assert.True(await store.SetEnabledAsync("wb_1", false));
        Assert.False((await store.FindAsync("wb_1"))!.Enabled);
    }

    [SkippableFact]
    public async Task The_follower_cursor_commits_with_its_rechecks_and_a_rewind_makes_them_due_again()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var store = new WalverBot.Following.FollowerStore(db.Database, _time);
        var recheck = new WalverBot.Following.RecheckRequest(100, "wb_1", "0x1");
        Assert.Null(await store.CursorAsync("ethereum", CancellationToken.None));

        // The same block committed twice (a replay after a crash) keeps one hash and one re-check.
        await store.CommitAsync("ethereum", new WalverBot.Following.ProcessedBlock(100, "0xa"), [recheck], keep: 256, CancellationToken.None);
        await store.CommitAsync("ethereum", new WalverBot.Following.ProcessedBlock(100, "0xb"), [recheck], keep: 256, CancellationToken.None);

        Assert.Equal(100UL, await store.CursorAsync("ethereum", CancellationToken.None));
        Assert.Equal([new WalverBot.Following.ProcessedBlock(100, "0xb")], await store.RecentBlocksAsync("ethereum", CancellationToken.None));
        Assert.Equal([recheck], await store.PendingAsync("ethereum", CancellationToken.None));
        await store.MarkDoneAsync("ethereum", [recheck], CancellationToken.None);
        Assert.Empty(await store.PendingAsync("ethereum", CancellationToken.None));

        await store.RewindAsync("ethereum", forkPoint: 99, CancellationToken.None);
        Assert.Equal(99UL, await store.CursorAsync("ethereum", CancellationToken.None));
        Assert.Empty(await store.RecentBlocksAsync("ethereum", CancellationToken.None));
        Assert.Equal([recheck], await store.PendingAsync("ethereum", CancellationToken.None));
    }

    [SkippableFact]
    public async Task The_same_delivery_is_stored_once()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, _time);
        await using var writer = new InboxWriter(db.Database, _time);
        const string Checksummed = "0xAbCdEf0000000000000000000000000000000001";
        var key = WebhookInbox.DeliveryKey("wb_1", Checksummed, "sig");

        var first = await writer.AcceptAsync(new NewInboxEvent(key, "wb_1", 1, Checksummed, "name:alice", "{}"), CancellationToken.None);
        var again = await writer.AcceptAsync(new NewInboxEvent(WebhookInbox.DeliveryKey("wb_1", Checksummed.ToLowerInvariant(), "sig"), "wb_1", 1, Checksummed, "name:alice", "{}"), CancellationToken.None);
        var otherSignature = await writer.AcceptAsync(new NewInboxEvent(WebhookInbox.DeliveryKey("wb_1", Checksummed, "sig2"), "wb_1", 1, Checksummed, "name:alice", "{}"), CancellationToken.None);

        Assert.NotNull(first);
        Assert.Null(again);
        Assert.NotNull(otherSignature);
        Assert.Equal(2, (await inbox.DueAsync(10, CancellationToken.None)).Count);
    }

    [SkippableFact]
    public async Task Deliveries_stored_together_commit_together_and_a_repeat_in_the_same_batch_is_a_duplicate()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        await using var writer = new InboxWriter(db.Database, _time);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            writer.AcceptAsync(new NewInboxEvent($"key{i % 150}", "wb_1", 1, $"w{i}", null, "{}"), CancellationToken.None)));

        Assert.Equal(150, results.Count(id => id is not null));
        Assert.Equal(150, results.Where(id => id is not null).Distinct().Count());
        Assert.Equal(150, (await new WebhookInbox(db.Database, _time).DueAsync(500, CancellationToken.None)).Count);

        // Each repeat's decision was committed with the batch that found it.
        var repeats = await Ledger(db).RecentDecisionsAsync(1, null, 500, CancellationToken.None);
        Assert.Equal(50, repeats.Count);
        Assert.All(repeats, d => Assert.Equal((Outcomes.Duplicate, (ulong?)null), (d.Outcome, d.UserId)));
    }

    [SkippableFact]
    public async Task A_grant_records_the_link_the_decision_and_finishes_the_event_together()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, _time);
        await using var writer = new InboxWriter(db.Database, _time);
        var ledger = Ledger(db);
        var verification = new Verification { Id = "wb_1", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config" };
        await new VerificationStore(db.Database, _time).UpsertAsync(verification);
        var id = await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", 1, "0xABCDEF0000000000000000000000000000000001", "name:alice", "{}"), CancellationToken.None);
        var inboxEvent = (await inbox.DueAsync(10, CancellationToken.None)).Single();

        await ledger.RecordGrantAsync(inboxEvent, verification, 77, new Decision(Outcomes.Granted, "ok"), CancellationToken.None);

        Assert.Empty(await inbox.DueAsync(10, CancellationToken.None));
        Assert.Equal(77UL, await ledger.LinkedMemberAsync(1, "0xabcdef0000000000000000000000000000000001", CancellationToken.None));
        var decision = Assert.Single(await ledger.RecentDecisionsAsync(1, 77, 10, CancellationToken.None));
        Assert.Equal(Outcomes.Granted, decision.Outcome);
        Assert.Equal("0xABCD…0001", decision.Wallet);
        await using var connection = await db.Database.OpenAsync();
        Assert.Equal("done", await connection.ExecuteScalarAsync<string>("SELECT status FROM webhook_events WHERE id = @id", new { id }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM role_grants WHERE user_id = 77 AND status = 'granted'"));
    }

    [SkippableFact]
    public async Task An_unresolved_member_counts_as_pending_in_the_list_not_as_rejected()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, _time);
        await using var writer = new InboxWriter(db.Database, _time);
        var ledger = Ledger(db);
        await new VerificationStore(db.Database, _time).UpsertAsync(new Verification { Id = "wb_1", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config" });
        await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", 1, "0xABCDEF0000000000000000000000000000000001", "name:tara", "{}"), CancellationToken.None);
        var inboxEvent = (await inbox.DueAsync(10, CancellationToken.None)).Single();

        // The grant keeps waiting: the member may join (or be found) later.
        await ledger.RecordOutcomeAsync(inboxEvent, EventStatus.WaitingMember, Decision.Reject(Outcomes.UnresolvedMember, "too many names"),
            null, null, _time.GetUtcNow().AddDays(7), CancellationToken.None);

        var counts = (await ledger.CountsForGuildAsync(1, CancellationToken.None))["wb_1"];
        Assert.Equal((0, 1, 0), (counts.Granted, counts.Pending, counts.Rejected));
    }

    [SkippableFact]
    public async Task Waiting_events_wake_for_the_member_who_joins_and_expire_otherwise()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, _time);
        await using var writer = new InboxWriter(db.Database, _time);
        var ledger = Ledger(db);
        await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", 1, "w1", "name:alice", "{}"), CancellationToken.None);
        await writer.AcceptAsync(new NewInboxEvent("k2", "wb_1", 1, "w2", "name:bob", "{}"), CancellationToken.None);
        foreach (var e in await inbox.DueAsync(10, CancellationToken.None))
        {
            await ledger.RecordOutcomeAsync(e, EventStatus.WaitingMember, new Decision(Outcomes.PendingMember, "wait"), null, null,
                _time.GetUtcNow().AddDays(7), CancellationToken.None);
        }

        Assert.Empty(await inbox.DueAsync(10, CancellationToken.None));
        Assert.Equal(1, await inbox.WakeWaitingAsync(1, [MemberQuery.KeyFor("ALICE"), MemberQuery.KeyFor(5)], CancellationToken.None));
        Assert.Equal("w1", Assert.Single(await inbox.DueAsync(10, CancellationToken.None)).WalletAddress);

        Assert.Empty(await inbox.ExpiredWaitingAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromDays(7.1));
        Assert.Equal("w2", Assert.Single(await inbox.ExpiredWaitingAsync(CancellationToken.None)).WalletAddress);
    }

    [SkippableFact]
    public async Task Secrets_are_stored_hashed_and_checked_exactly()
    {
        var hash = SecretHasher.Hash("Correct-Horse");

        Assert.DoesNotContain("Correct-Horse", hash, StringComparison.Ordinal);
        Assert.True(SecretHasher.Verify("Correct-Horse", hash));
        Assert.False(SecretHasher.Verify("correct-horse", hash));
        Assert.False(SecretHasher.Verify("", hash));
        Assert.False(SecretHasher.Verify(null, hash));
        Assert.False(SecretHasher.Verify("Correct-Horse", "garbage"));
        Assert.NotEqual(hash, SecretHasher.Hash("Correct-Horse")); // salted
        Assert.True(SecretHasher.NewSecret().Length >= 43);
    }

    [SkippableFact]
    public async Task Retention_deletes_old_finished_events_and_old_repeat_decisions_and_keeps_what_a_grant_points_to()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, _time);
        await using var writer = new InboxWriter(db.Database, _time);
        var ledger = Ledger(db);
        var verification = new Verification { Id = "wb_1", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config" };
        await new VerificationStore(db.Database, _time).UpsertAsync(verification);
        await writer.AcceptAsync(new NewInboxEvent("granted", "wb_1", 1, "w1", null, """{"wallet_address":"w1"}"""), CancellationToken.None);
        await writer.AcceptAsync(new NewInboxEvent("refused", "wb_1", 1, "w2", null, """{"wallet_address":"w2"}"""), CancellationToken.None);
        var due = await inbox.DueAsync(10, CancellationToken.None);
        await ledger.RecordGrantAsync(due[0], verification, 7, new Decision(Outcomes.Granted, "ok"), CancellationToken.None);
        await ledger.RecordOutcomeAsync(due[1], EventStatus.Done, new Decision(Outcomes.NotPassed, "no"), null, null, null, CancellationToken.None);
        await writer.AcceptAsync(new NewInboxEvent("granted", "wb_1", 1, "w1", null, "{}"), CancellationToken.None); // an old repeat
        _time.Advance(TimeSpan.FromDays(1));
        await writer.AcceptAsync(new NewInboxEvent("recent", "wb_1", 1, "w3", null, """{"wallet_address":"w3"}"""), CancellationToken.None);
        await writer.AcceptAsync(new NewInboxEvent("recent", "wb_1", 1, "w3", null, "{}"), CancellationToken.None); // a recent repeat

        var deleted = await inbox.PruneAsync(_time.GetUtcNow() - TimeSpan.FromHours(12), CancellationToken.None);

        Assert.Equal(1, deleted);
        await using var connection = await db.Database.OpenAsync();
        var rows = (await connection.QueryAsync<(string Key, string Payload)>("SELECT delivery_key, payload FROM webhook_events ORDER BY id")).ToList();
        Assert.Equal([("granted", "{}"), ("recent", """{"wallet_address":"w3"}""")], rows);
        var decisions = (await connection.QueryAsync<(string Outcome, string Wallet)>("SELECT outcome, wallet FROM decisions ORDER BY id")).ToList();
        Assert.Equal([(Outcomes.Granted, "w1"), (Outcomes.NotPassed, "w2"), (Outcomes.Duplicate, "w3")], decisions);
    }

    [SkippableFact]
    public async Task A_fresh_database_reaches_the_latest_version_and_a_second_run_changes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(Provider, migrate: false);
        await using var connection = await db.Database.OpenAsync();
        Assert.Equal(0, await Migrations.CurrentVersionAsync(connection));

        await Migrations.ApplyAsync(connection);
        await Migrations.ApplyAsync(connection);

        Assert.Equal(Migrations.LatestVersion, await Migrations.CurrentVersionAsync(connection));
        // The identity/AUTOINCREMENT keys hand out ids, and every table of the last step exists.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM holdings_removals"));
    }

    [SkippableFact]
    public async Task Two_instances_accepting_the_same_deliveries_store_each_once_the_unique_key_decides()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        // A second Database on the same store: another process (or, on PostgreSQL, another instance behind the balancer).
        using var other = new Database(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Provider = Provider, ConnectionString = db.ConnectionString }));
        await using var first = new InboxWriter(db.Database, _time);
        await using var second = new InboxWriter(other, _time);

        var results = await Task.WhenAll(Enumerable.Range(0, 120).Select(i =>
            (i % 2 == 0 ? first : second).AcceptAsync(new NewInboxEvent($"key{i % 60}", "wb_1", 1, $"w{i % 60}", null, "{}"), CancellationToken.None)));

        Assert.Equal(60, results.Count(id => id is not null));
        Assert.Equal(60, results.Where(id => id is not null).Distinct().Count());
        await using var connection = await db.Database.OpenAsync();
        Assert.Equal(60, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_events"));
        Assert.Equal(60, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM decisions WHERE outcome = 'duplicate'"));
    }

    [SkippableFact]
    public async Task Two_instances_claiming_due_events_at_once_never_get_the_same_event()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        using var other = new Database(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Provider = Provider, ConnectionString = db.ConnectionString }));
        await using (var writer = new InboxWriter(db.Database, _time))
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
                writer.AcceptAsync(new NewInboxEvent($"key{i}", "wb_1", 1, $"w{i}", null, "{}"), CancellationToken.None)));
        }

        // Both read the same 100 due ids; the claiming UPDATE re-checks each row under its lock, so each goes to one.
        var claims = await Task.WhenAll(
            new WebhookInbox(db.Database, _time).DueAsync(100, CancellationToken.None),
            new WebhookInbox(other, _time).DueAsync(100, CancellationToken.None));
        var mine = claims[0].Select(e => e.Id).ToList();
        var theirs = claims[1].Select(e => e.Id).ToList();

        Assert.Empty(mine.Intersect(theirs));
        Assert.Equal(100, mine.Concat(theirs).Distinct().Count());
        // Claimed events stay with their claimer: the other instance's next pass finds none of them.
        Assert.Empty((await new WebhookInbox(other, _time).DueAsync(100, CancellationToken.None)).Select(e => e.Id).Intersect(mine));
    }

    [SkippableFact]
    public async Task Holdings_are_recorded_with_the_grant_and_a_check_writes_roles_strikes_and_removals_together()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, _time);
        await using var writer = new InboxWriter(db.Database, _time);
        var store = new WalverBot.Holdings.HoldingsStore(db.Database, _time);
        var verification = new Verification
        {
            Id = "wb_hold", GuildId = 1_234_567_890_123_456_789, RoleId = 10, SecretHash = "x", Source = "config",
            Chain = "ethereum", TokenAddress = "0x1111111111111111111111111111111111111111", MinAmount = 1m,
        };
        await new VerificationStore(db.Database, _time).UpsertAsync(verification);
        await writer.AcceptAsync(new NewInboxEvent("k1", "wb_hold", verification.GuildId, "0xABCDEF0000000000000000000000000000000001", null, "{}"), CancellationToken.None);
        var inboxEvent = (await inbox.DueAsync(10, CancellationToken.None)).Single();
        var now = _time.GetUtcNow();

        await Ledger(db).RecordGrantAsync(inboxEvent, verification, 77, new Decision(Outcomes.Granted, "ok"), CancellationToken.None,
            (connection, transaction) => WalverBot.Holdings.HoldingsStore.RecordGrantAsync(connection, transaction, verification, 77, inboxEvent.WalletAddress,
                [new WalverBot.Holdings.WalletRead(inboxEvent.WalletAddress, 150.5m, 19_000_000)], new HashSet<ulong> { 10, 11 }, now, TimeSpan.FromDays(1)));

        var wallet = Assert.Single(await store.WalletsAsync("wb_hold", CancellationToken.None));
        Assert.Equal((77UL, 150.5m, 19_000_000L), (wallet.UserId, wallet.AmountValue!.Value, wallet.BlockOrSlot!.Value));
        Assert.Equal([10UL, 11UL], Assert.Single(await store.MembersAsync("wb_hold", CancellationToken.None)).RoleSet.Order());

        // A check that takes tier role 11 away: roles, strike, decision and the removal to send, in one transaction.
        var removals = await store.ApplyAsync(new WalverBot.Holdings.MemberUpdate(
            "wb_hold", verification.GuildId, 77, [new WalverBot.Holdings.WalletRead(wallet.WalletAddress, 2m, 19_000_100)],
            new HashSet<ulong> { 10 }, new HashSet<ulong> { 11 }, now, new Dictionary<string, DateTimeOffset> { [wallet.WalletAddress] = now.AddDays(1) },
            [new Decision(Outcomes.RevokedHoldings, "below 100")], "0xABCD…0001", [(11UL, "below 100")]), CancellationToken.None);

        var removal = Assert.Single(removals);
        Assert.Equal(removal, Assert.Single(await store.PendingRemovalsAsync(CancellationToken.None)));
        Assert.True(await store.RoleHeldElsewhereAsync(verification.GuildId, 77, 10, "another", CancellationToken.None));
        Assert.False(await store.RoleHeldElsewhereAsync(verification.GuildId, 77, 11, "another", CancellationToken.None));
        await store.RemovalSentAsync(removal.Id, CancellationToken.None);
        Assert.Empty(await store.PendingRemovalsAsync(CancellationToken.None));

        // The newest block acted on only moves forward.
        await store.FinishPassAsync("wb_hold", 500, CancellationToken.None);
        await store.FinishPassAsync("wb_hold", 400, CancellationToken.None);
        await store.FinishPassAsync("wb_hold", null, CancellationToken.None);
        Assert.Equal(500L, (await store.StateAsync("wb_hold", CancellationToken.None)).LastBlock);
    }
}
