using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using WalverBot.Discord.Models;
using WalverBot.Grants;
using WalverBot.Members;
using WalverBot.ScaleOut;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.ScaleOut;

/// <summary>
/// The inbox claim SQL as several instances run it on one database: each Database object is one instance (its own
/// InstanceId), sharing a real SQLite file (the lock file that keeps a second bot off SQLite is not taken here, since
/// what is tested is the claim itself: shard filter, lease, no double claim) or, in <see cref="PostgresInboxClaimTests"/>,
/// a real PostgreSQL database, where several instances do run.
/// </summary>
public class InboxClaimTests
{
    /// <summary>Which store the tests run against.</summary>
    protected virtual string Provider => StorageProviders.Sqlite;

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A guild id on <paramref name="shard"/> of <paramref name="count"/>: (id &gt;&gt; 22) % count == shard.</summary>
    internal static ulong GuildOnShard(int shard, int count, int n = 0) => ((290_000_000_000UL + (ulong)shard + ((ulong)n * (ulong)count)) << 22) | 0x2A5;

    [SkippableFact]
    public async Task Each_instance_claims_only_the_events_of_guilds_on_its_own_shards()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var onShard0 = await InsertAsync(db.Database, GuildOnShard(0, 2), GuildOnShard(0, 2, n: 7));
        var onShard1 = await InsertAsync(db.Database, GuildOnShard(1, 2), GuildOnShard(1, 2, n: 3));
        var first = new WebhookInbox(Instance(db), time, new ShardOwnership(2, [0]));
        var second = new WebhookInbox(Instance(db), time, new ShardOwnership(2, [1]));

