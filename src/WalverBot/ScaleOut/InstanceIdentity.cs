using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using WalverBot.Storage;

namespace WalverBot.ScaleOut;

/// <summary>
/// Who this instance is when it claims shared work on PostgreSQL (<see cref="Database.InstanceId"/>). The identity is
/// derived from the instance's shard set (<see cref="ShardOwnership"/>), so an instance restarted with the same
/// <c>Discord:ShardIds</c> is the same claimer: the claims its dead run left are "ours" again (WebhookInbox.DueAsync takes
/// rows claimed by itself) and are finished at once instead of after the lease.
/// <para>
/// Two live processes must never share it (each would take the other's claims as its own). The identity is therefore
/// held by a session-level advisory lock on a dedicated connection for as long as the process runs; the server drops
/// the lock with the session, when the process ends, even by kill -9 ("session-level advisory locks ... are released
/// at session end", https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS). A second live
/// instance with the same shard set (a standby, or a rolling deploy that starts the new process before stopping the old)
/// does not get it and runs under a fresh identity, as every instance did before: it stays useful (it takes over
/// claims whose lease ran out) and the restart takeover is merely not available to it. Refusing to start would turn
/// such a deploy into an outage for a convenience.
/// </para>
/// <para>
/// A restart may come before the server has noticed that the old process is gone (its backend ends when it reads the
/// closed socket): the lock is waited for up to <see cref="TakeoverWait"/> (PostgreSQL's <c>lock_timeout</c> bounds the
/// wait, "lock_timeout" in "Client Connection Defaults"). When the lock session is lost while the process lives, the
/// identity is given up at the next probe: the process claims under a fresh identity from then on, since another
/// instance may by now hold the derived one.
/// </para>
/// </summary>
public sealed class InstanceIdentity(
    Database database, ShardOwnership shards, TimeProvider time, ILogger<InstanceIdentity> logger, TimeSpan? takeoverWait = null) : IAsyncDisposable
{
    /// <summary>The first key of the identity lock ("WBID"), apart from the once-only job locks (<see cref="PostgresJobLeader.LockClass"/>).</summary>
    public const int LockClass = 0x57424944;

    /// <summary>How long a restart waits for its dead predecessor's session to end before running under a fresh identity.</summary>
    public static readonly TimeSpan TakeoverWait = TimeSpan.FromSeconds(10);

    /// <summary>How often the lock session is checked.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _takeoverWait = takeoverWait ?? TakeoverWait;
    private readonly CancellationTokenSource _stop = new();
    private DbConnection? _session;
    private Task? _probe;

    /// <summary>The identity an instance with this shard set claims under: readable, and at least 8 characters.</summary>
    public static string For(ShardOwnership shards) => shards.OwnsAll
        ? "shards-all"
        : string.Create(CultureInfo.InvariantCulture, $"shards-{string.Join('.', shards.ShardIds)}-of-{shards.ShardCount}");

    /// <summary>
    /// The second key of the lock. Two shard sets that hash alike only make the second one run under a fresh identity
    /// (no takeover at restart), never share one.
    /// </summary>
    public static int LockKey(string identity) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(identity)), 0);

    /// <summary>Whether this process holds the derived identity (false: it runs under a fresh one).</summary>
    public bool Held => _session is not null;

    /// <summary>Takes the identity of this shard set, waiting up to <see cref="TakeoverWait"/> for a dead predecessor's session.</summary>
    public async Task AcquireAsync(CancellationToken cancellationToken)
    {
        if (!database.IsPostgres)
        {
            return;
        }

        var identity = For(shards);
        var session = await database.OpenAsync(cancellationToken);
        try
        {
            await session.ExecuteAsync(new CommandDefinition(
                "SELECT set_config('application_name', @name, false), set_config('lock_timeout', @wait, false)",
                new { name = $"walverbot identity {identity}", wait = string.Create(CultureInfo.InvariantCulture, $"{(int)_takeoverWait.TotalMilliseconds}ms") },
                cancellationToken: cancellationToken));
            await session.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_lock(@LockClass, @key)", new { LockClass, key = LockKey(identity) }, cancellationToken: cancellationToken,
                commandTimeout: (int)_takeoverWait.TotalSeconds + 5));
            await session.ExecuteAsync(new CommandDefinition("SELECT set_config('lock_timeout', '0', false)", cancellationToken: cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            await session.DisposeAsync();
            logger.LogWarning(
                "Another live instance runs {Shards} and holds the identity {Identity}; this one claims under a fresh identity {Fresh}, so after a restart it waits for its old claims' lease ({Lease}) instead of taking them back at once",
                shards, identity, database.InstanceId, Webhooks.WebhookInbox.ClaimLease);
            return;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }

        _session = session;
        database.AdoptInstanceId(identity);
        logger.LogInformation("This instance claims work as {Identity}; claims an earlier run of it left are taken back at once", identity);
        _probe = ProbeAsync(_stop.Token);
    }

    private async Task ProbeAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProbeInterval, time, stop);
                await _session!.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: stop));
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
            {
                // The lock went with the session: another instance of this shard set may hold the identity now.
                var fresh = database.AdoptFreshInstanceId();
                logger.LogWarning("This instance lost the session that held its identity ({Error}); it claims under a fresh identity {Fresh} from now on", ex.Message, fresh);
                var session = _session;
                _session = null;
                await session!.DisposeAsync();
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_probe is not null)
        {
            await _probe;
        }

        if (_session is { } session)
        {
            _session = null;
            try
            {
                // A pooled session outlives its disposal: the lock is given back here, not left to the pool.
                await session.ExecuteAsync("SELECT pg_advisory_unlock_all()");
            }
            catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
            {
            }

            await session.DisposeAsync();
        }

        _stop.Dispose();
    }
}
