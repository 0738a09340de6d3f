using System.Data.Common;
using System.Globalization;
using Dapper;
using WalverBot.Storage;

namespace WalverBot.ScaleOut;

/// <summary>
/// The PostgreSQL leader: a once-only job is held through a session-level advisory lock
/// (<c>pg_try_advisory_lock(key1, key2)</c>) taken on one dedicated connection of this instance. The server drops
/// session-level locks when the session ends ("Advisory Locks" in PostgreSQL's docs), so an instance that crashes or
/// is killed frees its jobs; a probe of that connection every <see cref="ProbeInterval"/> turns a lost session into a
/// lost holding here too, so this instance stops the work another may take over.
/// </summary>
public sealed class PostgresJobLeader(Database database, ShardOwnership shards, TimeProvider time, ILogger<PostgresJobLeader> logger) : IJobLeader
{
    /// <summary>The first key of every job lock ("WBJB"): it keeps these locks apart from other users of the database.</summary>
    public const int LockClass = 0x57424A42;

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(15);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, CancellationTokenSource> _held = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private DbConnection? _session;
    private Task? _probe;

    // The run's id first: PostgreSQL keeps 63 bytes of a session's name, and two instances may share a host name and pid
    // (containers on two hosts).
    public string InstanceName { get; } = string.Create(CultureInfo.InvariantCulture,
        $"run {database.InstanceId[..8]} on {Environment.MachineName} pid {Environment.ProcessId}, {shards}");

    /// <summary>The second key of a job's lock: its place in <see cref="OnceOnlyJobs.All"/>.</summary>
    public static int LockKey(string job) =>
        OnceOnlyJobs.All.ToList().IndexOf(job) is >= 0 and var index ? index : throw new ArgumentException($"unknown once-only job '{job}'", nameof(job));

    public async ValueTask<bool> TryAcquireAsync(string job, CancellationToken cancellationToken)
    {
        var key = LockKey(job);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_held.ContainsKey(job))
            {
                return true;
            }

            var session = await SessionAsync(cancellationToken);
            if (!await session.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT pg_try_advisory_lock(@LockClass, @key)", new { LockClass, key }, cancellationToken: cancellationToken)))
            {
                return false;
            }

            lock (_held)
            {
                _held[job] = new CancellationTokenSource();
            }

            _probe ??= ProbeAsync(_disposed.Token);
            return true;
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
        {
            await LoseSessionAsync($"its session failed: {ex.Message}");
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public bool IsHeld(string job)
    {
        lock (_held)
        {
            return _held.ContainsKey(job);
        }
    }

    public CancellationToken Released(string job)
    {
        lock (_held)
        {
            return _held.TryGetValue(job, out var holding) ? holding.Token : new CancellationToken(canceled: true);
        }
    }

    public async ValueTask ReleaseAsync(string job, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            CancellationTokenSource? holding;
            lock (_held)
            {
                if (!_held.Remove(job, out holding))
                {
                    return;
                }
            }

            await holding.CancelAsync();
            if (_session is not null)
            {
                await _session.ExecuteAsync(new CommandDefinition(
                    "SELECT pg_advisory_unlock(@LockClass, @key)", new { LockClass, key = LockKey(job) }, cancellationToken: cancellationToken));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<JobHolding>> HoldersAsync(CancellationToken cancellationToken)
    {
        // Each instance names its session (application_name), so the locks' holders can be told apart by name; advisory
        // locks belong to one database, and pg_locks shows the whole server's.
        await using var connection = await database.OpenAsync(cancellationToken);
        var holders = (await connection.QueryAsync<(int Key, string? Name)>(new CommandDefinition("""
            SELECT l.objid::int, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = @LockClass AND l.objsubid = 2
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, new { LockClass }, cancellationToken: cancellationToken)))
            .ToDictionary(row => row.Key, row => row.Name);
        return [.. OnceOnlyJobs.All.Select((job, key) => holders.TryGetValue(key, out var name)
            ? new JobHolding(job, string.IsNullOrEmpty(name) ? "an instance that did not name itself" : name, name == SessionName)
            : new JobHolding(job, null, false))];
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        if (_probe is not null)
        {
            await _probe;
        }

        await _gate.WaitAsync();
        try
        {
            await LoseSessionAsync(reason: null);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The application_name of this instance's lock session (PostgreSQL keeps at most 63 bytes of it).</summary>
    private string SessionName => InstanceName.Length <= 63 ? InstanceName : InstanceName[..63];

    private async Task<DbConnection> SessionAsync(CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            return _session;
        }

        var session = await database.OpenAsync(cancellationToken);
        await session.ExecuteAsync(new CommandDefinition(
            "SELECT set_config('application_name', @name, false)", new { name = SessionName }, cancellationToken: cancellationToken));
        return _session = session;
    }

    private async Task ProbeAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProbeInterval, time, stop);
                await _gate.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                if (_session is not null)
                {
                    await _session.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: stop));
                }
            }
            catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
            {
                await LoseSessionAsync($"its session failed: {ex.Message}");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Ends every holding (the server frees the locks with the session); the caller holds the gate.</summary>
    private async Task LoseSessionAsync(string? reason)
    {
        List<(string Job, CancellationTokenSource Holding)> lost;
        lock (_held)
        {
            lost = [.. _held.Select(pair => (pair.Key, pair.Value))];
            _held.Clear();
        }

        foreach (var (_, holding) in lost)
        {
            await holding.CancelAsync();
        }

        if (reason is not null && lost.Count > 0)
        {
            logger.LogWarning("This instance lost its once-only jobs ({Jobs}): {Reason}; it asks for them again", string.Join(", ", lost.Select(l => l.Job)), reason);
        }

        if (_session is { } session)
        {
            _session = null;
            try
            {
                // A pooled connection's session outlives its disposal (Npgsql resets it only when it is next used), so
                // the locks are given back here rather than left to the pool; a session that failed took them with it.
                await session.ExecuteAsync("SELECT pg_advisory_unlock_all()");
            }
            catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException)
            {
            }

            await session.DisposeAsync();
        }
    }
}
