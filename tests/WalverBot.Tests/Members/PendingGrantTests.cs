using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Grants;
using WalverBot.Members;
using WalverBot.Storage;
using WalverBot.Tests.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Members;

/// <summary>Pending grants whose member is already in the server, without sockets: real SQLite, a scripted gateway.</summary>
public class PendingGrantTests
{
    /// <summary>Which store the tests run against (PostgreSQL in <see cref="PostgresPendingGrantTests"/>).</summary>
    protected virtual string Provider => StorageProviders.Sqlite;

    private const ulong Guild = 1200000000000000001;
    private const ulong Dave = 1400000000000000004;
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task A_member_who_joins_between_the_lookup_and_the_committed_wait_wakes_the_grant()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var inbox = new WebhookInbox(db.Database, time);
        var pending = new PendingMembers(inbox, new GrantSignal());
        var join = new MemberJoinHandler(inbox, new GrantSignal(), pending, NullLogger<MemberJoinHandler>.Instance);
        var id = await InsertEventAsync(db.Database, MemberQuery.KeyFor("dave"), EventStatus.Pending);

        // The worker looks dave up and does not find him ...
        var mark = pending.Mark();
        // ... dave joins: his GUILD_MEMBER_ADD finds nothing waiting yet ...
        await join.HandleAsync(new GuildMemberAddEvent(Guild, new GuildMember(new DiscordUser(Dave, "dave"), null, [])), CancellationToken.None);
        Assert.Equal(EventStatus.Pending, await StatusAsync(db.Database, id));
        // ... then the worker commits the wait.
        await SetStatusAsync(db.Database, id, EventStatus.WaitingMember);
        var inboxEvent = new InboxEvent { Id = id, GuildId = Guild, MemberQuery = MemberQuery.KeyFor("dave") };

        Assert.True(await pending.WakeIfJoinedSinceAsync(mark, inboxEvent, CancellationToken.None));
        Assert.Equal(EventStatus.Pending, await StatusAsync(db.Database, id));

