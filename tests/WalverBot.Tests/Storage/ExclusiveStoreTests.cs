using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Grants;
using WalverBot.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Storage;

/// <summary>
/// One database, one bot: the process lock, event claims and the one-wallet constraint, each with a second
/// <see cref="Database"/> on the same file standing in for a second process.
/// </summary>
public sealed class ExclusiveStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    private static Database SecondProcess(TestDatabase db) =>
        new(Options.Create(new StorageOptions { ConnectionString = $"Data Source={db.Path_}" }));

    private GrantLedger Ledger(Database database) => new(
        database, _time, NullLogger<GrantLedger>.Instance, new SilentNotifier(),
        new WalverBot.Operations.BotMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

    private sealed class SilentNotifier : WalverBot.Commands.IAdminNotifier
    {
        public void DecisionRecorded(WalverBot.Commands.DecisionNotice notice)
        {
        }
    }

    [Fact]
    public async Task Only_one_holder_of_the_database_at_a_time_and_the_lock_is_free_again_when_it_stops()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var first = SecondProcess(db);
        using var second = SecondProcess(db);

        Assert.True(first.TryAcquireExclusive());
        Assert.False(second.TryAcquireExclusive());

        first.Dispose();
        Assert.True(second.TryAcquireExclusive());
        second.Dispose();
        Assert.Equal($"{Environment.ProcessId}", File.ReadAllText(db.Path_ + ".lock").Trim()); // for the operator who finds it
    }

    [Fact]
    public async Task Two_process_runs_polling_together_claim_each_due_event_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var writer = new InboxWriter(db.Database, _time))
        {
            await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
                writer.AcceptAsync(new NewInboxEvent($"k{i}", "wb_1", 1, $"w{i}", null, "{}"), CancellationToken.None)));
        }

        using var other = SecondProcess(db);
        var mine = new WebhookInbox(db.Database, _time);
        var theirs = new WebhookInbox(other, _time);

        var passes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? mine : theirs).DueAsync(20, CancellationToken.None))));
        var passes2 = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? mine : theirs).DueAsync(100, CancellationToken.None))));

        // Each run sees only its own claims again; no event is in both runs' hands.
        var mineIds = passes.Where((_, i) => i % 2 == 0).Concat(passes2.Where((_, i) => i % 2 == 0)).SelectMany(p => p).Select(e => e.Id).ToHashSet();
        var theirIds = passes.Where((_, i) => i % 2 == 1).Concat(passes2.Where((_, i) => i % 2 == 1)).SelectMany(p => p).Select(e => e.Id).ToHashSet();
        Assert.Empty(mineIds.Intersect(theirIds));
        Assert.Equal(60, mineIds.Count + theirIds.Count);
    }

    [Fact]
    public async Task A_restart_that_holds_the_lock_takes_over_the_claims_of_the_run_before()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var writer = new InboxWriter(db.Database, _time))
        {
            await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", 1, "w1", null, "{}"), CancellationToken.None);
        }

        Assert.Single(await new WebhookInbox(db.Database, _time).DueAsync(10, CancellationToken.None)); // claimed, then "crashed"
        await using var provider = new ServiceCollection()
            .AddSingleton(SecondProcess(db))
            .BuildServiceProvider();
        var restarted = provider.GetRequiredService<Database>();
        Assert.Empty(await new WebhookInbox(restarted, _time).DueAsync(10, CancellationToken.None));

        await provider.InitializeStorageAsync();

        Assert.Single(await new WebhookInbox(restarted, _time).DueAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task Racing_grants_of_one_wallet_to_two_members_link_it_to_exactly_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var other = SecondProcess(db);
        const string Wallet = "0xAbCdEf0000000000000000000000000000000001";

        for (var round = 0; round < 20; round++)
        {
            var guild = (ulong)(100 + round);
            var results = await Task.WhenAll(
                Task.Run(() => Ledger(db.Database).LinkWalletAsync(guild, Wallet, 7, "wb_1", CancellationToken.None)),
                Task.Run(() => Ledger(other).LinkWalletAsync(guild, Wallet.ToLowerInvariant(), 8, "wb_2", CancellationToken.None)));

            // Both callers are told the same winner, so exactly one of them grants.
            Assert.Equal(results[0], results[1]);
            Assert.Contains(results[0], new ulong[] { 7, 8 });
            Assert.Equal(results[0], await Ledger(db.Database).LinkedMemberAsync(guild, Wallet, CancellationToken.None));
        }

        // The winner asking again keeps its link; the loser still sees the winner.
        Assert.Equal(7UL, await Ledger(db.Database).LinkWalletAsync(1, Wallet, 7, "wb_1", CancellationToken.None));
        Assert.Equal(7UL, await Ledger(other).LinkWalletAsync(1, Wallet, 8, "wb_2", CancellationToken.None));
        Assert.Equal(7UL, await Ledger(db.Database).LinkWalletAsync(1, Wallet, 7, "wb_1", CancellationToken.None));
    }

    [Fact]
    public async Task A_database_file_deleted_while_open_is_unhealthy_and_nothing_written_to_it_is_acknowledged()
    {
        await using var db = await TestDatabase.CreateAsync();
        db.Database.Health.Track();
        await using var writer = new InboxWriter(db.Database, _time);
        Assert.NotNull(await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", 1, "w1", null, "{}"), CancellationToken.None));
        Assert.Null(db.Database.Health.Check());

        File.Delete(db.Path_);

        Assert.Contains("was deleted", db.Database.Health.Check(), StringComparison.Ordinal);
        // The pooled connection still commits into the deleted file; the writer must not acknowledge that.
        await Assert.ThrowsAsync<StoreUnavailableException>(() =>
            writer.AcceptAsync(new NewInboxEvent("k2", "wb_1", 1, "w2", null, "{}"), CancellationToken.None));

        // A file back at the path (here: a new, empty one) is not the database the bot holds: still refused.
        await File.WriteAllBytesAsync(db.Path_, []);
        Assert.False(db.Database.Health.IsHealthy);
    }

    [Fact]
    public async Task A_database_file_replaced_while_open_is_unhealthy()
    {
        await using var db = await TestDatabase.CreateAsync();
        db.Database.Health.Track();
        File.Copy(db.Path_, db.Path_ + ".copy");

        File.Move(db.Path_ + ".copy", db.Path_, overwrite: true);

        Assert.Contains("was replaced", db.Database.Health.Check(), StringComparison.Ordinal);
    }
}
