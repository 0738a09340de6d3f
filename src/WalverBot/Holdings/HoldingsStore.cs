using System.Globalization;
using Dapper;
using WalverBot.Grants;
using WalverBot.Storage;
using WalverBot.Verifications;

namespace WalverBot.Holdings;

/// <summary>A linked wallet of a verification, with what its last check read.</summary>
public sealed record HeldWallet
{
    public string VerificationId { get; init; } = "";
    public ulong GuildId { get; init; }
    public ulong UserId { get; init; }
    public string WalletAddress { get; init; } = "";
    public string? Amount { get; init; }
    public long? BlockOrSlot { get; init; }
    public DateTimeOffset? CheckedAt { get; init; }
    public DateTimeOffset NextCheckAt { get; init; }

    public decimal? AmountValue => Amount is null ? null : decimal.Parse(Amount, CultureInfo.InvariantCulture);
}

/// <summary>Per member and verification: the roles it holds for them, the ones holdings took away, the first strike.</summary>
public sealed record MemberHolding
{
    public string VerificationId { get; init; } = "";
    public ulong GuildId { get; init; }
    public ulong UserId { get; init; }
    public string Roles { get; init; } = "";
    public string RevokedRoles { get; init; } = "";
    public DateTimeOffset? StrikeAt { get; init; }

    public HashSet<ulong> RoleSet => RoleIds.Parse(Roles);
    public HashSet<ulong> RevokedSet => RoleIds.Parse(RevokedRoles);
}

/// <summary>The breaker's pause of a verification and the last block/slot a pass acted on.</summary>
public sealed record RecheckState
{
    public string? PausedReason { get; init; }
    public DateTimeOffset? PausedAt { get; init; }
    public long? LastBlock { get; init; }

    public bool IsPaused => PausedAt is not null;
}

/// <summary>A removal decided and recorded, whose DELETE may not have reached Discord yet.</summary>
public sealed record PendingRemoval
{
    public long Id { get; init; }
    public string VerificationId { get; init; } = "";
    public ulong GuildId { get; init; }
    public ulong UserId { get; init; }
    public ulong RoleId { get; init; }
    public string Reason { get; init; } = "";
}

/// <summary>One wallet's fresh read.</summary>
public sealed record WalletRead(string Wallet, decimal Amount, ulong BlockOrSlot);

/// <summary>Everything one check changes for one member, written in one transaction.</summary>
public sealed record MemberUpdate(
    string VerificationId, ulong GuildId, ulong UserId,
    IReadOnlyList<WalletRead> Reads,
    IReadOnlySet<ulong> Roles, IReadOnlySet<ulong> RevokedRoles, DateTimeOffset? StrikeAt,
    IReadOnlyDictionary<string, DateTimeOffset> NextChecks,
    IReadOnlyList<Decision> Decisions, string DecisionWallet,
    IReadOnlyList<(ulong RoleId, string Reason)> Removals);

/// <summary>A row of <c>/walver holders</c>.</summary>
public sealed record HolderRow(ulong UserId, IReadOnlyList<HeldWallet> Wallets, decimal? Amount, IReadOnlySet<ulong> Roles);

/// <summary>Storage of the re-check engine (tables of migration 8). Each method is one short connection.</summary>
public sealed class HoldingsStore(Database database, TimeProvider time)
{
    private const string WalletColumns = """
        verification_id AS VerificationId, guild_id AS GuildId, user_id AS UserId, wallet_address AS WalletAddress,
        amount, block_or_slot AS BlockOrSlot, checked_at AS CheckedAt, next_check_at AS NextCheckAt
        """;

    private const string MemberColumns = """
        verification_id AS VerificationId, guild_id AS GuildId, user_id AS UserId, roles, revoked_roles AS RevokedRoles, strike_at AS StrikeAt
        """;