        Assert.Equal(onShard0, Ids(await first.DueAsync(100, CancellationToken.None)));
        Assert.Equal(onShard1, Ids(await second.DueAsync(100, CancellationToken.None)));
    }

    [SkippableFact]
    public async Task The_other_reads_of_the_worker_see_only_its_own_shards_guilds()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var mine = GuildOnShard(1, 4);
        var theirs = GuildOnShard(2, 4);
        await InsertAsync(db.Database, EventStatus.WaitingMember, mine, theirs);
        var inbox = new WebhookInbox(Instance(db), time, new ShardOwnership(4, [1, 3]));

        Assert.Equal([mine], await inbox.GuildsWithWaitingAsync(CancellationToken.None));
        Assert.Equal([mine], (await inbox.ExpiredWaitingAsync(CancellationToken.None)).Select(e => e.GuildId));
        Assert.NotNull(await inbox.NextDueAsync(CancellationToken.None));
        Assert.Null(await new WebhookInbox(Instance(db), time, new ShardOwnership(4, [0])).NextDueAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task Two_instances_on_the_same_shard_never_claim_the_same_event()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var guilds = Enumerable.Range(0, 40).Select(n => GuildOnShard(0, 1, n)).ToArray();
        var all = await InsertAsync(db.Database, guilds);
        var first = new WebhookInbox(Instance(db), time);
        var second = new WebhookInbox(Instance(db), time);

        // Both read the same due rows before either claims; each claim re-checks in its UPDATE.
        var claims = await Task.WhenAll(
            Task.Run(() => first.DueAsync(30, CancellationToken.None)),
            Task.Run(() => second.DueAsync(30, CancellationToken.None)));
        var a = Ids(claims[0]);
        var b = Ids(claims[1]);

        Assert.Empty(a.Intersect(b));
        var rest = Ids(await first.DueAsync(100, CancellationToken.None)).Concat(Ids(await second.DueAsync(100, CancellationToken.None)));
        Assert.Equal(all, a.Concat(b).Concat(rest).Order().Distinct().ToList());
        Assert.Empty(a.Intersect(Ids(await second.DueAsync(100, CancellationToken.None))));
    }

    [SkippableFact]
    public async Task Instances_claiming_concurrently_never_get_the_same_event_and_together_get_all_of_them()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var all = await InsertAsync(db.Database, [.. Enumerable.Range(0, 150).Select(n => GuildOnShard(0, 1, n))]);
        var instances = Enumerable.Range(0, 4).Select(_ => new WebhookInbox(Instance(db), time)).ToList();
        using var go = new SemaphoreSlim(0);

        // Each instance claims small batches until nothing is left for it, passing over what it holds (as the worker
        // does: its own claims stay claimable to it); all start together, so the claims overlap.
        var claims = instances.Select(inbox => Task.Run(async () =>
        {
            await go.WaitAsync();
            var mine = new List<long>();
            while (await inbox.DueAsync(7, mine, [], CancellationToken.None) is { Count: > 0 } batch)
            {
                mine.AddRange(batch.Select(e => e.Id));
            }

            return mine;
        })).ToList();
        go.Release(instances.Count);
        var claimed = await Task.WhenAll(claims);

        var every = claimed.SelectMany(ids => ids).ToList();
        Assert.Equal(every.Count, every.Distinct().Count());
        Assert.Equal(all, every.Order().ToList());
    }

    [SkippableFact]
    public async Task A_live_claim_keeps_others_off_and_an_expired_lease_is_taken_over_by_another_instance_of_that_shard()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db.Database, GuildOnShard(1, 2));
        var dead = new WebhookInbox(Instance(db), time, new ShardOwnership(2, [1]));
        var otherShard = new WebhookInbox(Instance(db), time, new ShardOwnership(2, [0]));
        var successorInstance = Instance(db);
        var successor = new WebhookInbox(successorInstance, time, new ShardOwnership(2, [1]));

        Assert.Equal(ids, Ids(await dead.DueAsync(10, CancellationToken.None)));
        // The instance dies mid-grant: its claim stays until the lease runs out.
        time.Advance(WebhookInbox.ClaimLease - TimeSpan.FromSeconds(1));
        Assert.Empty(await successor.DueAsync(10, CancellationToken.None));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await otherShard.DueAsync(10, CancellationToken.None));
        Assert.Equal(ids, Ids(await successor.DueAsync(10, CancellationToken.None)));
        Assert.Equal(successorInstance.InstanceId, await ClaimedByAsync(db.Database, ids[0]));
        Assert.Equal(Database.Format(time.GetUtcNow() + WebhookInbox.ClaimLease), await ClaimedUntilAsync(db.Database, ids[0]));
    }

    [SkippableFact]
    public async Task A_stopping_instance_releases_its_unfinished_claims_so_another_takes_them_at_once()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db.Database, GuildOnShard(0, 1), GuildOnShard(0, 1, n: 1));
        var stopping = new WebhookInbox(Instance(db), time);
        var other = new WebhookInbox(Instance(db), time);
        Assert.Equal(ids, Ids(await stopping.DueAsync(10, CancellationToken.None)));
        Assert.Empty(await other.DueAsync(10, CancellationToken.None));

        await stopping.ReleaseClaimsAsync(NullLogger.Instance);

        Assert.Equal(ids, Ids(await other.DueAsync(10, CancellationToken.None)));
    }

    [SkippableFact]
    public async Task A_finished_event_is_never_taken_over_even_after_its_lease_runs_out()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db.Database, GuildOnShard(0, 1), GuildOnShard(0, 1, n: 1));
        var dead = new WebhookInbox(Instance(db), time);
        Assert.Equal(ids, Ids(await dead.DueAsync(10, CancellationToken.None)));
        // The first event's role PUT went out and its decision committed with status done; the second never started.
        await using (var connection = await db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE webhook_events SET status = 'done' WHERE id = @id", new { id = ids[0] });
        }

        time.Advance(WebhookInbox.ClaimLease);
        Assert.Equal([ids[1]], Ids(await new WebhookInbox(Instance(db), time).DueAsync(10, CancellationToken.None)));
    }

    [SkippableFact]
    public async Task A_stalled_worker_learns_which_claimed_events_another_instance_took_over_after_their_lease_ran_out()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db.Database, GuildOnShard(0, 1), GuildOnShard(0, 1, n: 1));
        var slow = new WebhookInbox(Instance(db), time);
        var claims = new InboxClaims(slow, time);
        Assert.Equal(ids, Ids(await slow.DueAsync(10, CancellationToken.None)));

        // This instance stalls for a whole lease: its claims run out and another instance takes both over (neither
        // was finished, so both are still due).
        time.Advance(WebhookInbox.ClaimLease);
        Assert.Equal(ids, Ids(await new WebhookInbox(Instance(db), time).DueAsync(10, CancellationToken.None)));

        Assert.Equal(ids, (await claims.RenewAsync(ids, CancellationToken.None)).Order());
    }

    [SkippableFact]
    public async Task Claims_are_renewed_at_half_the_lease_and_not_before()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var ids = await InsertAsync(db.Database, GuildOnShard(0, 1), GuildOnShard(0, 1, n: 1));
        var slow = new WebhookInbox(Instance(db), time);
        var claims = new InboxClaims(slow, time);
        await slow.DueAsync(10, CancellationToken.None);
        var claimedUntil = await ClaimedUntilAsync(db.Database, ids[1]);

        time.Advance((WebhookInbox.ClaimLease / 2) - TimeSpan.FromSeconds(1));
        Assert.Empty(await claims.RenewAsync(ids, CancellationToken.None));
        Assert.Equal(claimedUntil, await ClaimedUntilAsync(db.Database, ids[1]));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await claims.RenewAsync(ids, CancellationToken.None));
        Assert.Equal(Database.Format(time.GetUtcNow() + WebhookInbox.ClaimLease), await ClaimedUntilAsync(db.Database, ids[1]));
        time.Advance(WebhookInbox.ClaimLease / 2);
        Assert.Empty(await new WebhookInbox(Instance(db), time).DueAsync(10, CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_member_join_wakes_waiting_grants_only_in_guilds_of_this_instances_shards()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var mine = GuildOnShard(0, 2);
        var theirs = GuildOnShard(1, 2);
        var ids = await InsertAsync(db.Database, EventStatus.WaitingMember, mine, theirs);
        var shards = new ShardOwnership(2, [0]);
        var inbox = new WebhookInbox(Instance(db), time, shards);
        var signal = new GrantSignal();
        var join = new MemberJoinHandler(inbox, signal, new PendingMembers(inbox, signal), NullLogger<MemberJoinHandler>.Instance, shards);
        var dave = new GuildMember(new DiscordUser(1400000000000000004, "dave"), null, []);

        await join.HandleAsync(new GuildMemberAddEvent(theirs, dave), CancellationToken.None);
        await join.HandleAsync(new GuildMemberAddEvent(mine, dave), CancellationToken.None);

        Assert.Equal([EventStatus.Pending, EventStatus.WaitingMember], [await StatusAsync(db.Database, ids[0]), await StatusAsync(db.Database, ids[1])]);
    }

    [SkippableTheory]
    [InlineData(1UL, 1)]
    [InlineData(4194304UL, 2)]
    [InlineData(175928847299117063UL, 16)] // Discord's docs' example snowflake
    [InlineData(1200000000000000001UL, 7)]
    [InlineData(9223372036854775807UL, 5)] // the largest snowflake SQLite's signed 64-bit integer holds
    public async Task Sql_and_code_put_a_guild_on_the_same_shard(ulong guildId, int shardCount)
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        await using var connection = await db.Database.OpenAsync();

        var sql = await connection.ExecuteScalarAsync<long>($"SELECT (@guildId >> 22) % {shardCount}", new { guildId });

        Assert.Equal(ShardOwnership.ShardOf(guildId, shardCount), sql);
        var ownership = new ShardOwnership(shardCount, [(int)sql]);
        Assert.True(ownership.Owns(guildId));
        Assert.Equal(shardCount == 1, new ShardOwnership(shardCount, [((int)sql + 1) % shardCount]).Owns(guildId));
    }

    [SkippableFact]
    public void Running_every_shard_or_no_list_owns_every_guild_and_filters_nothing()
    {
        Assert.True(new ShardOwnership(2, [1, 0]).OwnsAll);
        Assert.True(new ShardOwnership(3, []).OwnsAll);
        Assert.Equal("1 = 1", ShardOwnership.All.SqlCondition());
        Assert.False(new ShardOwnership(3, [2]).OwnsAll);
        Assert.Equal("((guild_id >> 22) % 3) IN (0, 2)", new ShardOwnership(3, [2, 0, 2]).SqlCondition());
    }

    private static Database Instance(TestDatabase db) =>
        new(Options.Create(new StorageOptions { Provider = db.Provider, ConnectionString = db.ConnectionString }));

    private static List<long> Ids(IEnumerable<InboxEvent> events) => [.. events.Select(e => e.Id).Order()];

    private static Task<List<long>> InsertAsync(Database database, params ulong[] guilds) => InsertAsync(database, EventStatus.Pending, guilds);

    private static async Task<List<long>> InsertAsync(Database database, string status, params ulong[] guilds)
    {
        await using var connection = await database.OpenAsync();
        var ids = new List<long>();
        foreach (var guild in guilds)
        {
            ids.Add(await connection.ExecuteScalarAsync<long>("""
                INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
                VALUES (@key, 'v1', @guild, '0xabc', 'name:dave', '{}', @now, @status, @now)
                RETURNING id
                """, new { key = Guid.NewGuid().ToString("N"), guild = checked((long)guild), status, now = Database.Format(Start) }));
        }

        return [.. ids.Order()];
    }

    private static async Task<string> StatusAsync(Database database, long id)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<string>("SELECT status FROM webhook_events WHERE id = @id", new { id }) ?? "";
    }

    private static async Task<string?> ClaimedByAsync(Database database, long id)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<string?>("SELECT claimed_by FROM webhook_events WHERE id = @id", new { id });
    }

    private static async Task<string?> ClaimedUntilAsync(Database database, long id)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<string?>("SELECT claimed_until FROM webhook_events WHERE id = @id", new { id });
    }
}

