using Dapper;
using Microsoft.Data.Sqlite;
using WalverBot.Grants;
using WalverBot.Storage;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.Grants;

/// <summary>Group commit of the worker's decisions: writes queued together share a transaction, each stands or falls alone, and webhooks go first.</summary>
public sealed class DecisionWriterTests
{
    private static Func<System.Data.Common.DbConnection, System.Data.Common.DbTransaction, Task<int>> Insert(string id) =>
        (connection, transaction) => connection.ExecuteAsync(
            "INSERT INTO guild_settings (guild_id, log_channel_id, updated_at) VALUES (@id, 1, 'x')", new { id = long.Parse(id) }, transaction);

    private static async Task<long[]> StoredAsync(Database database)
    {
        await using var connection = await database.OpenAsync();
        return [.. await connection.QueryAsync<long>("SELECT guild_id FROM guild_settings ORDER BY guild_id")];
    }

    [Fact]
    public async Task Writes_queued_while_the_lock_is_busy_are_committed_in_one_transaction()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var writer = new DecisionWriter(db.Database);

        Task<int>[] writes;
        // Another writer has the turn (as the inbox writer would during a commit): the decisions queue meanwhile.
        using (await db.Database.WriteTurns.EnterAsync(webhooks: true))
        {
            writes = [.. Enumerable.Range(1, 10).Select(i => writer.WriteAsync(Insert($"{i}")))];
            await Eventually.UntilAsync(() => db.Database.WriteTurns.Waiting == 1, "the decision writer waiting for its turn");
            Assert.All(writes, w => Assert.False(w.IsCompleted));
        }

