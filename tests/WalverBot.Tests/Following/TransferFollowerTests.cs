using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Following;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.Following;

/// <summary>The follower's steps on a scripted chain and a real SQLite store: ranges, confirmations, reorgs, restarts.</summary>
public sealed class TransferFollowerTests : IAsyncLifetime
{
    private const string C = RecordingEffects.Contract;
    private const string Alice = RecordingEffects.Alice;
    private const string Bob = RecordingEffects.Bob;
    private const string Stranger = RecordingEffects.Stranger;

    private TestDatabase _db = null!;
    private FollowerStore _store = null!;
    private readonly RecordingEffects _effects = new();
    private readonly FollowerStates _states = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _store = new FollowerStore(_db.Database, new FakeTimeProvider());
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private TransferFollower Follower(ScriptedChain chain, int confirmations = 2, int maxRange = 2000) =>
        new(new FollowerChain("ethereum", null, confirmations, maxRange), chain, _store, _effects, _states.For("ethereum"), new FollowerTuning(), NullLogger.Instance);

    private static async Task<StepOutcome> CatchUpAsync(TransferFollower follower, ulong head)
    {
        StepOutcome outcome;
        var steps = 0;
        do
        {
            outcome = await follower.StepAsync(head, CancellationToken.None);
            Assert.True(++steps < 1000, "the follower never caught up");
        }
        while (outcome is StepOutcome.Behind or StepOutcome.Reorg or StepOutcome.Narrowed);

        return outcome;
    }

    [Fact]
    public async Task The_first_start_begins_at_the_confirmed_head_without_reading_history()
    {
        var chain = new ScriptedChain(100);
        chain.Transfer(50, C, Alice, Stranger);

        Assert.Equal(StepOutcome.CaughtUp, await Follower(chain).StepAsync(chain.Head, CancellationToken.None));

        Assert.Equal(98ul, await _store.CursorAsync("ethereum", CancellationToken.None));
        Assert.Empty(chain.LogRanges);
        Assert.Empty(_effects.Rechecks);
    }

    [Fact]
    public async Task A_transfer_of_a_linked_wallet_is_rechecked_once_it_is_confirmations_deep_at_the_end_of_its_range()
    {
        var chain = new ScriptedChain(100);
        var follower = Follower(chain);
        await follower.StepAsync(chain.Head, CancellationToken.None); // cursor 98
        chain.MineTo(101);
        chain.Transfer(101, C, Alice, Stranger);
        chain.Transfer(101, C, Stranger, Stranger);
        chain.Transfer(101, "0x00000000000000000000000000000000000000dd", Bob, Stranger);

        // Head 102: block 101 is one deep, not two; block 100 is processed and nothing touches a linked wallet there.
        chain.MineTo(102);
        await CatchUpAsync(follower, chain.Head);
        Assert.Empty(_effects.WithWallets);

        chain.MineTo(103);
        await CatchUpAsync(follower, chain.Head);
        var recheck = Assert.Single(_effects.WithWallets);
        Assert.Equal([Alice], recheck.Wallets);
        Assert.Equal(101ul, recheck.AtBlock);
        Assert.Equal([(99ul, 100ul), (101ul, 101ul)], chain.LogRanges);
        Assert.Equal(101, _states.For("ethereum").Processed);
        Assert.Equal(2, _states.For("ethereum").Lag);
    }

    [Fact]
    public async Task After_an_outage_the_follower_catches_up_in_ranges_of_at_most_MaxBlockRange_that_cover_every_block_once()
    {
        var chain = new ScriptedChain(102);
        var follower = Follower(chain, maxRange: 2000);
        await follower.StepAsync(chain.Head, CancellationToken.None); // cursor 100
        chain.MineTo(10_102);
        chain.Transfer(5_000, C, Stranger, Bob);

        Assert.Equal(StepOutcome.CaughtUp, await CatchUpAsync(follower, chain.Head));

        Assert.Equal([(101ul, 2100ul), (2101ul, 4100ul), (4101ul, 6100ul), (6101ul, 8100ul), (8101ul, 10_100ul)], chain.LogRanges);
        var recheck = Assert.Single(_effects.WithWallets);
        Assert.Equal([Bob], recheck.Wallets);
        Assert.Equal(6_100ul, recheck.AtBlock);
    }

    [Fact]
    public async Task A_range_the_node_refuses_as_too_large_is_halved_and_the_catch_up_still_covers_every_block_once()
    {
        var chain = new ScriptedChain(102) { MaxRange = 500 };
        var follower = Follower(chain, maxRange: 2000);
        await follower.StepAsync(chain.Head, CancellationToken.None); // cursor 100
        chain.MineTo(3_102);

        await CatchUpAsync(follower, chain.Head);

        Assert.Equal(2, chain.RefusedRanges); // 2000 → 1000 → 500, then it holds for the rest of the catch-up
        Assert.All(chain.LogRanges, r => Assert.Equal(500ul, r.To - r.From + 1));
        Assert.Equal(101ul, chain.LogRanges[0].From);
        Assert.Equal(3_100ul, chain.LogRanges[^1].To);
        Assert.All(chain.LogRanges.Zip(chain.LogRanges.Skip(1)), pair => Assert.Equal(pair.First.To + 1, pair.Second.From));
        Assert.Equal(2000, follower.Range); // caught up: the next outage starts from the configured range
    }