/// <summary>The claim tests on a real PostgreSQL server, where several instances share one database.</summary>
[Trait("Needs", "postgres")]
[LongRunning(10)]
public sealed class PostgresInboxClaimTests : InboxClaimTests
{
    protected override string Provider => StorageProviders.Postgres;

    [SkippableFact]
    public async Task A_claim_passes_over_rows_another_claim_has_locked_instead_of_waiting_for_them()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var ids = new List<long>();
        await using (var insert = await db.Database.OpenAsync())
        {
            for (var n = 0; n < 4; n++)
            {
                ids.Add(await insert.ExecuteScalarAsync<long>("""
                    INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
                    VALUES (@key, 'v1', @guild, '0xabc', 'name:dave', '{}', @now, 'pending', @now) RETURNING id
                    """, new { key = Guid.NewGuid().ToString("N"), guild = checked((long)GuildOnShard(0, 1, n)), now = Database.Format(time.GetUtcNow()) }));
            }
        }

        // Another instance's claim in flight: its transaction holds the row locks of the two oldest events.
        await using var other = await db.Database.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await other.ExecuteAsync("SELECT id FROM webhook_events WHERE id = ANY(@locked) FOR UPDATE", new { locked = ids.Take(2).ToArray() }, transaction);

        // Waiting for those locks would hold this call until the command timeout and fail it.
        var claimed = await new WebhookInbox(db.Database, time).DueAsync(10, CancellationToken.None);

        Assert.Equal(ids.Skip(2), claimed.Select(e => e.Id).Order());
        await transaction.RollbackAsync();
        using var third = new Database(Options.Create(new StorageOptions { Provider = db.Provider, ConnectionString = db.ConnectionString }));
        Assert.Equal(ids.Take(2), (await new WebhookInbox(third, time).DueAsync(10, CancellationToken.None)).Select(e => e.Id).Order());
    }
}
