using WalverBot.ScaleOut;

namespace WalverBot.Testing.ScaleOut;

/// <summary>
/// Stands in for PostgreSQL's session-level advisory locks as an <see cref="IJobLeader"/> would use them: one lock
/// table shared by the "instances" of a test, each instance a session (<see cref="Connect"/>). As the server does, a
/// lock is taken only when free (<c>pg_try_advisory_lock</c> answers false at once, never waits), is re-entrant for its
/// session, and is freed when its session ends ("held until explicitly released or the session ends", PostgreSQL
/// docs, Explicit Locking: Advisory Locks). No kinder: a session that ended cannot take or ask anything again.
/// </summary>
public sealed class FakeAdvisoryLocks
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FakeJobLeader> _holders = new(StringComparer.Ordinal);

    /// <summary>Opens a session for an instance named <paramref name="instanceName"/>.</summary>
    public FakeJobLeader Connect(string instanceName) => new(this, instanceName);

    /// <summary>The name of the instance holding <paramref name="job"/>, or null.</summary>
    public string? HolderOf(string job)
    {
        lock (_gate)
        {
            return _holders.TryGetValue(job, out var holder) ? holder.InstanceName : null;
        }
    }

    internal bool TryTake(string job, FakeJobLeader session)
    {
        lock (_gate)
        {
            if (_holders.TryGetValue(job, out var holder))
            {
                return holder == session;
            }

            _holders[job] = session;
            return true;
        }
    }

    internal void Free(string job, FakeJobLeader session)
    {
        lock (_gate)
        {
            if (_holders.TryGetValue(job, out var holder) && holder == session)
            {
                _holders.Remove(job);
            }
        }
    }
}

/// <summary>One instance's session on <see cref="FakeAdvisoryLocks"/>.</summary>
public sealed class FakeJobLeader : IJobLeader
{
    private readonly FakeAdvisoryLocks _locks;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CancellationTokenSource> _held = new(StringComparer.Ordinal);
    private bool _ended;
    private int _refusals;

    internal FakeJobLeader(FakeAdvisoryLocks locks, string instanceName)
    {
        _locks = locks;
        InstanceName = instanceName;
    }

    public string InstanceName { get; }

    /// <summary>How many times this session asked for a job another session held.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    public ValueTask<bool> TryAcquireAsync(string job, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ended, this);
            if (_held.ContainsKey(job))
            {
                return ValueTask.FromResult(true);
            }

            if (!_locks.TryTake(job, this))
            {
                Interlocked.Increment(ref _refusals);
                return ValueTask.FromResult(false);
            }

            _held[job] = new CancellationTokenSource();
            return ValueTask.FromResult(true);
        }
    }

    public bool IsHeld(string job)
    {
        lock (_gate)
        {
            return _held.ContainsKey(job);
        }
    }

    public CancellationToken Released(string job)
    {
        lock (_gate)
        {
            return _held.TryGetValue(job, out var holding) ? holding.Token : new CancellationToken(canceled: true);
        }
    }

    public ValueTask ReleaseAsync(string job, CancellationToken cancellationToken)
    {
        CancellationTokenSource? holding;
        lock (_gate)
        {
            if (_held.Remove(job, out holding))
            {
                _locks.Free(job, this);
            }
        }

        Cancel(holding);
        return ValueTask.CompletedTask;
    }

    public Task<IReadOnlyList<JobHolding>> HoldersAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ended, this);
        }

        return Task.FromResult<IReadOnlyList<JobHolding>>([.. OnceOnlyJobs.All.Select(job =>
            _locks.HolderOf(job) is { } holder ? new JobHolding(job, holder, holder == InstanceName) : new JobHolding(job, null, false))]);
    }

    /// <summary>The session ends (the instance stopped, crashed or lost its connection): every lock it held is freed.</summary>
    public void EndSession()
    {
        List<CancellationTokenSource> holdings;
        lock (_gate)
        {
            _ended = true;
            holdings = [.. _held.Values];
            foreach (var job in _held.Keys)
            {
                _locks.Free(job, this);
            }

            _held.Clear();
        }

        holdings.ForEach(Cancel);
    }

    public ValueTask DisposeAsync()
    {
        EndSession();
        return ValueTask.CompletedTask;
    }

    private static void Cancel(CancellationTokenSource? holding)
    {
        if (holding is not null)
        {
            holding.Cancel();
            holding.Dispose();
        }
    }
}
