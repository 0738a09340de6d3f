using System.Globalization;

namespace WalverBot.ScaleOut;

/// <summary>
/// The SQLite leader: this process holds every once-only job from start to stop. The database's lock file
/// (<see cref="Storage.Database.TryAcquireExclusive"/>) already makes it the only bot on its database, so there is
/// nobody to share with; <see cref="ReleaseAsync"/> therefore keeps the job here, and only disposal (the host
/// stopping) ends the holdings.
/// </summary>
public sealed class ProcessJobLeader : IJobLeader
{
    private readonly CancellationTokenSource _stopped = new();

    public string InstanceName { get; } = string.Create(CultureInfo.InvariantCulture,
        $"this process ({Environment.MachineName}, pid {Environment.ProcessId})");

    public ValueTask<bool> TryAcquireAsync(string job, CancellationToken cancellationToken) => ValueTask.FromResult(!_stopped.IsCancellationRequested);

    public bool IsHeld(string job) => !_stopped.IsCancellationRequested;

    public CancellationToken Released(string job) => _stopped.Token;

    public ValueTask ReleaseAsync(string job, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public Task<IReadOnlyList<JobHolding>> HoldersAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<JobHolding>>([.. OnceOnlyJobs.All.Select(job => new JobHolding(job, SqliteHolder, IsThisInstance: true))]);

    /// <summary>How <c>check</c> (a process of its own) names the holder: the one bot process that the lock file admits.</summary>
    public const string SqliteHolder = "the bot process running on this database (SQLite: one process per database, holding every once-only job)";

    public ValueTask DisposeAsync()
    {
        // Not disposed: tokens handed out stay readable, and a second disposal is harmless.
        _stopped.Cancel();
        return ValueTask.CompletedTask;
    }
}
