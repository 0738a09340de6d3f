namespace WalverBot.ScaleOut;

/// <summary>The jobs that must run on one instance at a time, by the name an <see cref="IJobLeader"/> knows them by.</summary>
public static class OnceOnlyJobs
{
    /// <summary>Slash-command registration on READY (<c>Commands/CommandRegistrar.cs</c>).</summary>
    public const string CommandRegistration = "command-registration";

    /// <summary>The daily clean-up of old webhook events (<c>Storage/RetentionWorker.cs</c>).</summary>
    public const string Retention = "retention";

    /// <summary>Scheduled holdings re-checks (<c>Holdings/RecheckScheduler.cs</c>).</summary>
    public const string HoldingsRechecks = "holdings-rechecks";

    /// <summary>Removal of roles whose re-verify period ran out (<c>Verifications/ReverifyExpiry.cs</c>).</summary>
    public const string ReverifyExpiry = "reverify-expiry";

    /// <summary>The EVM transfer follower (<c>Following/FollowerWorker.cs</c>): one cursor per chain, shared by all instances.</summary>
    public const string TransferFollower = "transfer-follower";

    /// <summary>Solana real-time subscriptions and the re-checks they trigger (<c>SolanaRealTime/SolanaSubscriber.cs</c>).</summary>
    public const string SolanaSubscriptions = "solana-subscriptions";

    // Appended only: a job's place in this list is its lock key on PostgreSQL (PostgresJobLeader.LockKey).
    public static IReadOnlyList<string> All { get; } = [CommandRegistration, Retention, HoldingsRechecks, ReverifyExpiry, TransferFollower, SolanaSubscriptions];
}

/// <summary>Who holds a once-only job, as <see cref="IJobLeader.HoldersAsync"/> reports it.</summary>
/// <param name="Holder">The holding instance's name; null when no instance holds the job.</param>
/// <param name="IsThisInstance">Whether the holder is the instance that asked.</param>
public sealed record JobHolding(string Job, string? Holder, bool IsThisInstance);

/// <summary>
/// Decides which instance runs each once-only job (<see cref="OnceOnlyJobs"/>), so that several instances sharing one
/// database never run, say, two retention passes or two command registrations at once.
/// <para>Contract every implementation keeps:</para>
/// <list type="bullet">
/// <item><see cref="TryAcquireAsync"/> never waits for another holder: it answers false at once while another instance
/// holds the job (PostgreSQL: <c>pg_try_advisory_lock</c>, never the blocking <c>pg_advisory_lock</c>), and true when
/// this instance holds it, already or from now on (re-entrant per instance, not counted: one release frees it).</item>
/// <item>A holding lasts until <see cref="ReleaseAsync"/>, disposal, or the end of whatever proves it (PostgreSQL: a
/// session-level advisory lock on one dedicated connection, which the server drops when the session ends, so an
/// instance that crashes or is killed frees its jobs; the implementation probes that connection and treats a failed
/// probe as the end). When a holding ends, <see cref="IsHeld"/> turns false and <see cref="Released"/> is cancelled,
/// before the call that released it returns.</item>
/// <item>No job is held by two instances while their sessions are healthy. A network split can leave a loser running
/// until its probe fails, so every job stays idempotent (registration compares a stored hash, retention deletes by
/// age, re-checks record removals before sending them).</item>
/// <item>Failures to reach the lock's store surface as exceptions from <see cref="TryAcquireAsync"/> (the caller tries
/// again later), never as a false "held".</item>
/// </list>
/// Callers run a job through <see cref="OnceOnlyJobRunner.RunOnceOnlyAsync"/>, which retries acquisition and stops the
/// job's work when <see cref="Released"/> fires.
/// </summary>
public interface IJobLeader : IAsyncDisposable
{
    /// <summary>How this instance names itself to others (e.g. in <c>check</c>): host, process id, shards.</summary>
    string InstanceName { get; }

    /// <summary>Takes <paramref name="job"/> for this instance if nobody else holds it; true when this instance holds it.</summary>
    ValueTask<bool> TryAcquireAsync(string job, CancellationToken cancellationToken);

    /// <summary>Whether this instance holds <paramref name="job"/> now, without asking the store.</summary>
    bool IsHeld(string job);

    /// <summary>
    /// Cancelled when this instance stops holding <paramref name="job"/> (released, disposed or its session lost). Asked
    /// while not holding it, an already-cancelled token; each holding gets a fresh token.
    /// </summary>
    CancellationToken Released(string job);

    /// <summary>Gives <paramref name="job"/> up so another instance can take it at once (a graceful stop).</summary>
    ValueTask ReleaseAsync(string job, CancellationToken cancellationToken);

    /// <summary>Who holds each of <see cref="OnceOnlyJobs.All"/>, for <c>check</c>.</summary>
    Task<IReadOnlyList<JobHolding>> HoldersAsync(CancellationToken cancellationToken);
}
