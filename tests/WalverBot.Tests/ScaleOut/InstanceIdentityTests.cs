using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.ScaleOut;
using WalverBot.Storage;
using WalverBot.Testing.Waiting;
using WalverBot.Tests.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.ScaleOut;

/// <summary>
/// The claim identity of an instance on PostgreSQL: derived from its shard set and held by an advisory lock while the
/// process lives. A process that dies is simulated by ending its lock session on the server (what the server does when
/// the process's socket closes, kill -9 included).
/// </summary>
[Trait("Needs", "postgres")]
public sealed class InstanceIdentityTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ShardOwnership ShardOne = new(4, [1]);

    [SkippableFact]
    public async Task A_restart_with_the_same_shards_takes_back_the_dead_runs_claims_at_once_not_after_the_lease()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db, InboxClaimTests.GuildOnShard(1, 4), InboxClaimTests.GuildOnShard(1, 4, n: 1));
        using var deadDatabase = NewDatabase(db);
        var dead = new InstanceIdentity(deadDatabase, ShardOne, time, NullLogger<InstanceIdentity>.Instance);
        await dead.AcquireAsync(CancellationToken.None);
        Assert.Equal("shards-1-of-4", deadDatabase.InstanceId);
        Assert.Equal(ids, Ids(await new WebhookInbox(deadDatabase, time, ShardOne).DueAsync(10, CancellationToken.None)));

        // The restart comes up while the server still has the dead run's session: it waits for the lock, then the
        // session ends (the process is gone) and the restart holds the identity.
        using var restartedDatabase = NewDatabase(db);
        await using var restarted = new InstanceIdentity(restartedDatabase, ShardOne, time, NullLogger<InstanceIdentity>.Instance, TimeSpan.FromMinutes(1));
        var acquiring = restarted.AcquireAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => WaitingForIdentityAsync(db), "the restart waiting for the identity lock");
        await EndIdentitySessionAsync(db, "shards-1-of-4", holder: true);
        await acquiring;

        Assert.True(restarted.Held);
        Assert.Equal("shards-1-of-4", restartedDatabase.InstanceId);
        // No time has passed: the lease of the dead run's claims is still running, and they are this instance's again.
        Assert.Equal(ids, Ids(await new WebhookInbox(restartedDatabase, time, ShardOne).DueAsync(10, CancellationToken.None)));
        Assert.Empty(await new WebhookInbox(NewDatabase(db), time, ShardOne).DueAsync(10, CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_second_live_instance_with_the_same_shards_claims_under_a_fresh_identity_and_takes_none_of_the_first_ones_claims()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db, InboxClaimTests.GuildOnShard(1, 4));
        using var firstDatabase = NewDatabase(db);
        await using var first = new InstanceIdentity(firstDatabase, ShardOne, time, NullLogger<InstanceIdentity>.Instance);
        await first.AcquireAsync(CancellationToken.None);
        Assert.Equal(ids, Ids(await new WebhookInbox(firstDatabase, time, ShardOne).DueAsync(10, CancellationToken.None)));

        using var secondDatabase = NewDatabase(db);
        var before = secondDatabase.InstanceId;
        await using var second = new InstanceIdentity(secondDatabase, ShardOne, time, NullLogger<InstanceIdentity>.Instance, TimeSpan.FromMilliseconds(200));
        await second.AcquireAsync(CancellationToken.None);

        Assert.False(second.Held);
        Assert.Equal(before, secondDatabase.InstanceId);
        Assert.NotEqual(firstDatabase.InstanceId, secondDatabase.InstanceId);
        Assert.Empty(await new WebhookInbox(secondDatabase, time, ShardOne).DueAsync(10, CancellationToken.None));
        // Another shard set is another identity, free at once.
        using var otherDatabase = NewDatabase(db);
        await using var other = new InstanceIdentity(otherDatabase, new ShardOwnership(4, [0, 2]), time, NullLogger<InstanceIdentity>.Instance, TimeSpan.FromMilliseconds(200));
        await other.AcquireAsync(CancellationToken.None);
        Assert.Equal("shards-0.2-of-4", otherDatabase.InstanceId);
    }

    [SkippableFact]
    public async Task An_instance_that_loses_its_identity_session_claims_under_a_fresh_identity_from_then_on()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        var time = new FakeTimeProvider(Start);
        using var database = NewDatabase(db);
        await using var identity = new InstanceIdentity(database, ShardOne, time, NullLogger<InstanceIdentity>.Instance);
        await identity.AcquireAsync(CancellationToken.None);

        await EndIdentitySessionAsync(db, "shards-1-of-4", holder: true);
        // The probe's timer may be set before or after this step; stepping until the fact holds covers both.
        await Eventually.UntilAsync(() =>
        {
            time.Advance(InstanceIdentity.ProbeInterval);
            return !identity.Held;
        }, "the lost identity session noticed by the probe");

        Assert.NotEqual("shards-1-of-4", database.InstanceId);
        // Another instance of the shard set may now take the identity.
        using var successorDatabase = NewDatabase(db);
        await using var successor = new InstanceIdentity(successorDatabase, ShardOne, time, NullLogger<InstanceIdentity>.Instance, TimeSpan.FromSeconds(30));
        await successor.AcquireAsync(CancellationToken.None);
        Assert.True(successor.Held);
    }

    [SkippableFact]
    public void The_identity_names_the_shard_set_and_running_every_shard_is_one_identity()
    {
        Assert.Equal("shards-all", InstanceIdentity.For(ShardOwnership.All));
        Assert.Equal("shards-all", InstanceIdentity.For(new ShardOwnership(2, [1, 0])));
        Assert.Equal("shards-0.2-of-4", InstanceIdentity.For(new ShardOwnership(4, [2, 0])));
        Assert.NotEqual(InstanceIdentity.For(new ShardOwnership(4, [2])), InstanceIdentity.For(new ShardOwnership(3, [2])));
    }

    private static Database NewDatabase(TestDatabase db) =>
        new(Options.Create(new StorageOptions { Provider = db.Provider, ConnectionString = db.ConnectionString }));

    private static List<long> Ids(IEnumerable<InboxEvent> events) => [.. events.Select(e => e.Id).Order()];

    /// <summary>Whether a session waits for an identity lock (pg_locks: not granted).</summary>
    private static async Task<bool> WaitingForIdentityAsync(TestDatabase db)
    {
        await using var connection = await db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = @LockClass AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            new { LockClass = (long)(uint)InstanceIdentity.LockClass });
    }

    /// <summary>
    /// Ends the server session holding (or waiting for) the identity lock, as the server does when its process dies, and
    /// returns once that process has exited (pg_terminate_backend with a timeout waits for it) and released its locks.
    /// </summary>
    private static async Task EndIdentitySessionAsync(TestDatabase db, string identity, bool holder)
    {
        await using var connection = await db.Database.OpenAsync();
        var ended = await connection.ExecuteScalarAsync<int>("""
            SELECT count(*) FROM (
                SELECT pg_terminate_backend(pid, 10000) FROM pg_locks
                WHERE locktype = 'advisory' AND classid::bigint = @LockClass AND objid::bigint = @key AND granted = @holder AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            ) ended
            """, new { LockClass = (long)(uint)InstanceIdentity.LockClass, key = (long)(uint)InstanceIdentity.LockKey(identity), holder });
        Assert.Equal(1, ended);
    }

    private static async Task<List<long>> InsertAsync(TestDatabase db, params ulong[] guilds)
    {
        await using var connection = await db.Database.OpenAsync();
        var ids = new List<long>();
        foreach (var guild in guilds)
        {
            ids.Add(await connection.ExecuteScalarAsync<long>("""
                INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
                VALUES (@key, 'v1', @guild, '0xabc', 'name:dave', '{}', @now, 'pending', @now) RETURNING id
                """, new { key = Guid.NewGuid().ToString("N"), guild = checked((long)guild), now = Database.Format(Start) }));
        }

        return [.. ids.Order()];
    }
}