        Assert.All(await Task.WhenAll(writes), rows => Assert.Equal(1, rows));
        Assert.Equal(1, writer.Commits);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), await StoredAsync(db.Database));
    }

    /// <summary>A write applied in part, then refused by the primary key: it inserts 8, then 7, which is stored already.</summary>
    private static async Task<int> EightThenSevenAgain(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction)
    {
        await connection.ExecuteAsync("INSERT INTO guild_settings (guild_id, log_channel_id, updated_at) VALUES (8, 1, 'x')", transaction: transaction);
        return await connection.ExecuteAsync("INSERT INTO guild_settings (guild_id, log_channel_id, updated_at) VALUES (7, 1, 'x')", transaction: transaction);
    }

    /// <summary>A primary-key violation, as each store reports it.</summary>
    private static void AssertDuplicateKey(string provider, Exception error)
    {
        if (provider == StorageProviders.Postgres)
        {
            Assert.Equal("23505", Assert.IsType<Npgsql.PostgresException>(error).SqlState); // unique_violation
        }
        else
        {
            Assert.Equal(19, Assert.IsType<SqliteException>(error).SqliteErrorCode); // SQLITE_CONSTRAINT
        }
    }

    // On PostgreSQL a failed statement aborts the transaction until it is rolled back to a savepoint: the writes after
    // the failed one commit only if the writer did that.
    [SkippableTheory]
    [InlineData(StorageProviders.Sqlite)]
    [InlineData(StorageProviders.Postgres)]
    public async Task A_failing_write_is_undone_alone_and_its_caller_hears_why(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        // Batched by the commit interval (PostgreSQL has no single write lock to hold the writer back with).
        var clock = new TimerWatchingClock();
        var interval = TimeSpan.FromMilliseconds(50);
        await using var writer = new DecisionWriter(db.Database, interval, clock);
        Assert.Equal(1, await writer.WriteAsync(Insert("1")));

        var first = writer.WriteAsync(Insert("7"));
        await clock.TimerSet.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Partly applied, then refused by the primary key: its savepoint is rolled back, not the batch.
        var duplicate = writer.WriteAsync(EightThenSevenAgain);
        var last = writer.WriteAsync(Insert("9"));
        clock.Advance(interval);

        Assert.Equal(1, await first);
        Assert.Equal(1, await last);
        AssertDuplicateKey(provider, await Record.ExceptionAsync(() => duplicate));
        var stored = await StoredAsync(db.Database);
        Assert.Equal([1L, 7L, 9L], stored);
        Assert.Equal(2, writer.Commits);
    }

    [SkippableTheory]
    [InlineData(StorageProviders.Sqlite)]
    [InlineData(StorageProviders.Postgres)]
    public async Task A_write_that_fails_alone_in_its_batch_leaves_nothing_behind_and_the_next_batch_commits(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await using var writer = new DecisionWriter(db.Database);
        Assert.Equal(1, await writer.WriteAsync(Insert("7")));

        // Alone in its batch (the previous one has committed): its first insert is applied, then the second refused.
        var error = await Record.ExceptionAsync(() => writer.WriteAsync(EightThenSevenAgain));

        AssertDuplicateKey(provider, error);
        var stored = await StoredAsync(db.Database);
        Assert.Equal([7L], stored);
        Assert.Equal(1, writer.Commits);
        Assert.Equal(1, await writer.WriteAsync(Insert("9")));
        stored = await StoredAsync(db.Database);
        Assert.Equal([7L, 9L], stored);
    }

    [Fact]
    public async Task A_failed_commit_fails_every_write_of_the_batch_and_stores_none()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var writer = new DecisionWriter(db.Database);
        var failNext = true;
        writer.BeforeCommit = _ => failNext ? throw new SqliteException("disk I/O error (injected)", 10) : Task.CompletedTask;

        Task<int>[] writes;
        using (await db.Database.WriteTurns.EnterAsync(webhooks: true))
        {
            writes = [writer.WriteAsync(Insert("1")), writer.WriteAsync(Insert("2"))];
            await Eventually.UntilAsync(() => db.Database.WriteTurns.Waiting == 1, "the decision writer waiting for its turn");
        }

        foreach (var write in writes)
        {
            await Assert.ThrowsAsync<SqliteException>(() => write);
        }

        Assert.Empty(await StoredAsync(db.Database));
        Assert.Equal(0, writer.Commits);

        // The writer goes on: the next batch commits.
        failNext = false;
        Assert.Equal(1, await writer.WriteAsync(Insert("3")));
        var stored = await StoredAsync(db.Database);
        Assert.Equal([3L], stored);
    }

    [Fact]
    public async Task Writes_queued_soon_after_a_commit_wait_out_the_commit_interval_and_then_share_one_commit()
    {
        await using var db = await TestDatabase.CreateAsync();
        var clock = new TimerWatchingClock();
        var interval = TimeSpan.FromMilliseconds(50);
        await using var writer = new DecisionWriter(db.Database, interval, clock);
        var committedAt = new List<DateTimeOffset>();
        writer.BeforeCommit = _ =>
        {
            lock (committedAt)
            {
                committedAt.Add(clock.GetUtcNow());
            }

            return Task.CompletedTask;
        };

        // Nothing committed before: the first write does not wait.
        Assert.Equal(1, await writer.WriteAsync(Insert("1")));

        var second = writer.WriteAsync(Insert("2"));
        // The writer sets a timer only when it paces; until the clock moves, the write is held.
        await clock.TimerSet.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var third = writer.WriteAsync(Insert("3"));
        Assert.False(second.IsCompleted);

        clock.Advance(interval);
        var rows = await Task.WhenAll(second, third);
        Assert.Equal([1, 1], rows);
        Assert.Equal(2, writer.Commits);
        var stored = await StoredAsync(db.Database);
        Assert.Equal([1L, 2L, 3L], stored);
        Assert.Equal(interval, committedAt[1] - committedAt[0]);
    }

    /// <summary>A fake clock that says when someone sets a timer on it (the writer's pacing wait).</summary>
    private sealed class TimerWatchingClock : TimeProvider
    {
        private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _inner = new();

        public TaskCompletionSource TimerSet { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

        public override long GetTimestamp() => _inner.GetTimestamp();

        public override long TimestampFrequency => _inner.TimestampFrequency;

        public void Advance(TimeSpan by) => _inner.Advance(by);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = _inner.CreateTimer(callback, state, dueTime, period);
            TimerSet.TrySetResult();
            return timer;
        }
    }

    [Fact]
    public async Task When_both_wait_the_webhook_writer_gets_the_turn_before_the_background_writer()
    {
        var turns = new WriteTurns();
        var order = new List<string>();
        Task background, webhooks;
        using (await turns.EnterAsync(webhooks: false))
        {
            background = EnterAndRecordAsync(turns, webhooks: false, "background", order);
            await Eventually.UntilAsync(() => turns.Waiting == 1, "the background writer waiting");
            webhooks = EnterAndRecordAsync(turns, webhooks: true, "webhooks", order);
            await Eventually.UntilAsync(() => turns.Waiting == 2, "both writers waiting");
        }

        await Task.WhenAll(background, webhooks);
        Assert.Equal(["webhooks", "background"], order);
    }

    [Fact]
    public async Task Without_one_write_lock_a_writer_never_waits_for_another()
    {
        var turns = WriteTurns.Unordered;
        using (await turns.EnterAsync(webhooks: false))
        {
            var webhooks = turns.EnterAsync(webhooks: true);
            Assert.True(webhooks.IsCompletedSuccessfully); // entered while the background writer holds its turn
            (await webhooks).Dispose();
            Assert.Equal(0, turns.Waiting);
        }
    }

    private static async Task EnterAndRecordAsync(WriteTurns turns, bool webhooks, string name, List<string> order)
    {
        using (await turns.EnterAsync(webhooks))
        {
            lock (order)
            {
                order.Add(name);
            }
        }
    }
}
