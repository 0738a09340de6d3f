using Dapper;
using WalverBot.Security;
using WalverBot.Storage;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Grants;

/// <summary>A decision as stored in the decision log.</summary>
public sealed record DecisionEntry
{
    public long Id { get; init; }
    public DateTimeOffset At { get; init; }
    public string VerificationId { get; init; } = "";
    public ulong? UserId { get; init; }
    public string? Wallet { get; init; }
    public string Outcome { get; init; } = "";
    public string Reason { get; init; } = "";
}

/// <summary>
/// Writes what the worker decided: the decision log, role grants, wallet links and the event's new state,
/// each outcome in one write so a crash never leaves half of it. The worker's writes share transactions
/// (<see cref="DecisionWriter"/>: group commit, webhooks first), so a surge's decisions do not cost an fsync each.
/// </summary>
public sealed class GrantLedger(
    Database database, TimeProvider time, ILogger<GrantLedger> logger,
    Commands.IAdminNotifier notifier, Operations.BotMetrics metrics) : IAsyncDisposable
{
    private readonly DecisionWriter _writer = new(database);

    /// <summary>The group commit the worker's outcomes go through.</summary>
    public DecisionWriter Writer => _writer;

    public ValueTask DisposeAsync() => _writer.DisposeAsync();

    /// <summary>The decision for a delivery that arrived again; the inbox writer stores it with the webhooks it commits.</summary>
    public static readonly Decision Repeat = new(Outcomes.Duplicate, "the same delivery arrived again; it was handled once");

    /// <summary>The member a wallet is linked to in a guild, if any.</summary>
    public async Task<ulong?> LinkedMemberAsync(ulong guildId, string walletAddress, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<ulong?>(new CommandDefinition(
            "SELECT user_id FROM wallet_links WHERE guild_id = @guildId AND wallet_address = @wallet",
            new { guildId, wallet = KnownChains.NormalizeAddress(walletAddress) }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Links the wallet to the member unless it is linked to someone already, in one statement, and returns the
    /// member it is linked to now. The primary key (guild, wallet) decides between racing grants, not an earlier
    /// read: a check in one transaction and the insert in another let two members get the same wallet.
    /// </summary>
    public Task<ulong> LinkWalletAsync(ulong guildId, string walletAddress, ulong userId, string verificationId, CancellationToken cancellationToken)
    {
        var args = new { guildId, wallet = KnownChains.NormalizeAddress(walletAddress), userId, verificationId, now = Database.Format(time.GetUtcNow()) };
        // The no-op update makes RETURNING yield the existing row on a conflict, still in one atomic statement.
        // In the group commit: the link is durable before the role PUT that relies on it.
        return _writer.WriteAsync((connection, transaction) => connection.ExecuteScalarAsync<ulong>(new CommandDefinition("""
            INSERT INTO wallet_links (guild_id, wallet_address, user_id, verification_id, linked_at)
            VALUES (@guildId, @wallet, @userId, @verificationId, @now)
            ON CONFLICT (guild_id, wallet_address) DO UPDATE SET user_id = wallet_links.user_id
            RETURNING user_id
            """, args, transaction))).WaitAsync(cancellationToken);
    }

    /// <summary>Records a role granted to a member: grant, wallet link, decision, event done.</summary>
    /// <param name="alsoWithin">More writes for the same transaction (the holdings re-checks' wallet and roles).</param>
    public async Task RecordGrantAsync(InboxEvent inboxEvent, Verification verification, ulong userId, Decision decision, CancellationToken cancellationToken,
        Func<System.Data.Common.DbConnection, System.Data.Common.DbTransaction, Task>? alsoWithin = null)
    {
        var now = Database.Format(time.GetUtcNow());
        var args = new
        {
            eventId = inboxEvent.Id, verificationId = verification.Id, guildId = verification.GuildId, roleId = verification.RoleId,
            userId, wallet = KnownChains.NormalizeAddress(inboxEvent.WalletAddress), now,
        };
        // Not cancelled half-way: once queued, the write commits with its batch or not at all.
        await _writer.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO role_grants (verification_id, guild_id, role_id, user_id, wallet_address, event_id, status, granted_at)
                VALUES (@verificationId, @guildId, @roleId, @userId, @wallet, @eventId, 'granted', @now)
                ON CONFLICT (verification_id, user_id) DO UPDATE SET
                    role_id = excluded.role_id, wallet_address = excluded.wallet_address, event_id = excluded.event_id,
                    status = 'granted', granted_at = excluded.granted_at, revoked_at = NULL;
                INSERT INTO wallet_links (guild_id, wallet_address, user_id, verification_id, linked_at)
                VALUES (@guildId, @wallet, @userId, @verificationId, @now)
                ON CONFLICT (guild_id, wallet_address) DO NOTHING;
                """, args, transaction));
            if (alsoWithin is not null)
            {
                await alsoWithin(connection, transaction);
            }

            await InsertDecisionAsync(connection, transaction, inboxEvent, userId, decision, now, CancellationToken.None);
            await SetStatusAsync(connection, transaction, inboxEvent.Id, EventStatus.Done, null, null, now, CancellationToken.None);
            return true;
        }).WaitAsync(cancellationToken);
        metrics.Granted(time.GetUtcNow() - inboxEvent.ReceivedAt);
        LogDecision(inboxEvent, userId, decision);
    }

    /// <summary>Records a decision that grants nothing and moves the event to <paramref name="status"/>.</summary>
    /// <param name="waitUntil">For <see cref="EventStatus.WaitingMember"/>: when the wait expires.</param>
    public async Task RecordOutcomeAsync(
        InboxEvent inboxEvent, string status, Decision decision, ulong? userId, string? error, DateTimeOffset? waitUntil, CancellationToken cancellationToken)
    {
        var now = Database.Format(time.GetUtcNow());
        await _writer.WriteAsync(async (connection, transaction) =>
        {
            await InsertDecisionAsync(connection, transaction, inboxEvent, userId, decision, now, CancellationToken.None);
            await SetStatusAsync(connection, transaction, inboxEvent.Id, status, error, waitUntil, now, CancellationToken.None);
            return true;
        }).WaitAsync(cancellationToken);
        metrics.NotGranted(status);
        LogDecision(inboxEvent, userId, decision);
    }

    /// <summary>
    /// Counts, logs and (when notable) tells the admins about a decision already stored by someone else's
    /// transaction: the repeat deliveries that <see cref="InboxWriter"/> records in its group commit.
    /// </summary>
    public void Announce(string verificationId, ulong guildId, string walletAddress, Decision decision)
    {
        metrics.Decided(decision.Outcome);
        logger.LogInformation(
            "Decision {Outcome} for verification {VerificationId}, wallet {Wallet}: {Reason}",
            decision.Outcome, verificationId, WalletAddresses.Shorten(walletAddress), decision.Reason);
        notifier.DecisionRecorded(new Commands.DecisionNotice(guildId, verificationId, null, WalletAddresses.Shorten(walletAddress), decision));
    }

    /// <summary>The latest decisions about a member (or, with <paramref name="userId"/> null, the whole guild), newest first.</summary>
    public async Task<IReadOnlyList<DecisionEntry>> RecentDecisionsAsync(ulong guildId, ulong? userId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<DecisionEntry>(new CommandDefinition("""
            SELECT id, at, verification_id AS VerificationId, user_id AS UserId, wallet, outcome, reason
            FROM decisions
            WHERE guild_id = @guildId AND (@userId IS NULL OR user_id = @userId)
            ORDER BY id DESC LIMIT @limit
            """,
            // A typed null: PostgreSQL cannot tell the type of a bare "@userId IS NULL" (42P08); a ulong? null is untyped.
            new { guildId, userId = (long?)userId, limit }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    private static Task InsertDecisionAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        InboxEvent inboxEvent, ulong? userId, Decision decision, string now, CancellationToken cancellationToken) =>
        InsertDecisionAsync(connection, transaction, inboxEvent.VerificationId, inboxEvent.GuildId, inboxEvent.Id, userId,
            inboxEvent.WalletAddress, decision, now, cancellationToken);

    /// <summary>One row of the decision log, in the caller's transaction; the wallet is stored shortened.</summary>
    public static Task InsertDecisionAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        string verificationId, ulong guildId, long? eventId, ulong? userId, string walletAddress, Decision decision, string now,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO decisions (at, verification_id, guild_id, event_id, user_id, wallet, outcome, reason)
            VALUES (@now, @verificationId, @guildId, @eventId, @userId, @wallet, @Outcome, @Reason)
            """,
            new { now, verificationId, guildId, eventId, userId, wallet = WalletAddresses.Shorten(walletAddress), decision.Outcome, decision.Reason },
            transaction, cancellationToken: cancellationToken));

    private static Task SetStatusAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        long eventId, string status, string? error, DateTimeOffset? waitUntil, string now, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_events
            SET status = @status, last_error = COALESCE(@error, last_error), attempts = attempts + 1,
                next_attempt_at = COALESCE(@waitUntil, next_attempt_at),
                finished_at = CASE WHEN @status IN ('done', 'failed', 'expired') THEN @now ELSE NULL END
            WHERE id = @eventId
            """,
            new
            {
                eventId, status, error, now,
                waitUntil = waitUntil is { } w ? Database.Format(w) : null,
            },
            transaction, cancellationToken: cancellationToken));

    private void LogDecision(InboxEvent inboxEvent, ulong? userId, Decision decision)
    {
        metrics.Decided(decision.Outcome);
        logger.LogInformation(
            "Decision {Outcome} for verification {VerificationId}, wallet {Wallet}, member {UserId}, guild {GuildId}: {Reason}",
            decision.Outcome, inboxEvent.VerificationId, WalletAddresses.Shorten(inboxEvent.WalletAddress), userId, inboxEvent.GuildId, decision.Reason);
        notifier.DecisionRecorded(new Commands.DecisionNotice(inboxEvent.GuildId, inboxEvent.VerificationId, userId, WalletAddresses.Shorten(inboxEvent.WalletAddress), decision));
    }

    // ---- Queries and changes for the admin commands (/walver list, status, revoke, disable) ----------------------

    /// <summary>Per verification of a guild: roles currently granted, events still waiting, and decisions that granted nothing.</summary>
    public async Task<IReadOnlyDictionary<string, VerificationCounts>> CountsForGuildAsync(ulong guildId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<VerificationCounts>(new CommandDefinition("""
            SELECT v.id AS VerificationId,
                (SELECT COUNT(*) FROM role_grants g WHERE g.verification_id = v.id AND g.status = 'granted') AS Granted,
                (SELECT COUNT(*) FROM webhook_events e WHERE e.verification_id = v.id AND e.status IN ('pending', 'waiting_member')) AS Pending,
                (SELECT COUNT(*) FROM decisions d WHERE d.verification_id = v.id
                    AND d.outcome NOT IN ('granted', 'duplicate', 'pending_member', 'unresolved_member', 'revoked', 'revoked_reverify',
                        'revoked_holdings', 'regranted', 'recheck_paused')) AS Rejected
            FROM verifications v WHERE v.guild_id = @guildId
            """, new { guildId }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.VerificationId);
    }

    /// <summary>The roles a verification currently has granted, oldest first.</summary>
    public Task<IReadOnlyList<GrantRecord>> ActiveGrantsForVerificationAsync(string verificationId, CancellationToken cancellationToken) =>
        GrantsAsync("g.verification_id = @verificationId AND g.status = 'granted'", new { verificationId }, cancellationToken);

    /// <summary>Every grant a member has had in a guild (granted or revoked), newest first.</summary>
    public Task<IReadOnlyList<GrantRecord>> GrantsForMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken) =>
        GrantsAsync("g.guild_id = @guildId AND g.user_id = @userId", new { guildId, userId }, cancellationToken);

    /// <summary>The wallets linked to a member in a guild.</summary>
    public async Task<IReadOnlyList<WalletLink>> WalletLinksForMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<WalletLink>(new CommandDefinition("""
            SELECT wallet_address AS WalletAddress, verification_id AS VerificationId, linked_at AS LinkedAt
            FROM wallet_links WHERE guild_id = @guildId AND user_id = @userId ORDER BY linked_at
            """, new { guildId, userId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Marks a grant revoked (its role was removed or is gone) and logs the decision, in one transaction.</summary>
    public async Task RecordRevocationAsync(GrantRecord grant, string reason, CancellationToken cancellationToken)
    {
        var now = Database.Format(time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE role_grants SET status = 'revoked', revoked_at = @now WHERE id = @Id;
            -- An admin's revoke ends the holdings re-checks too (else a re-check would give the role back): verifying again starts them.
            DELETE FROM holdings_members WHERE verification_id = @VerificationId AND user_id = @UserId;
            DELETE FROM holdings_wallets WHERE verification_id = @VerificationId AND user_id = @UserId;
            INSERT INTO decisions (at, verification_id, guild_id, event_id, user_id, wallet, outcome, reason)
            VALUES (@now, @VerificationId, @GuildId, NULL, @UserId, @wallet, 'revoked', @reason);
            """,
            new { grant.Id, grant.VerificationId, grant.GuildId, grant.UserId, wallet = WalletAddresses.Shorten(grant.WalletAddress), reason, now },
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Decision revoked for verification {VerificationId}, member {UserId}, guild {GuildId}: {Reason}",
            grant.VerificationId, grant.UserId, grant.GuildId, reason);
    }

    /// <summary>Removes a member's wallet links in a guild, so the wallet may verify for another member; returns how many.</summary>
    public async Task<int> UnlinkWalletsAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM wallet_links WHERE guild_id = @guildId AND user_id = @userId", new { guildId, userId }, cancellationToken: cancellationToken));
    }

    private async Task<IReadOnlyList<GrantRecord>> GrantsAsync(string where, object args, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // RoleHeldElsewhere: another enabled verification granted the member the same role, so removing it would take that away too.
        var rows = await connection.QueryAsync<GrantRecord>(new CommandDefinition($"""
            SELECT g.id, g.verification_id AS VerificationId, g.guild_id AS GuildId, g.role_id AS RoleId, g.user_id AS UserId,
                   g.wallet_address AS WalletAddress, g.status, g.granted_at AS GrantedAt, g.revoked_at AS RevokedAt,
                   EXISTS (SELECT 1 FROM role_grants o JOIN verifications v ON v.id = o.verification_id
                           WHERE o.guild_id = g.guild_id AND o.user_id = g.user_id AND o.role_id = g.role_id
                             AND o.status = 'granted' AND o.id <> g.id AND v.enabled = 1) AS RoleHeldElsewhere
            FROM role_grants g WHERE {where}
            ORDER BY g.granted_at DESC, g.id DESC
            """, args, cancellationToken: cancellationToken));
        return rows.ToList();
    }
}

/// <summary>A role a verification granted a member, as stored in role_grants.</summary>
public sealed record GrantRecord
{
    public long Id { get; init; }
    public string VerificationId { get; init; } = "";
    public ulong GuildId { get; init; }
    public ulong RoleId { get; init; }
    public ulong UserId { get; init; }
    public string WalletAddress { get; init; } = "";
    public string Status { get; init; } = "";
    public DateTimeOffset GrantedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public bool RoleHeldElsewhere { get; init; }
}

/// <summary>A wallet linked to a member in a guild (one wallet, one member).</summary>
public sealed record WalletLink
{
    public string WalletAddress { get; init; } = "";
    public string VerificationId { get; init; } = "";
    public DateTimeOffset LinkedAt { get; init; }
}

/// <summary>Counts shown by /walver list.</summary>
public sealed record VerificationCounts
{
    public string VerificationId { get; init; } = "";
    public int Granted { get; init; }
    public int Pending { get; init; }
    public int Rejected { get; init; }
}
