using System.Collections.Concurrent;
using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Commands;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.ScaleOut;
using WalverBot.Storage;
using WalverBot.Testing.ScaleOut;
using WalverBot.Tests.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.ScaleOut;

/// <summary>
/// Once-only jobs on two instances, each with its session on one shared lock table (<see cref="FakeAdvisoryLocks"/>,
/// the stand-in for PostgreSQL advisory locks). Each instance's retention job prunes its own database here, so which
/// instance ran the job is a fact the test can read.
/// </summary>
public sealed class OnceOnlyJobTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const ulong ApplicationId = 1100000000000000001;

    [Fact]
    public async Task Only_one_of_two_instances_runs_retention_and_the_other_takes_it_over_when_the_first_stops()
    {
        var time = new FakeTimeProvider(Start);
        var locks = new FakeAdvisoryLocks();
        await using var leaderA = locks.Connect("instance-a");
        await using var leaderB = locks.Connect("instance-b");
        await using var dbA = await TestDatabase.CreateAsync();
        await using var dbB = await TestDatabase.CreateAsync();
        await InsertOldFinishedEventAsync(dbA.Database);
        await InsertOldFinishedEventAsync(dbB.Database);
        using var workerA = Retention(dbA, time, leaderA);
        using var workerB = Retention(dbB, time, leaderB);

        await workerA.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(async () => await EventsAsync(dbA.Database) == 0, "instance A to run the retention pass");
        await workerB.StartAsync(CancellationToken.None);
        // B asks again each retry interval and is refused each time, while A holds the job.
        await AtEachRetryUntilAsync(time, () => leaderB.Refusals >= 3, "instance B to be refused the retention job three times");

        Assert.Equal(1, await EventsAsync(dbB.Database));
        Assert.Equal("instance-a", locks.HolderOf(OnceOnlyJobs.Retention));
        Assert.False(leaderB.IsHeld(OnceOnlyJobs.Retention));

        // A stops: its session ends and with it the lock, as PostgreSQL drops a dead session's advisory locks.
        var releasedA = leaderA.Released(OnceOnlyJobs.Retention);
        leaderA.EndSession();
        Assert.True(releasedA.IsCancellationRequested);
        await workerA.StopAsync(CancellationToken.None);
        await AtEachRetryUntilAsync(time, async () => await EventsAsync(dbB.Database) == 0, "instance B to take retention over and run it");

        Assert.Equal("instance-b", locks.HolderOf(OnceOnlyJobs.Retention));
        Assert.True(leaderB.IsHeld(OnceOnlyJobs.Retention));
        Assert.False(leaderA.IsHeld(OnceOnlyJobs.Retention));
        await workerB.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_job_whose_holding_ends_stops_its_work_and_a_second_instance_never_holds_it_at_the_same_time()
    {
        var time = new FakeTimeProvider(Start);
        var locks = new FakeAdvisoryLocks();
        await using var leaderA = locks.Connect("instance-a");
        await using var leaderB = locks.Connect("instance-b");
        var running = new ConcurrentDictionary<string, TaskCompletionSource>();
        var stopped = new TaskCompletionSource();
        using var stop = new CancellationTokenSource();

        Task Run(FakeJobLeader leader, string name) => leader.RunOnceOnlyAsync(OnceOnlyJobs.HoldingsRechecks, async held =>
        {
            Assert.Equal(name, locks.HolderOf(OnceOnlyJobs.HoldingsRechecks)); // work never starts without the lock
            running.GetOrAdd(name, _ => new TaskCompletionSource()).TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, held);
            }
            finally
            {
                if (name == "instance-a")
                {
                    stopped.TrySetResult();
                }
            }
        }, time, NullLogger.Instance, stop.Token);

        var a = Run(leaderA, "instance-a");
        await running.GetOrAdd("instance-a", _ => new TaskCompletionSource()).Task.WaitAsync(TimeSpan.FromSeconds(15));
        var b = Run(leaderB, "instance-b");
        await Eventually.UntilAsync(() => leaderB.Refusals >= 1, "instance B to ask for the job and be refused");
        Assert.False(running.ContainsKey("instance-b"));

        // A's session ends (its connection dropped). Ending it, rather than releasing the lock on a live session,
        // keeps A from taking the job straight back: a released lock is free for whichever instance asks first.
        leaderA.EndSession();
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await AtEachRetryUntilAsync(time, () => running.ContainsKey("instance-b") && running["instance-b"].Task.IsCompleted, "instance B to take the job over");

        Assert.False(leaderA.IsHeld(OnceOnlyJobs.HoldingsRechecks));
        Assert.Contains(new JobHolding(OnceOnlyJobs.HoldingsRechecks, "instance-b", IsThisInstance: true), await leaderB.HoldersAsync(CancellationToken.None));
        await stop.CancelAsync();
        await Task.WhenAll(a, b).WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void The_chain_followers_are_once_only_jobs_appended_so_the_earlier_jobs_keep_their_lock_keys()
    {
        // A job's lock key is its place in the list: during a rolling upgrade old and new instances must agree on it.
        Assert.Equal([0, 1, 2, 3], new[] { OnceOnlyJobs.CommandRegistration, OnceOnlyJobs.Retention, OnceOnlyJobs.HoldingsRechecks, OnceOnlyJobs.ReverifyExpiry }
            .Select(PostgresJobLeader.LockKey));
        Assert.Equal([4, 5], new[] { OnceOnlyJobs.TransferFollower, OnceOnlyJobs.SolanaSubscriptions }.Select(PostgresJobLeader.LockKey));
    }

    [Fact]
    public async Task With_SQLite_this_process_holds_every_once_only_job_from_the_start_and_check_names_it()
    {
        await using var leader = new ProcessJobLeader();
        var ran = new TaskCompletionSource();

        foreach (var job in OnceOnlyJobs.All)
        {
            Assert.True(await leader.TryAcquireAsync(job, CancellationToken.None));
            Assert.True(leader.IsHeld(job));
        }

        var holders = await leader.HoldersAsync(CancellationToken.None);
        Assert.Equal(OnceOnlyJobs.All, holders.Select(h => h.Job));
        Assert.All(holders, h => Assert.Equal(ProcessJobLeader.SqliteHolder, h.Holder));
        var run = leader.RunOnceOnlyAsync(OnceOnlyJobs.Retention, async held =>
        {
            ran.SetResult();
            await Task.Delay(Timeout.Infinite, held);
        }, TimeProvider.System, NullLogger.Instance, CancellationToken.None);
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(15));

        await leader.DisposeAsync();
        Assert.False(leader.IsHeld(OnceOnlyJobs.Retention));
        Assert.True(leader.Released(OnceOnlyJobs.Retention).IsCancellationRequested);
    }

    [Fact]
    public async Task Commands_are_registered_by_the_holder_only_and_by_the_instance_that_takes_the_job_over()
    {
        var time = new FakeTimeProvider(Start);
        var locks = new FakeAdvisoryLocks();
        await using var db = await TestDatabase.CreateAsync();
        await using var leaderA = locks.Connect("instance-a");
        await using var leaderB = locks.Connect("instance-b");
        var restA = RecordingRest.Create();
        var restB = RecordingRest.Create();
        var registrarA = Registrar(restA, db, time, leaderA);
        var registrarB = Registrar(restB, db, time, leaderB);

        // A holds the job but stops before its sessions are READY; B's session is READY meanwhile.
        Assert.True(await leaderA.TryAcquireAsync(OnceOnlyJobs.CommandRegistration, CancellationToken.None));
        await registrarB.OnReadyAsync(ApplicationId, CancellationToken.None);
        Assert.Empty(((RecordingRest)restB).Calls);

        using var jobB = new CommandRegistrationJob(registrarB, leaderB, time, NullLogger<CommandRegistrationJob>.Instance);
        await jobB.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => leaderB.Refusals >= 1, "instance B to ask for the registration job");
        leaderA.EndSession();
        await AtEachRetryUntilAsync(time, () => ((RecordingRest)restB).Calls.Count >= 1, "instance B to register the commands once it holds the job");

        Assert.Equal([nameof(IDiscordRestClient.BulkOverwriteGlobalApplicationCommandsAsync)], ((RecordingRest)restB).Calls);
        Assert.Empty(((RecordingRest)restA).Calls);
        await jobB.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_takeover_registration_that_fails_on_the_store_is_logged_and_done_at_the_jobs_next_run()
    {
        var time = new FakeTimeProvider(Start);
        var locks = new FakeAdvisoryLocks();
        await using var db = await TestDatabase.CreateAsync();
        await using var leader = locks.Connect("instance-b");
        var rest = RecordingRest.Create();
        var registrar = Registrar(rest, db, time, leader);
        var logs = new WalverBot.Tests.Hosting.CapturedLogs();
        await registrar.OnReadyAsync(ApplicationId, CancellationToken.None); // READY before the job is held: remembered

        // The store cannot be read when the job is taken (as during a database outage).
        await using (var connection = await db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("ALTER TABLE command_registrations RENAME TO command_registrations_away");
        }

        using var loggers = new LoggerFactory([logs]);
        using var job = new CommandRegistrationJob(registrar, leader, time, loggers.CreateLogger<CommandRegistrationJob>());
        await job.StartAsync(CancellationToken.None);
        await logs.WaitForLineAsync("failed; running it again");
        Assert.False(job.ExecuteTask!.IsCompleted, "the job's service ended: the host would have stopped the bot");
        Assert.Empty(((RecordingRest)rest).Calls);

        await using (var connection = await db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("ALTER TABLE command_registrations_away RENAME TO command_registrations");
        }

        await AtEachRetryUntilAsync(time, () => ((RecordingRest)rest).Calls.Count >= 1, "the registration at the job's next run");
        Assert.Equal([nameof(IDiscordRestClient.BulkOverwriteGlobalApplicationCommandsAsync)], ((RecordingRest)rest).Calls);
        await job.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_READY_on_an_instance_that_does_not_hold_the_job_registers_nothing()
    {
        var time = new FakeTimeProvider(Start);
        var locks = new FakeAdvisoryLocks();
        await using var db = await TestDatabase.CreateAsync();
        await using var leaderA = locks.Connect("instance-a");
        await using var leaderB = locks.Connect("instance-b");
        var restA = RecordingRest.Create();
        var restB = RecordingRest.Create();
        Assert.True(await leaderA.TryAcquireAsync(OnceOnlyJobs.CommandRegistration, CancellationToken.None));

        await Registrar(restA, db, time, leaderA).OnReadyAsync(ApplicationId, CancellationToken.None);
        await Registrar(restB, db, time, leaderB).OnReadyAsync(ApplicationId, CancellationToken.None);

        Assert.Single(((RecordingRest)restA).Calls);
        Assert.Empty(((RecordingRest)restB).Calls);
    }

    /// <summary>Moves the clock on one retry interval at a time (each instance asks for its job again) until <paramref name="done"/>.</summary>
    private static Task AtEachRetryUntilAsync(FakeTimeProvider time, Func<bool> done, string what) =>
        AtEachRetryUntilAsync(time, () => Task.FromResult(done()), what);

    private static Task AtEachRetryUntilAsync(FakeTimeProvider time, Func<Task<bool>> done, string what) =>
        Eventually.UntilAsync(
            () =>
            {
                time.Advance(OnceOnlyJobRunner.RetryInterval);
                return done();
            },
            what);

    private static CommandRegistrar Registrar(IDiscordRestClient rest, TestDatabase db, TimeProvider time, IJobLeader leader) =>
        new(rest, new CommandStore(db.Database, time), Options.Create(new SlashCommandOptions()), NullLogger<CommandRegistrar>.Instance, leader);

    private static RetentionWorker Retention(TestDatabase db, TimeProvider time, IJobLeader leader) =>
        new(new WebhookInbox(db.Database, time), Options.Create(new StorageOptions()), time, NullLogger<RetentionWorker>.Instance, leader);

    private static async Task InsertOldFinishedEventAsync(Database database)
    {
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
            VALUES ('old', 'v1', 1, '0xabc', 'name:dave', '{}', @old, 'done', @old)
            """, new { old = Database.Format(Start.AddDays(-40)) });
    }

    private static async Task<int> EventsAsync(Database database)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM webhook_events");
    }

    /// <summary>A Discord REST client that answers the command overwrites as Discord does (the commands back) and records them.</summary>
    public class RecordingRest : DispatchProxy
    {
        public ConcurrentQueue<string> Queue { get; } = new();

        public List<string> Calls => [.. Queue];

        public static IDiscordRestClient Create() => DispatchProxy.Create<IDiscordRestClient, RecordingRest>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            Queue.Enqueue(targetMethod!.Name);
            return targetMethod.Name.StartsWith("BulkOverwrite", StringComparison.Ordinal)
                ? Task.FromResult((IReadOnlyList<ApplicationCommand>)args![^2]!)
                : throw new NotSupportedException(targetMethod.Name);
        }
    }
}
