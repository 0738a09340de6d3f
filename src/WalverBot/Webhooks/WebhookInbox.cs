using System.Security.Cryptography;
using System.Text;
using Dapper;
using WalverBot.ScaleOut;
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

    /// <summary>How many of the attempts ended in an unexpected exception (not a Discord answer).</summary>
    public int InternalErrors { get; init; }

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

/// <summary>
/// The durable inbox of webhook events (table webhook_events). The worker's reads (due events, waits that ran out, the
/// next due time, guilds with waiting grants) see only the guilds of this instance's shards (<see cref="ShardOwnership"/>).
/// </summary>
public sealed class WebhookInbox(Database database, TimeProvider time, ShardOwnership? shards = null)
{
    /// <summary>
    /// How long a claim keeps other instances off an event. Far longer than one event takes (Discord answers or times
    /// out within 15 s a call); the worker renews the claims of a batch still running at half of it.
    /// </summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(5);

    private readonly ShardOwnership _shards = shards ?? ShardOwnership.All;

    // Free, ours, or a lease that ran out (a dead or stalled instance's; a claim without a lease predates leases).
    private const string Claimable = "(claimed_by IS NULL OR claimed_by = @me OR claimed_until IS NULL OR claimed_until <= @now)";

    private const string Columns = """
        id, verification_id AS VerificationId, guild_id AS GuildId, wallet_address AS WalletAddress,
               member_query AS MemberQuery, payload, status, attempts, internal_errors AS InternalErrors, received_at AS ReceivedAt
        """;

    private const string SelectColumns = $"SELECT {Columns} FROM webhook_events";

