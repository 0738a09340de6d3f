using System.Threading.Channels;
using Dapper;
using WalverBot.Grants;
using WalverBot.Storage;

namespace WalverBot.Webhooks;

/// <summary>A webhook event to store.</summary>
public sealed record NewInboxEvent(string DeliveryKey, string VerificationId, ulong GuildId, string WalletAddress, string? MemberQuery, string Payload);

/// <summary>
/// Group commit for the inbox: webhooks arriving together are stored in one transaction by a single writer, and
/// each caller's task completes only after that transaction has committed. SQLite has one write lock; one writer
/// taking turns with itself beats many writers queueing on the lock, and nothing is acknowledged before it is stored.
/// </summary>
public sealed class InboxWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public InboxWriter(Database database, TimeProvider time)
    {
        _database = database;
        _time = time;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Stores the event; the id once committed, or null when the same delivery was stored before (the repeat's
    /// decision is then committed instead).
    /// </summary>
    public Task<long?> AcceptAsync(NewInboxEvent inboxEvent, CancellationToken cancellationToken)
    {
        var pending = new Pending(inboxEvent, new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(InboxWriter));
        }

        // A caller that gives up stops waiting; the event may still be stored (Walver's retry is then a duplicate).
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            // Webhooks go first: the grant worker's decisions wait for the turn after this one. The batch is taken once
            // the turn is ours, so deliveries that arrived while a decision batch committed join this commit.
            var turn = await _database.WriteTurns.EnterAsync(webhooks: true);
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                long?[] ids;
                using (turn)
                {
                    ids = await StoreAsync(batch);
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(ids[i]);
                }
            }
            catch (Exception ex)
            {
                // Disk full, locked past the busy timeout: nothing of the batch is stored, so nothing is acknowledged.
                // SQLite may notice a deleted database file itself (SQLITE_READONLY_DBMOVED, "attempt to write a
                // readonly database"); the store's own reason says what happened and what to do.
                var failure = _database.Health.Check() is { } problem ? new StoreUnavailableException(problem) : ex;
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(failure);
                }
            }

            batch.Clear();
        }
    }

    private async Task<long?[]> StoreAsync(List<Pending> batch)
    {
        var now = Database.Format(_time.GetUtcNow());
        var ids = new long?[batch.Count];
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i].Event;
            ids[i] = await connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
                INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
                VALUES (@DeliveryKey, @VerificationId, @GuildId, @WalletAddress, @MemberQuery, @Payload, @now, 'pending', @now)
                ON CONFLICT (delivery_key) DO NOTHING
                RETURNING id
                """,
                new { e.DeliveryKey, e.VerificationId, e.GuildId, e.WalletAddress, e.MemberQuery, e.Payload, now },
                transaction));
            if (ids[i] is null)
            {
                // A repeat is logged as a decision in the same commit: a burst of Walver's retries then costs no
                // transaction of its own and does not queue on SQLite's write lock ahead of new deliveries.
                await GrantLedger.InsertDecisionAsync(connection, transaction, e.VerificationId, e.GuildId, null, null, e.WalletAddress,
                    GrantLedger.Repeat, now, CancellationToken.None);
            }
        }

        await transaction.CommitAsync();
        if (_database.Health.Check() is { } problem)
        {
            // Committed into a file that was deleted or replaced: nobody will read it again, so do not acknowledge.
            throw new StoreUnavailableException(problem);
        }

        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private sealed record Pending(NewInboxEvent Event, TaskCompletionSource<long?> Done);
}
