using System.Security.Cryptography;
using System.Text;
using Dapper;
using WalverBot.Storage;

namespace WalverBot.Webhooks;

/// <summary>An accepted webhook delivery waiting for (or done with) the grant worker.</summary>
public sealed record InboxEvent
{
    public long Id { get; init; }
    public string VerificationId { get; init; } = "";
    public ulong GuildId { get; init; }
    public string WalletAddress { get; init; } = "";

    /// <summary>The member the event is for, as a <see cref="Grants.MemberQuery.Key"/>; null when unreadable.</summary>
    public string? MemberQuery { get; init; }

    /// <summary>The delivery's JSON without its secret.</summary>
    public string Payload { get; init; } = "";

    public string Status { get; init; } = "";
    public int Attempts { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>Event states in the inbox.</summary>
public static class EventStatus
{
    /// <summary>Waiting for the worker (now or at next_attempt_at).</summary>
    public const string Pending = "pending";

    /// <summary>The member is not in the guild yet; next_attempt_at is when the wait expires.</summary>
    public const string WaitingMember = "waiting_member";

    public const string Done = "done";
    public const string Failed = "failed";
    public const string Expired = "expired";
}

/// <summary>The durable inbox of webhook events (table webhook_events).</summary>
public sealed class WebhookInbox(Database database, TimeProvider time)
{
    private const string SelectColumns = """
        SELECT id, verification_id AS VerificationId, guild_id AS GuildId, wallet_address AS WalletAddress,
               member_query AS MemberQuery, payload, status, attempts, received_at AS ReceivedAt
        FROM webhook_events
        """;

    /// <summary>The identity of a delivery: the same verification, wallet and signature is the same delivery.</summary>
    public static string DeliveryKey(string verificationId, string walletAddress, string? signature)
    {
        var text = $"{verificationId}\n{Verifications.Chains.NormalizeAddress(walletAddress)}\n{signature ?? ""}";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// Events due for processing, longest due first. Ordered by the (status, next_attempt_at) index, so a large
    /// backlog is read as a range scan rather than sorted on every pass.
    /// </summary>
    public async Task<IReadOnlyList<InboxEvent>> DueAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<InboxEvent>(new CommandDefinition(
            $"{SelectColumns} WHERE status = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit",
            new { now = Database.Format(time.GetUtcNow()), limit }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>When the next event falls due or the next wait for a member runs out, if any.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var next = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT MIN(next_attempt_at) FROM webhook_events WHERE status IN ('pending', 'waiting_member')", cancellationToken: cancellationToken));
        return next is null ? null : DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task RescheduleAsync(long eventId, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = @next, last_error = @error WHERE id = @eventId",
            new { eventId, next = Database.Format(nextAttempt), error }, cancellationToken: cancellationToken));
    }

    /// <summary>Makes events that are waiting out a retry backoff due now.</summary>
    public async Task RetryNowAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_events SET next_attempt_at = @now WHERE status = 'pending' AND attempts > 0 AND next_attempt_at > @now",
            new { now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
    }

    /// <summary>Makes events waiting for a member who just joined due now; returns how many woke.</summary>
    public async Task<int> WakeWaitingAsync(ulong guildId, IReadOnlyCollection<string> memberQueries, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_events SET status = 'pending', next_attempt_at = @now
            WHERE guild_id = @guildId AND status = 'waiting_member' AND member_query IN @memberQueries
            """,
            new { guildId, memberQueries, now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
    }

    /// <summary>Guilds with at least one event waiting for a member.</summary>
    public async Task<IReadOnlyList<ulong>> GuildsWithWaitingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT DISTINCT guild_id FROM webhook_events WHERE status = 'waiting_member' ORDER BY guild_id", cancellationToken: cancellationToken));
        return [.. rows.Select(id => unchecked((ulong)id))];
    }

    /// <summary>The members (as <see cref="Grants.MemberQuery.Key"/>s) that a guild's waiting events wait for.</summary>
    public async Task<IReadOnlyList<string>> WaitingMemberQueriesAsync(ulong guildId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT member_query FROM webhook_events
            WHERE guild_id = @guildId AND status = 'waiting_member' AND member_query IS NOT NULL ORDER BY member_query
            """, new { guildId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Events whose wait for a member ran out.</summary>
    public async Task<IReadOnlyList<InboxEvent>> ExpiredWaitingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<InboxEvent>(new CommandDefinition(
            $"{SelectColumns} WHERE status = 'waiting_member' AND next_attempt_at <= @now ORDER BY id",
            new { now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>
    /// Deletes finished events received before <paramref name="cutoff"/>, and the decisions about repeats recorded
    /// before it. An event that a live grant points to keeps its row (the grant's provenance) but loses its raw payload.
    /// </summary>
    public async Task<int> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var args = new { cutoff = Database.Format(cutoff) };
        var deleted = await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM webhook_events
            WHERE status IN ('done', 'failed', 'expired') AND received_at < @cutoff
              AND id NOT IN (SELECT event_id FROM role_grants)
            """, args, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_events SET payload = '{}'
            WHERE status IN ('done', 'failed', 'expired') AND received_at < @cutoff AND payload <> '{}'
            """, args, cancellationToken: cancellationToken));
        // A repeat's decision says only "this arrived again"; the decision on the delivery itself stays. Without this,
        // retries (or anyone replaying a delivery) would grow the decision log without bound.
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM decisions WHERE outcome = @duplicate AND at < @cutoff",
            new { args.cutoff, duplicate = Grants.Outcomes.Duplicate }, cancellationToken: cancellationToken));
        return deleted;
    }
}