    [Fact]
    public async Task A_reorg_below_the_cursor_walks_back_to_the_fork_point_rereads_from_there_and_rechecks_the_wallets_of_orphaned_logs()
    {
        var chain = new ScriptedChain(100);
        var follower = Follower(chain);
        await follower.StepAsync(chain.Head, CancellationToken.None); // cursor 98
        for (var head = 101ul; head <= 112; head++)
        {
            chain.MineTo(head);
            if (head == 107)
            {
                chain.Transfer(107, C, Alice, Stranger); // the sale
            }

            await CatchUpAsync(follower, head);
        }

        Assert.Equal(110ul, await _store.CursorAsync("ethereum", CancellationToken.None));
        var sale = Assert.Single(_effects.WithWallets);
        Assert.Equal([Alice], sale.Wallets);
        Assert.Equal(107ul, sale.AtBlock);

        // Blocks 106 and up are replaced by a fork without the sale, three deeper than Confirmations.
        chain.Reorg(106);
        chain.MineTo(113);
        var ranges = chain.LogRanges.Count;

        Assert.Equal(StepOutcome.Reorg, await follower.StepAsync(chain.Head, CancellationToken.None));
        Assert.Equal(105ul, await _store.CursorAsync("ethereum", CancellationToken.None));
        Assert.Equal(1, _states.For("ethereum").Reorgs);

        await CatchUpAsync(follower, chain.Head);
        Assert.Equal((106ul, 111ul), chain.LogRanges[ranges]);
        // The orphaned sale's wallet is read again, at a block of the chain that won: the re-check finds the tokens still there.
        var again = _effects.WithWallets.Last();
        Assert.Equal([Alice], again.Wallets);
        Assert.Equal(111ul, again.AtBlock);
        Assert.Equal(2, _effects.WithWallets.Count());
    }

    [Fact]
    public async Task A_follower_restarted_mid_stream_processes_every_block_once()
    {
        var chain = new ScriptedChain(100);
        var first = Follower(chain);
        await first.StepAsync(chain.Head, CancellationToken.None);
        for (var head = 101ul; head <= 130; head++)
        {
            chain.MineTo(head);
            chain.Transfer(head, C, head % 2 == 0 ? Alice : Bob, Stranger);
            if (head <= 115)
            {
                await CatchUpAsync(first, head);
            }
        }

        // A new follower (a restarted bot) on the same store takes over where the first stopped.
        await CatchUpAsync(Follower(chain), chain.Head);

        var covered = chain.LogRanges.SelectMany(r => Enumerable.Range((int)r.From, (int)(r.To - r.From + 1))).ToList();
        Assert.Equal(Enumerable.Range(99, 128 - 99 + 1), covered);
        // One stored re-check per transfer of blocks 101..128, each run: the commit and the re-checks moved together.
        await using var connection = await _db.Database.OpenAsync();
        var (rows, done) = await Dapper.SqlMapper.QuerySingleAsync<(long, long)>(connection, "SELECT COUNT(*), SUM(done) FROM follower_rechecks");
        Assert.Equal((28L, 28L), (rows, done));
    }

    [Fact]
    public async Task A_crash_between_the_commit_and_the_recheck_runs_the_stored_recheck_after_the_restart_once()
    {
        var chain = new ScriptedChain(100);
        await Follower(chain).StepAsync(chain.Head, CancellationToken.None);
        chain.MineTo(101);
        chain.Transfer(101, C, Stranger, Alice);
        chain.MineTo(103);
        _effects.FailNext = true;

        await Assert.ThrowsAsync<InvalidOperationException>(() => Follower(chain).StepAsync(chain.Head, CancellationToken.None));
        Assert.Empty(_effects.WithWallets);
        Assert.Equal(101ul, await _store.CursorAsync("ethereum", CancellationToken.None));

        var restarted = Follower(chain);
        Assert.Equal(StepOutcome.Idle, await restarted.StepAsync(chain.Head, CancellationToken.None));
        Assert.Equal(StepOutcome.Idle, await restarted.StepAsync(chain.Head, CancellationToken.None));

        var recheck = Assert.Single(_effects.WithWallets);
        Assert.Equal([Alice], recheck.Wallets);
        Assert.Single(chain.LogRanges);
    }

    [Theory]
    [InlineData("ethereum RPC https://x: eth_getLogs answered error -32005: query returned more than 10000 results", true)]
    [InlineData("ethereum RPC https://x: eth_getLogs answered error -32602: Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range", true)]
    [InlineData("ethereum RPC https://x: eth_getLogs answered error -32000: exceed maximum block range: 50000", true)]
    [InlineData("ethereum RPC https://x: eth_getLogs still rate limited (HTTP 429) after retries; lower Chains:ethereum:RequestsPerSecond", false)]
    [InlineData("ethereum RPC https://x: eth_getLogs no answer (connection refused or lost)", false)]
    public void Range_refusals_are_told_apart_from_rate_limits_and_outages(string message, bool isRange) =>
        Assert.Equal(isRange, RangeErrors.IsRangeError(message));
}
