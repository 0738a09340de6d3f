using System.Data.Common;
using System.Threading.Channels;
using WalverBot.Storage;

namespace WalverBot.Grants;

/// <summary>
/// Group commit for the grant worker's writes (decisions, grants, wallet links, events' final states): writes queued
/// together are committed in one transaction, each in its own savepoint, and each caller's task completes only after
/// that commit. An event is marked done in the same write as its decision, so a failed commit loses both together and
/// the event stays due; one write that fails is rolled back to its savepoint alone. The commit takes its turn at the
/// write lock after the inbox writer (<see cref="WriteTurns"/>): one fsync for many decisions, and webhooks first.
/// </summary>
public sealed class DecisionWriter : IAsyncDisposable
{
    /// <summary>Writes per transaction: enough to share one fsync among a surge's decisions, few enough that a webhook waits only milliseconds behind them.</summary>
    public const int MaxBatch = 128;

    /// <summary>
    /// The least time from one commit to the next. Each commit is an fsync that holds SQLite's write lock, and a webhook
    /// arriving meanwhile waits for it: draining one guild at its role limit, the worker otherwise committed one or two
    /// decisions every 5–10 ms and held the lock about half the time. Paced, a surge's decisions share a commit per
    /// interval (a grant waits at most this long twice: its wallet link and its outcome), and the lock is free between.
    /// </summary>
    public static readonly TimeSpan DefaultCommitInterval = TimeSpan.FromMilliseconds(25);

    private readonly Database _database;
    private readonly TimeSpan _commitInterval;
    private readonly TimeProvider _pace;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private long? _lastCommit;

    /// <param name="commitInterval">Least time between commits (<see cref="DefaultCommitInterval"/> when null).</param>
    /// <param name="pace">
    /// The clock of that pacing; the system's when null. Not the app's TimeProvider: the pause is a real-time spacing of
    /// fsyncs, and a test's fake clock that nobody advances must not hold every decision back.
    /// </param>
    public DecisionWriter(Database database, TimeSpan? commitInterval = null, TimeProvider? pace = null)
    {
        _database = database;
        _commitInterval = commitInterval ?? DefaultCommitInterval;
        _pace = pace ?? TimeProvider.System;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Test hook: runs before each commit with the batch's size; an exception fails the whole batch as a failed commit would.</summary>
    internal Func<int, Task>? BeforeCommit { get; set; }

    /// <summary>Transactions committed (for tests and the benchmark: writes ÷ commits is the batching achieved).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    private long _commits;

    /// <summary>Runs <paramref name="write"/> in the next group commit; the result once that commit is durable.</summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write)
    {
        var pending = new Write<T>(write);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(DecisionWriter));
        }

        return pending.Done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<Write>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            await PaceAsync();
            using (await _database.WriteTurns.EnterAsync(webhooks: false))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    await StoreAsync(batch);
                }
                catch (Exception ex)
                {
                    // Nothing of the batch is stored: every caller hears it, and its event stays due for a replay.
                    var failure = _database.Health.Check() is { } problem ? new StoreUnavailableException(problem) : ex;
                    foreach (var write in batch)
                    {
                        write.Failure ??= failure;
                        write.Stored = false;
                    }
                }
            }

            // Answered after the turn is passed on, so the inbox writer is not kept waiting by the callers' continuations.
            foreach (var write in batch)
            {
                write.Finish();
            }

            batch.Clear();
        }
    }

    /// <summary>Waits until the interval since the last commit has passed.</summary>
    private async Task PaceAsync()
    {
        if (_lastCommit is not { } last)
        {
            return;
        }

        // Measured from the commit, not from now: a clock that moved on while this loop was elsewhere owes no wait.
        var left = _commitInterval - _pace.GetElapsedTime(last);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, _pace);
        }
    }

    /// <remarks>
    /// Each write of a batch of several runs in the savepoint "decision"; a batch of one needs none (its failure is the
    /// transaction's). The savepoint commands are sent as SQL rather than through DbTransaction.Save/Release, so that
    /// moving on to the next write is one round trip ("RELEASE SAVEPOINT decision; SAVEPOINT decision") instead of two;
    /// on a database across a network each round trip is time the write lock is held. The statements are the same in
    /// PostgreSQL and SQLite: ROLLBACK TO keeps the savepoint, so after a failed write it marks the start of the next
    /// one; COMMIT releases the last (https://www.postgresql.org/docs/current/sql-rollback-to.html,
    /// https://www.sqlite.org/lang_savepoint.html).
    /// </remarks>
    private async Task StoreAsync(List<Write> batch)
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (batch.Count == 1)
        {
            var only = batch[0];
            try
            {
                await only.RunAsync(connection, transaction);
                only.Stored = true;
            }
            catch (Exception ex)
            {
                // Nothing else to commit: the transaction goes, and with it whatever the write had applied.
                only.Failure = ex;
                await transaction.RollbackAsync();
                return;
            }
        }
        else
        {
            await ExecuteAsync(connection, transaction, "SAVEPOINT decision");
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                try
                {
                    await write.RunAsync(connection, transaction);
                    write.Stored = true;
                }
                catch (Exception ex)
                {
                    // This write alone is undone (a constraint, a bug in one event's data); the others still commit.
                    await ExecuteAsync(connection, transaction, "ROLLBACK TO SAVEPOINT decision");
                    write.Failure = ex;
                    continue;
                }

                if (i < batch.Count - 1)
                {
                    await ExecuteAsync(connection, transaction, "RELEASE SAVEPOINT decision; SAVEPOINT decision");
                }
            }
        }

        if (BeforeCommit is { } hook)
        {
            await hook(batch.Count);
        }

        await transaction.CommitAsync();
        _lastCommit = _pace.GetTimestamp();
        Interlocked.Increment(ref _commits);
        if (_database.Health.Check() is { } problem)
        {
            // Committed into a file that was deleted or replaced: nobody will read it again.
            throw new StoreUnavailableException(problem);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private abstract class Write
    {
        public Exception? Failure { get; set; }

        public bool Stored { get; set; }

        public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);

        public abstract void Finish();
    }

    private sealed class Write<T>(Func<DbConnection, DbTransaction, Task<T>> write) : Write
    {
        private T _result = default!;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(DbConnection connection, DbTransaction transaction) =>
            _result = await write(connection, transaction);

        public override void Finish()
        {
            if (Stored && Failure is null)
            {
                Done.TrySetResult(_result);
            }
            else
            {
                Done.TrySetException(Failure ?? new InvalidOperationException("The decision was not stored."));
            }
        }
    }
}