        // A join from before the lookup is no reason to wake: the lookup saw that member already.
        await SetStatusAsync(db.Database, id, EventStatus.WaitingMember);
        Assert.False(await pending.WakeIfJoinedSinceAsync(pending.Mark(), inboxEvent, CancellationToken.None));
        Assert.Equal(EventStatus.WaitingMember, await StatusAsync(db.Database, id));
    }

    [SkippableFact]
    public async Task The_slow_timer_finds_members_who_joined_unannounced_by_id_in_batches_of_100_and_by_exact_username()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        var inbox = new WebhookInbox(db.Database, time);
        var gateway = new ScriptedMemberRequests(
            new GuildMember(new DiscordUser(Dave, "dave"), null, []),
            new GuildMember(new DiscordUser(1400000000000000005, "tara"), null, []),
            new GuildMember(new DiscordUser(1400000000000000006, "tara_2"), null, []),
            new GuildMember(new DiscordUser(1400000000000000007, "robot", Bot: true), null, []));
        var daveEvent = await InsertEventAsync(db.Database, MemberQuery.KeyFor(Dave), EventStatus.WaitingMember);
        var taraEvent = await InsertEventAsync(db.Database, MemberQuery.KeyFor("tara"), EventStatus.WaitingMember);
        var lookAlike = await InsertEventAsync(db.Database, MemberQuery.KeyFor("tara_"), EventStatus.WaitingMember);
        var botEvent = await InsertEventAsync(db.Database, MemberQuery.KeyFor("robot"), EventStatus.WaitingMember);
        for (var i = 0; i < 150; i++)
        {
            await InsertEventAsync(db.Database, MemberQuery.KeyFor(1500000000000000000UL + (ulong)i), EventStatus.WaitingMember);
        }

        var options = Options.Create(new GrantOptions { PendingRecheck = TimeSpan.FromMinutes(10) });
        var reconciler = new PendingGrantReconciler(inbox, gateway, new GrantSignal(), NullLogger<PendingGrantReconciler>.Instance);
        using var worker = new PendingGrantRecheckWorker(reconciler, options, time, NullLogger<PendingGrantRecheckWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        Assert.Empty(gateway.Requests); // nothing before the first interval has passed

        // Advance the fake clock until a pass has run; no real waiting stands in for the ten minutes.
        await Eventually.UntilAsync(
            async () =>
            {
                var woken = (await StatusAsync(db.Database, daveEvent), await StatusAsync(db.Database, taraEvent));
                if (woken is not (EventStatus.Pending, EventStatus.Pending))
                {
                    time.Advance(TimeSpan.FromMinutes(10));
                }

                return woken;
            },
            woken => woken is (EventStatus.Pending, EventStatus.Pending), "a re-check pass to wake dave's and tara's grants", TimeSpan.FromSeconds(10));

        await worker.StopAsync(CancellationToken.None);
        Assert.Equal(EventStatus.WaitingMember, await StatusAsync(db.Database, lookAlike));
        Assert.Equal(EventStatus.WaitingMember, await StatusAsync(db.Database, botEvent));
        var firstPass = gateway.Requests.Take(2 + 3).ToList();
        Assert.Equal([100, 51], firstPass.Where(r => r.UserIds is not null).Select(r => r.UserIds!.Count));
        Assert.Equal(["robot", "tara", "tara_"], firstPass.Where(r => r.Query is not null).Select(r => r.Query!));
    }

    [SkippableFact]
    public async Task Waiting_usernames_are_checked_at_most_50_per_pass_going_on_where_the_last_pass_stopped()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var inbox = new WebhookInbox(db.Database, new FakeTimeProvider(Start));
        var gateway = new ScriptedMemberRequests();
        var names = Enumerable.Range(0, 60).Select(i => $"name{i:D2}").ToList();
        foreach (var name in names)
        {
            await InsertEventAsync(db.Database, MemberQuery.KeyFor(name), EventStatus.WaitingMember);
        }

        var reconciler = new PendingGrantReconciler(inbox, gateway, new GrantSignal(), NullLogger<PendingGrantReconciler>.Instance);
        await reconciler.ReconcileGuildAsync(Guild, CancellationToken.None);
        Assert.Equal(names.Take(50), gateway.Requests.Select(r => r.Query!));

        await reconciler.ReconcileGuildAsync(Guild, CancellationToken.None);
        Assert.Equal(names.Skip(50).Concat(names.Take(40)), gateway.Requests.Skip(50).Select(r => r.Query!));
    }

    private static async Task<long> InsertEventAsync(Database database, string memberQuery, string status)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
            VALUES (@key, 'v1', @guild, '0xabc', @memberQuery, '{}', @now, @status, @later)
            RETURNING id;
            """, new { key = Guid.NewGuid().ToString("N"), guild = (long)Guild, memberQuery, status, now = Database.Format(Start), later = Database.Format(Start.AddDays(7)) });
    }

    private static async Task SetStatusAsync(Database database, long id, string status)
    {
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("UPDATE webhook_events SET status = @status WHERE id = @id", new { id, status });
    }

    private static async Task<string> StatusAsync(Database database, long id)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<string>("SELECT status FROM webhook_events WHERE id = @id", new { id }) ?? "";
    }

    /// <summary>A guild's members as the gateway would report them; records each request.</summary>
    private sealed class ScriptedMemberRequests(params GuildMember[] members) : IGuildMemberRequests
    {
        private readonly Lock _lock = new();
        private readonly List<(IReadOnlyCollection<ulong>? UserIds, string? Query)> _requests = [];

        public IReadOnlyList<(IReadOnlyCollection<ulong>? UserIds, string? Query)> Requests
        {
            get { lock (_lock) { return [.. _requests]; } }
        }

        public Task<GuildMembersAnswer> RequestByIdsAsync(ulong guildId, IReadOnlyCollection<ulong> userIds, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _requests.Add((userIds, null));
            }

            return Task.FromResult(new GuildMembersAnswer(
                [.. members.Where(m => userIds.Contains(m.User.Id))], [.. userIds.Where(id => members.All(m => m.User.Id != id))]));
        }

        public Task<GuildMembersAnswer> SearchByUsernameAsync(ulong guildId, string usernamePrefix, int limit, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _requests.Add((null, usernamePrefix));
            }

            return Task.FromResult(new GuildMembersAnswer(
                [.. members.Where(m => m.User.Username.StartsWith(usernamePrefix, StringComparison.OrdinalIgnoreCase)).Take(limit)], []));
        }
    }
}

/// <summary>The same tests on a real PostgreSQL server.</summary>
[Trait("Needs", "postgres")]
public sealed class PostgresPendingGrantTests : PendingGrantTests
{
    protected override string Provider => StorageProviders.Postgres;
}