    /// <summary>Migration 8's code step: the taken-over wallets get their point in a one-day interval (the default).</summary>
    public static async Task ScheduleTakenOverAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction)
    {
        var rows = await connection.QueryAsync<(string VerificationId, string Wallet)>(
            "SELECT verification_id, wallet_address FROM holdings_wallets WHERE next_check_at = ''", transaction: transaction);
        var now = DateTimeOffset.UtcNow;
        foreach (var (verificationId, wallet) in rows)
        {
            await connection.ExecuteAsync(
                "UPDATE holdings_wallets SET next_check_at = @next WHERE verification_id = @verificationId AND wallet_address = @wallet",
                new { next = Database.Format(HoldingsSchedule.NextCheck(verificationId, wallet, now, TimeSpan.FromDays(1))), verificationId, wallet },
                transaction);
        }
    }

    /// <summary>
    /// Records a wallet and the roles granted with it, in the grant's transaction: the wallet joins the re-checks at its
    /// point of the interval, and the member's roles of this verification include <paramref name="granted"/>.
    /// </summary>
    public static async Task RecordGrantAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, Verification verification, ulong userId,
        string wallet, IReadOnlyList<WalletRead> reads, IReadOnlySet<ulong> granted, DateTimeOffset now, TimeSpan interval)
    {
        wallet = KnownChains.NormalizeAddress(wallet);
        var at = Database.Format(now);
        await connection.ExecuteAsync("""
            INSERT INTO holdings_wallets (verification_id, guild_id, user_id, wallet_address, next_check_at)
            VALUES (@Id, @GuildId, @userId, @wallet, @next)
            ON CONFLICT (verification_id, wallet_address) DO UPDATE SET user_id = excluded.user_id, guild_id = excluded.guild_id
            """,
            new { verification.Id, verification.GuildId, userId, wallet, next = Database.Format(HoldingsSchedule.NextCheck(verification.Id, wallet, now, interval)) },
            transaction);
        foreach (var read in reads)
        {
            await connection.ExecuteAsync("""
                UPDATE holdings_wallets SET amount = @amount, block_or_slot = @block, checked_at = @at
                WHERE verification_id = @Id AND wallet_address = @wallet
                """,
                new { verification.Id, wallet = KnownChains.NormalizeAddress(read.Wallet), amount = HoldingsTiers.Format(read.Amount), block = (long)read.BlockOrSlot, at },
                transaction);
        }

        var existing = await connection.QuerySingleOrDefaultAsync<MemberHolding>(
            $"SELECT {MemberColumns} FROM holdings_members WHERE verification_id = @Id AND user_id = @userId",
            new { verification.Id, userId }, transaction);
        var roles = existing?.RoleSet ?? [];
        var revoked = existing?.RevokedSet ?? [];
        roles.UnionWith(granted);
        revoked.ExceptWith(granted);
        await connection.ExecuteAsync("""
            INSERT INTO holdings_members (verification_id, guild_id, user_id, roles, revoked_roles)
            VALUES (@Id, @GuildId, @userId, @roles, @revoked)
            ON CONFLICT (verification_id, user_id) DO UPDATE SET roles = excluded.roles, revoked_roles = excluded.revoked_roles,
                strike_at = CASE WHEN @clearStrike THEN NULL ELSE holdings_members.strike_at END
            """,
            new { verification.Id, verification.GuildId, userId, roles = RoleIds.Format(roles), revoked = RoleIds.Format(revoked), clearStrike = reads.Count > 0 },
            transaction);
    }

    /// <summary>Verifications with at least one wallet due by <paramref name="now"/> and no pause.</summary>
    public async Task<IReadOnlyList<string>> DueVerificationsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT w.verification_id FROM holdings_wallets w
            WHERE w.next_check_at <= @now
              AND NOT EXISTS (SELECT 1 FROM holdings_verifications h WHERE h.verification_id = w.verification_id AND h.paused_at IS NOT NULL)
            """, new { now = Database.Format(now) }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Moves the due wallets of a verification that is not re-checked (no gate, no RPC endpoint) one interval on, so they are not looked at every tick.</summary>
    public async Task PostponeAsync(string verificationId, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE holdings_wallets SET next_check_at = @until WHERE verification_id = @verificationId AND next_check_at <= @now",
            new { verificationId, now = Database.Format(now), until = Database.Format(until) }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<HeldWallet>> WalletsAsync(string verificationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<HeldWallet>(new CommandDefinition(
            $"SELECT {WalletColumns} FROM holdings_wallets WHERE verification_id = @verificationId ORDER BY user_id, wallet_address",
            new { verificationId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>The member's wallets of one verification (several may be linked to one member).</summary>
    public async Task<IReadOnlyList<HeldWallet>> WalletsOfMemberAsync(string verificationId, ulong userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<HeldWallet>(new CommandDefinition(
            $"SELECT {WalletColumns} FROM holdings_wallets WHERE verification_id = @verificationId AND user_id = @userId ORDER BY wallet_address",
            new { verificationId, userId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Every wallet of a member in a guild, over all verifications (for /walver status).</summary>
    public async Task<IReadOnlyList<HeldWallet>> WalletsOfMemberInGuildAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<HeldWallet>(new CommandDefinition(
            $"SELECT {WalletColumns} FROM holdings_wallets WHERE guild_id = @guildId AND user_id = @userId ORDER BY verification_id, wallet_address",
            new { guildId, userId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    public async Task<IReadOnlyList<MemberHolding>> MembersAsync(string verificationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<MemberHolding>(new CommandDefinition(
            $"SELECT {MemberColumns} FROM holdings_members WHERE verification_id = @verificationId",
            new { verificationId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    public async Task<IReadOnlyList<MemberHolding>> MembershipsOfMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<MemberHolding>(new CommandDefinition(
            $"SELECT {MemberColumns} FROM holdings_members WHERE guild_id = @guildId AND user_id = @userId",
            new { guildId, userId }, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    public async Task<RecheckState> StateAsync(string verificationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<RecheckState>(new CommandDefinition("""
            SELECT paused_reason AS PausedReason, paused_at AS PausedAt, last_block AS LastBlock
            FROM holdings_verifications WHERE verification_id = @verificationId
            """, new { verificationId }, cancellationToken: cancellationToken)) ?? new RecheckState();
    }

    /// <summary>Pauses removals of a verification and logs the decision, in one transaction.</summary>
    public async Task PauseAsync(Verification verification, Decision decision, CancellationToken cancellationToken)
    {
        var now = Database.Format(time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO holdings_verifications (verification_id, paused_reason, paused_at) VALUES (@Id, @reason, @now)
            ON CONFLICT (verification_id) DO UPDATE SET paused_reason = excluded.paused_reason, paused_at = excluded.paused_at
            """, new { verification.Id, reason = decision.Reason, now }, transaction, cancellationToken: cancellationToken));
        await GrantLedger.InsertDecisionAsync(connection, transaction, verification.Id, verification.GuildId, null, null, "", decision, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Lifts a pause and remembers the newest block/slot acted on.</summary>
    public async Task FinishPassAsync(string verificationId, ulong? lastBlock, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO holdings_verifications (verification_id, last_block) VALUES (@verificationId, @block)
            ON CONFLICT (verification_id) DO UPDATE SET paused_reason = NULL, paused_at = NULL,
                last_block = CASE WHEN COALESCE(excluded.last_block, 0) > COALESCE(holdings_verifications.last_block, 0)
                    THEN excluded.last_block ELSE COALESCE(holdings_verifications.last_block, 0) END
            """, new { verificationId, block = (long?)lastBlock }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Writes one member's check: reads, roles, strike, schedules, decisions, and the removals to send, all in one
    /// transaction; the removals come back with ids to clear once Discord answered.
    /// </summary>
    /// <summary>
    /// Whether another enabled verification gives the member this role: as its own role (role_grants) or as a tier role
    /// its re-checks hold (holdings_members.roles, comma-separated ids).
    /// </summary>
    public async Task<bool> RoleHeldElsewhereAsync(ulong guildId, ulong userId, ulong roleId, string verificationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            SELECT EXISTS (SELECT 1 FROM role_grants g JOIN verifications v ON v.id = g.verification_id
                           WHERE g.guild_id = @guildId AND g.user_id = @userId AND g.role_id = @roleId AND g.status = 'granted'
                             AND g.verification_id <> @verificationId AND v.enabled = 1)
                OR EXISTS (SELECT 1 FROM holdings_members m JOIN verifications v ON v.id = m.verification_id
                           WHERE m.guild_id = @guildId AND m.user_id = @userId AND m.verification_id <> @verificationId AND v.enabled = 1
                             AND ',' || m.roles || ',' LIKE '%,' || @role || ',%')
            """,
            new { guildId, userId, roleId, role = roleId.ToString(CultureInfo.InvariantCulture), verificationId },
            cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<PendingRemoval>> ApplyAsync(MemberUpdate update, CancellationToken cancellationToken)
    {
        var now = Database.Format(time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var read in update.Reads)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE holdings_wallets SET amount = @amount, block_or_slot = @block, checked_at = @now
                WHERE verification_id = @VerificationId AND wallet_address = @wallet
                """,
                new { update.VerificationId, wallet = read.Wallet, amount = HoldingsTiers.Format(read.Amount), block = (long)read.BlockOrSlot, now },
                transaction, cancellationToken: cancellationToken));
        }

        foreach (var (wallet, next) in update.NextChecks)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE holdings_wallets SET next_check_at = @next WHERE verification_id = @VerificationId AND wallet_address = @wallet",
                new { update.VerificationId, wallet, next = Database.Format(next) }, transaction, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO holdings_members (verification_id, guild_id, user_id, roles, revoked_roles, strike_at)
            VALUES (@VerificationId, @GuildId, @UserId, @roles, @revoked, @strike)
            ON CONFLICT (verification_id, user_id) DO UPDATE SET roles = excluded.roles, revoked_roles = excluded.revoked_roles, strike_at = excluded.strike_at
            """,
            new
            {
                update.VerificationId, update.GuildId, update.UserId, roles = RoleIds.Format(update.Roles), revoked = RoleIds.Format(update.RevokedRoles),
                strike = update.StrikeAt is { } s ? Database.Format(s) : null,
            },
            transaction, cancellationToken: cancellationToken));

        // role_grants (what /walver list counts) follows whether the member holds any role of this verification.
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE role_grants SET status = CASE WHEN @active THEN 'granted' ELSE 'revoked' END,
                revoked_at = CASE WHEN @active THEN NULL ELSE COALESCE(revoked_at, @now) END
            WHERE verification_id = @VerificationId AND user_id = @UserId AND status IN ('granted', 'revoked')
            """, new { update.VerificationId, update.UserId, active = update.Roles.Count > 0, now }, transaction, cancellationToken: cancellationToken));

        foreach (var decision in update.Decisions)
        {
            await GrantLedger.InsertDecisionAsync(connection, transaction, update.VerificationId, update.GuildId, null, update.UserId,
                update.DecisionWallet, decision, now, cancellationToken);
        }

        var removals = new List<PendingRemoval>();
        foreach (var (roleId, reason) in update.Removals)
        {
            var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
                INSERT INTO holdings_removals (verification_id, guild_id, user_id, role_id, reason, created_at)
                VALUES (@VerificationId, @GuildId, @UserId, @roleId, @reason, @now) RETURNING id
                """, new { update.VerificationId, update.GuildId, update.UserId, roleId, reason, now }, transaction, cancellationToken: cancellationToken));
            removals.Add(new PendingRemoval { Id = id, VerificationId = update.VerificationId, GuildId = update.GuildId, UserId = update.UserId, RoleId = roleId, Reason = reason });
        }

        await transaction.CommitAsync(cancellationToken);
        return removals;
    }

    /// <summary>Removals recorded whose DELETE has not been confirmed (a crash or an outage in between).</summary>
    public async Task<IReadOnlyList<PendingRemoval>> PendingRemovalsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<PendingRemoval>(new CommandDefinition("""
            SELECT id, verification_id AS VerificationId, guild_id AS GuildId, user_id AS UserId, role_id AS RoleId, reason
            FROM holdings_removals ORDER BY id
            """, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    public async Task RemovalSentAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM holdings_removals WHERE id = @id", new { id }, cancellationToken: cancellationToken));
    }
}

/// <summary>Role ids stored as a comma-separated list.</summary>
public static class RoleIds
{
    public static HashSet<ulong> Parse(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(t => ulong.Parse(t, CultureInfo.InvariantCulture)).ToHashSet();

    public static string Format(IEnumerable<ulong> roles) => string.Join(',', roles.Order().Select(r => r.ToString(CultureInfo.InvariantCulture)));
}
