namespace WalverBot.Storage;

/// <summary>
/// Turns at SQLite's single write lock for the process's group-commit writers, webhooks first. SQLite lets one
/// transaction write at a time and a writer that finds the lock taken sleeps in its busy handler (sqlite3_busy_timeout:
/// growing sleeps), so two writers racing for it add those sleeps to a webhook's answer. Taking turns here instead,
/// the inbox writer waits at most for the one background transaction in progress, and whenever both wait, it goes
/// first. Writes outside the group-commit writers (claims, reschedules, commands) still meet the busy handler.
/// </summary>
public sealed class WriteTurns
{
    /// <summary>
    /// For a store without one write lock (PostgreSQL locks rows): every writer goes at once, since waiting for a turn
    /// there would only make webhooks wait for the worker's commits.
    /// </summary>
    public static WriteTurns Unordered { get; } = new(ordered: false);

    private readonly bool _ordered;
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _webhooks = new();
    private readonly Queue<TaskCompletionSource> _background = new();
    private bool _held;

    /// <summary>Turns at one write lock, as SQLite has.</summary>
    public WriteTurns()
        : this(ordered: true)
    {
    }

    private WriteTurns(bool ordered) => _ordered = ordered;

    /// <summary>Waits for the write turn; dispose the result to pass it on.</summary>
    /// <param name="webhooks">The inbox writer (acknowledgements wait on it): served before every background writer.</param>
    public ValueTask<Turn> EnterAsync(bool webhooks)
    {
        if (!_ordered)
        {
            return ValueTask.FromResult(new Turn(null));
        }

        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (!_held)
            {
                _held = true;
                return ValueTask.FromResult(new Turn(this));
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (webhooks ? _webhooks : _background).Enqueue(waiter);
        }

        return WaitAsync(waiter);
    }

    /// <summary>Writers waiting for a turn (for tests and the benchmark's account of who waited).</summary>
    public int Waiting
    {
        get { lock (_lock) { return _webhooks.Count + _background.Count; } }
    }

    /// <summary>Whether a writer has the turn, so is writing or waiting at SQLite's lock (for tests that stage a lock).</summary>
    public bool IsHeld
    {
        get { lock (_lock) { return _held; } }
    }

    private async ValueTask<Turn> WaitAsync(TaskCompletionSource waiter)
    {
        await waiter.Task.ConfigureAwait(false);
        return new Turn(this);
    }

    private void Exit()
    {
        lock (_lock)
        {
            if (_webhooks.TryDequeue(out var next) || _background.TryDequeue(out next))
            {
                next.SetResult();
                return;
            }

            _held = false;
        }
    }

    /// <summary>A held turn; disposing it hands the lock to the next writer.</summary>
    public readonly struct Turn(WriteTurns? owner) : IDisposable
    {
        public void Dispose() => owner?.Exit();
    }
}
