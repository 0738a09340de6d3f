using Dapper;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Waiting;

/// <summary>What "the inbox is drained" means to a test that then asserts that nothing (more) happened.</summary>
public sealed class InboxDrainedTests
{
    [Fact]
    public async Task An_empty_inbox_is_drained_but_a_wait_for_accepted_events_is_not_satisfied_by_it()
    {
        await using var db = await TestDatabase.CreateAsync();

        Assert.True((await Inbox.ReadStateAsync(db.Path_)).IsDrained);
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Inbox.WaitUntilDrainedAsync(db.Path_, atLeast: 1, TimeSpan.FromMilliseconds(20)));
        Assert.Contains("events [], 0 settled without a decision", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(EventStatus.Done)]
    [InlineData(EventStatus.Failed)]
    [InlineData(EventStatus.Expired)]
    [InlineData(EventStatus.WaitingMember)]
    public async Task Events_settled_with_a_decision_leave_the_inbox_drained(string status)
    {
        await using var db = await TestDatabase.CreateAsync();
        await InsertEventAsync(db.Database, status, decided: true);

        var state = await Inbox.WaitUntilDrainedAsync(db.Path_, atLeast: 1);

        Assert.Equal(1, state.EventsByStatus[status]);
    }

    [Theory]
    [InlineData(0)] // due now, or claimed by the worker
    [InlineData(60)] // waiting out a retry backoff: Discord may still be called
    public async Task A_pending_event_is_not_drained_whenever_it_falls_due(int dueInSeconds)
    {
        await using var db = await TestDatabase.CreateAsync();
        await InsertEventAsync(db.Database, EventStatus.Done, decided: true);
        await InsertEventAsync(db.Database, EventStatus.Pending, decided: false, dueInSeconds);

        var state = await Inbox.ReadStateAsync(db.Path_);

        Assert.False(state.IsDrained);
        Assert.Equal("events [done: 1, pending: 1], 0 settled without a decision", state.ToString());
    }

    [Fact]
    public async Task A_settled_event_without_its_decision_is_not_drained()
    {
        await using var db = await TestDatabase.CreateAsync();
        await InsertEventAsync(db.Database, EventStatus.Done, decided: false);

        var state = await Inbox.ReadStateAsync(db.Path_);

        Assert.False(state.IsDrained);
        Assert.Equal(1, state.SettledWithoutDecision);
    }

    [Fact]
    public async Task The_wait_ends_when_the_worker_settles_the_last_pending_event()
    {
        await using var db = await TestDatabase.CreateAsync();
        var id = await InsertEventAsync(db.Database, EventStatus.Pending, decided: false);
        var waiting = Inbox.WaitUntilDrainedAsync(db.Path_, atLeast: 1);
        Assert.False(waiting.IsCompleted);

        await using (var connection = await db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE webhook_events SET status = 'done' WHERE id = @id", new { id });
            await InsertDecisionAsync(connection, id);
        }

        var state = await waiting.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(1, state.EventsByStatus[EventStatus.Done]);
    }

    private static async Task<long> InsertEventAsync(Database database, string status, bool decided, int dueInSeconds = 0)
    {
        await using var connection = await database.OpenAsync();
        var now = DateTimeOffset.UtcNow;
        var id = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, attempts, next_attempt_at)
            VALUES (@key, 'v1', 1, '0xabc', 'dave', '{}', @receivedAt, @status, 0, @next)
            RETURNING id
            """, new { key = Guid.NewGuid().ToString("N"), receivedAt = Database.Format(now), status, next = Database.Format(now.AddSeconds(dueInSeconds)) });
        if (decided)
        {
            await InsertDecisionAsync(connection, id);
        }

        return id;
    }

    private static Task InsertDecisionAsync(System.Data.Common.DbConnection connection, long eventId) =>
        connection.ExecuteAsync(
            "INSERT INTO decisions (at, verification_id, guild_id, event_id, outcome, reason) VALUES (@at, 'v1', 1, @eventId, 'granted', 'test')",
            new { at = Database.Format(DateTimeOffset.UtcNow), eventId });
}