    /// <summary>
    /// The identity of a delivery: the same verification, wallet and signed message is the same delivery. The message
    /// is what the wallet signed, byte for byte (Walver makes it unique per session: verification id, timestamp, wallet,
    /// session id), whereas one signature has many spellings the verifier accepts (0x or not, hex case, base64, v = 27/28
    /// or 0/1, trailing spaces): keyed on its text, one proof could be replayed as several "new" deliveries. A delivery
    /// without a message cannot pass the signature check, so it keeps the original key on the signature text, which also
    /// leaves such keys stored by earlier versions valid.
    /// </summary>
    public static string DeliveryKey(string verificationId, string walletAddress, string? signature, string? message = null)
    {
        var wallet = Verifications.KnownChains.NormalizeAddress(walletAddress);
        var text = string.IsNullOrEmpty(message)
            ? $"{verificationId}\n{wallet}\n{signature ?? ""}"
            : $"message\n{verificationId}\n{wallet}\n{message}";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// Migration 5: re-keys stored deliveries by their signed message (<see cref="DeliveryKey"/>), oldest first, so a
    /// repeat of an event stored by an earlier version is still a duplicate, whatever spelling of its signature it uses.
    /// A row whose payload retention already emptied keeps its key (its verification_time is older than any accepted
    /// delivery's); so does a later row whose message an earlier row already has (both were handled; the earlier one
    /// answers for the message from now on).
    /// </summary>
    public static async Task RekeyByMessageAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction)
    {
        var rows = await connection.QueryAsync<(long Id, string VerificationId, string WalletAddress, string Payload)>(new CommandDefinition(
            "SELECT id, verification_id, wallet_address, payload FROM webhook_events WHERE payload <> '{}' ORDER BY id", transaction: transaction));
        foreach (var (id, verificationId, walletAddress, payload) in rows)
        {
            if (!WalverWebhookParser.TryParse(Encoding.UTF8.GetBytes(payload), out var webhook, out _) || string.IsNullOrEmpty(webhook!.Message))
            {
                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE webhook_events SET delivery_key = @key
                WHERE id = @id AND NOT EXISTS (SELECT 1 FROM webhook_events WHERE delivery_key = @key)
                """,
                new { id, key = DeliveryKey(verificationId, walletAddress, webhook.Signature, webhook.Message) }, transaction));
        }
    }

    /// <summary>
    /// Claims and returns events due for processing in the guilds of this instance's shards, longest due first.
    /// Ordered by the (status, next_attempt_at) index, so a large backlog is read as a range scan rather than sorted on
    /// every pass. Only rows that are free, already ours, or whose lease (<see cref="ClaimLease"/>) ran out are taken.
    /// On PostgreSQL the claim is one statement whose candidate rows are locked with the dialect's
    /// <see cref="ISqlDialect.ClaimLock"/> (FOR UPDATE SKIP LOCKED): two instances claiming at once each take rows the
    /// other has not locked, neither waits for the other, and a row the other claimed and committed meanwhile is
    /// re-checked and passed over. On SQLite (one writer at a time, no row locks) it is a plain SELECT of the candidates,
    /// so an idle worker takes no write lock, then one UPDATE that re-checks the same condition in its own WHERE.
    /// A taken-over event was not finished (its decision and done state commit together in GrantLedger), so finishing
    /// it again sends no second role PUT for work that completed.
    /// </summary>
    public Task<IReadOnlyList<InboxEvent>> DueAsync(int limit, CancellationToken cancellationToken) =>
        DueAsync(limit, [], [], cancellationToken);

    /// <summary>
    /// As <see cref="DueAsync(int, CancellationToken)"/>, leaving out events the worker is already running (<paramref name="skipIds"/>)
    /// and guilds that have as many events running as the worker allows (<paramref name="skipGuilds"/>), so one guild's
    /// backlog does not fill the claim and hide another guild's events.
    /// </summary>
    public async Task<IReadOnlyList<InboxEvent>> DueAsync(
        int limit, IReadOnlyCollection<long> skipIds, IReadOnlyCollection<ulong> skipGuilds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var now = time.GetUtcNow();
        var args = new
        {
            now = Database.Format(now), limit, me = database.InstanceId,
            skipIds = skipIds.ToArray(), skipGuilds = skipGuilds.Select(g => unchecked((long)g)).ToArray(),
        };
        var candidates = $"""
            SELECT id FROM webhook_events
            WHERE status = 'pending' AND next_attempt_at <= @now AND {Claimable} AND {_shards.SqlCondition()}
            {(skipIds.Count > 0 ? $"AND NOT ({database.Dialect.InList("id", "@skipIds")})" : "")}
            {(skipGuilds.Count > 0 ? $"AND NOT ({database.Dialect.InList("guild_id", "@skipGuilds")})" : "")}
            ORDER BY next_attempt_at, id LIMIT @limit
            """;
        if (database.Dialect.ClaimLock is { } claimLock)
        {
            // One statement: the candidates are locked as they are chosen, rows locked by another instance's claim in
            // flight are passed over (not waited for), and the locked rows are claimed before the locks go at commit.
            var claimedRows = await connection.QueryAsync<InboxEvent>(new CommandDefinition($"""
                WITH claimed AS (
                    UPDATE webhook_events SET claimed_by = @me, claimed_until = @until
                    WHERE id IN ({candidates} {claimLock})
                    RETURNING *
                )
                SELECT {Columns} FROM claimed ORDER BY next_attempt_at, id
                """, new { args.now, args.limit, args.me, args.skipIds, args.skipGuilds, until = Database.Format(now + ClaimLease) },
                cancellationToken: cancellationToken));
            return claimedRows.ToList();
        }

        var due = (await connection.QueryAsync<long>(new CommandDefinition(candidates, args, cancellationToken: cancellationToken))).ToList();
        if (due.Count == 0)
        {
            return [];
        }

        var claimed = await connection.QueryAsync<long>(new CommandDefinition($"""
            UPDATE webhook_events SET claimed_by = @me, claimed_until = @until
            WHERE {database.Dialect.InList("id", "@due")} AND status = 'pending' AND {Claimable}
            RETURNING id
            """, new { due, args.me, args.now, until = Database.Format(now + ClaimLease) }, cancellationToken: cancellationToken));
        var mine = claimed.ToArray();
        var rows = await connection.QueryAsync<InboxEvent>(new CommandDefinition(
            $"{SelectColumns} WHERE {database.Dialect.InList("id", "@mine")} ORDER BY next_attempt_at, id", new { mine }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>
    /// Renews this instance's claims on <paramref name="eventIds"/> for another <see cref="ClaimLease"/>; returns those
    /// still ours and pending (an event whose lease ran out may have been taken over, and must then be left alone).
    /// </summary>
    public async Task<IReadOnlySet<long>> RenewClaimsAsync(IReadOnlyCollection<long> eventIds, CancellationToken cancellationToken)
    {
        if (eventIds.Count == 0)
        {
            return new HashSet<long>();
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var held = await connection.QueryAsync<long>(new CommandDefinition($"""
            UPDATE webhook_events SET claimed_until = @until
            WHERE {database.Dialect.InList("id", "@eventIds")} AND status = 'pending' AND claimed_by = @me
            RETURNING id
            """, new { eventIds = eventIds.ToArray(), me = database.InstanceId, until = Database.Format(time.GetUtcNow() + ClaimLease) }, cancellationToken: cancellationToken));
        return held.ToHashSet();
    }

    /// <summary>
    /// Gives up this instance's claims on unfinished events once the worker has stopped, so another instance of their
    /// shard (or this one restarted) takes them at once instead of after the lease. Best effort: if the database cannot
    /// be reached, the leases run out on their own.
    /// </summary>
    public async Task ReleaseClaimsAsync(ILogger logger)
    {
        try
        {
            await using var connection = await database.OpenAsync();
            await connection.ExecuteAsync(
                "UPDATE webhook_events SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = @me AND status IN ('pending', 'waiting_member')",
                new { me = database.InstanceId });
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not release this instance's claims on unfinished events ({Error}); they are free when their lease runs out", ex.Message);
        }
    }

    /// <summary>When the next event of this instance's shards falls due or the next wait for a member runs out, if any.</summary>
    public Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken) => NextDueAsync([], cancellationToken);

    /// <summary>As <see cref="NextDueAsync(CancellationToken)"/>, leaving out the events the worker is running.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(IReadOnlyCollection<long> skipIds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var next = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            $"SELECT MIN(next_attempt_at) FROM webhook_events WHERE status IN ('pending', 'waiting_member') AND {_shards.SqlCondition()}"
            + (skipIds.Count > 0 ? $" AND NOT ({database.Dialect.InList("id", "@skipIds")})" : ""),
            new { skipIds = skipIds.ToArray() }, cancellationToken: cancellationToken));
        return next is null ? null : DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <param name="internalError">The attempt ended in an unexpected exception; counted apart, since those are bounded by number.</param>
    public async Task RescheduleAsync(long eventId, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken, bool internalError = false)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_events SET attempts = attempts + 1, internal_errors = internal_errors + @internalError,
                next_attempt_at = @next, last_error = @error
            WHERE id = @eventId
            """,
            new { eventId, next = Database.Format(nextAttempt), error, internalError = internalError ? 1 : 0 }, cancellationToken: cancellationToken));
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
        return await connection.ExecuteAsync(new CommandDefinition($"""
            UPDATE webhook_events SET status = 'pending', next_attempt_at = @now
            WHERE guild_id = @guildId AND status = 'waiting_member' AND {database.Dialect.InList("member_query", "@memberQueries")}
            """,
            new { guildId, memberQueries = memberQueries.ToArray(), now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
    }

    /// <summary>Guilds of this instance's shards with at least one event waiting for a member.</summary>
    public async Task<IReadOnlyList<ulong>> GuildsWithWaitingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<long>(new CommandDefinition(
            $"SELECT DISTINCT guild_id FROM webhook_events WHERE status = 'waiting_member' AND {_shards.SqlCondition()} ORDER BY guild_id", cancellationToken: cancellationToken));
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

    /// <summary>Events of this instance's shards whose wait for a member ran out.</summary>
    public async Task<IReadOnlyList<InboxEvent>> ExpiredWaitingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<InboxEvent>(new CommandDefinition(
            $"{SelectColumns} WHERE status = 'waiting_member' AND next_attempt_at <= @now AND {_shards.SqlCondition()} ORDER BY id",
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
