using Dapper;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Storage;
using WalverBot.Tests.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Webhooks;

/// <summary>
/// On SQLite the grant worker's claims and claim renewals take their turn at the write lock behind the webhooks
/// (<see cref="WriteTurns"/>), instead of holding the lock while a webhook's INSERT sleeps in SQLite's busy handler.
/// </summary>
public sealed class ClaimWriteTurnTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_claim_waits_for_the_write_turn_and_a_webhook_waiting_as_well_goes_first()
    {
        await using var db = await TestDatabase.CreateAsync();
        var id = await InsertAsync(db.Database);
        var inbox = new WebhookInbox(db.Database, new FakeTimeProvider(Start));
        var turns = db.Database.WriteTurns;

        Task<IReadOnlyList<InboxEvent>> claim;
        ValueTask<WriteTurns.Turn> webhook;
        // The inbox writer holds the turn (a commit in progress); the worker's claim queues behind it.
        using (await turns.EnterAsync(webhooks: true))
        {
            claim = Task.Run(() => inbox.DueAsync(10, CancellationToken.None));
            await Eventually.UntilAsync(() => turns.Waiting == 1, "the claim waiting for the write turn");
            webhook = turns.EnterAsync(webhooks: true);
            Assert.Equal(2, turns.Waiting);
        }

        // The webhook that queued after the claim is served first; the claim still waits and has written nothing.
        using (await webhook)
        {
            Assert.Equal(1, turns.Waiting);
            Assert.False(claim.IsCompleted);
            Assert.Null(await ClaimedByAsync(db.Database, id));
        }

        Assert.Equal([id], (await claim).Select(e => e.Id));
        Assert.Equal(db.Database.InstanceId, await ClaimedByAsync(db.Database, id));
        Assert.Equal(0, turns.Waiting);
    }

    [Fact]
    public async Task A_claim_renewal_waits_for_the_write_turn_and_then_renews()
    {
        await using var db = await TestDatabase.CreateAsync();
        var id = await InsertAsync(db.Database);
        var time = new FakeTimeProvider(Start);
        var inbox = new WebhookInbox(db.Database, time);
        Assert.Single(await inbox.DueAsync(10, CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(1));
        var turns = db.Database.WriteTurns;

        Task<IReadOnlySet<long>> renewal;
        using (await turns.EnterAsync(webhooks: true))
        {
            renewal = Task.Run(() => inbox.RenewClaimsAsync([id], CancellationToken.None));
            await Eventually.UntilAsync(() => turns.Waiting == 1, "the renewal waiting for the write turn");
            Assert.Equal(Database.Format(Start + WebhookInbox.ClaimLease), await ClaimedUntilAsync(db.Database, id));
        }

        Assert.Equal([id], await renewal);
        Assert.Equal(Database.Format(time.GetUtcNow() + WebhookInbox.ClaimLease), await ClaimedUntilAsync(db.Database, id));
    }

    private static async Task<long> InsertAsync(Database database)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, next_attempt_at)
            VALUES ('k1', 'v1', 290000000000, '0xabc', 'name:dave', '{}', @now, 'pending', @now)
            RETURNING id
            """, new { now = Database.Format(Start) });
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
