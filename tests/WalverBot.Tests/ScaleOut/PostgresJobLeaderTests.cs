using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.ScaleOut;
using WalverBot.Storage;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.ScaleOut;

/// <summary>Once-only jobs on a real PostgreSQL server: two instances' leaders on one database.</summary>
[Trait("Needs", "postgres")]
public sealed class PostgresJobLeaderTests
{
    [SkippableFact]
    public async Task One_instance_holds_a_job_check_names_it_and_the_other_takes_it_when_the_first_stops()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        using var otherDatabase = new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = db.ConnectionString }));
        var first = Leader(db.Database, shard: 0);
        await using var second = Leader(otherDatabase, shard: 1);

        Assert.True(await first.TryAcquireAsync(OnceOnlyJobs.Retention, CancellationToken.None));
        Assert.True(await first.TryAcquireAsync(OnceOnlyJobs.Retention, CancellationToken.None)); // already this instance's
        Assert.False(await second.TryAcquireAsync(OnceOnlyJobs.Retention, CancellationToken.None));
        Assert.True(await second.TryAcquireAsync(OnceOnlyJobs.HoldingsRechecks, CancellationToken.None));
        var released = first.Released(OnceOnlyJobs.Retention);
        Assert.False(released.IsCancellationRequested);
        Assert.True(second.Released(OnceOnlyJobs.Retention).IsCancellationRequested);

        var holders = (await second.HoldersAsync(CancellationToken.None)).ToDictionary(h => h.Job);
        Assert.StartsWith(holders[OnceOnlyJobs.Retention].Holder!, first.InstanceName, StringComparison.Ordinal); // PostgreSQL keeps 63 bytes of a session's name
        Assert.False(holders[OnceOnlyJobs.Retention].IsThisInstance);
        Assert.True(holders[OnceOnlyJobs.HoldingsRechecks].IsThisInstance);
        Assert.Null(holders[OnceOnlyJobs.CommandRegistration].Holder);

        // The first instance stops: its session ends, the server frees its locks, the other takes the job.
        await first.DisposeAsync();
        Assert.True(released.IsCancellationRequested);
        Assert.False(first.IsHeld(OnceOnlyJobs.Retention));
        Assert.True(await second.TryAcquireAsync(OnceOnlyJobs.Retention, CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_killed_session_ends_the_holding_at_the_next_probe_and_frees_the_job_for_others()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        using var otherDatabase = new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = db.ConnectionString }));
        var time = new FakeTimeProvider();
        await using var first = Leader(db.Database, shard: 0, time);
        await using var second = Leader(otherDatabase, shard: 1);
        Assert.True(await first.TryAcquireAsync(OnceOnlyJobs.ReverifyExpiry, CancellationToken.None));
        var released = first.Released(OnceOnlyJobs.ReverifyExpiry);

        // The server ends the first instance's lock session (a network cut, a restarted pooler, an admin). With a timeout,
        // pg_terminate_backend returns once the server process has exited (PostgreSQL 14+), so its advisory locks are gone;
        // without one it only signals the process, and the second instance could try before the lock is released.
        await using (var admin = await otherDatabase.OpenAsync())
        {
            Assert.Equal(1, await admin.ExecuteScalarAsync<int>(
                "SELECT COUNT(*) FILTER (WHERE ended) FROM (SELECT pg_terminate_backend(pid, 10000) AS ended FROM pg_stat_activity WHERE application_name = left(@name, 63)) sessions", new { name = first.InstanceName }));
        }

        Assert.True(await second.TryAcquireAsync(OnceOnlyJobs.ReverifyExpiry, CancellationToken.None));
        time.Advance(PostgresJobLeader.ProbeInterval);
        await Eventually.UntilAsync(() => released.IsCancellationRequested, "the first instance to notice it lost the job");
        Assert.False(first.IsHeld(OnceOnlyJobs.ReverifyExpiry));
        Assert.False(await first.TryAcquireAsync(OnceOnlyJobs.ReverifyExpiry, CancellationToken.None));
    }

    private static PostgresJobLeader Leader(Database database, int shard, TimeProvider? time = null) =>
        new(database, new ShardOwnership(2, [shard]), time ?? TimeProvider.System, NullLogger<PostgresJobLeader>.Instance);
}
