using System.Globalization;
using Dapper;
using WalverBot.Commands;
using WalverBot.Discord.Rest;
using WalverBot.Grants;
using WalverBot.Operations;
using WalverBot.Security;
using WalverBot.Storage;

namespace WalverBot.Verifications;

/// <summary>What one expiry pass did, and when the next grant falls due (null: none is waiting).</summary>
public sealed record ReverifyPass(int Removed, int Kept, int Gone, int Failed, DateTimeOffset? NextDue);

/// <summary>
/// ReverifyAfter: removes the role of a verification without a token gate once the member's last verification of it is
/// older than the period. The state is role_grants itself (granted_at moves on every verification, status leaves
/// 'granted' once the role is gone), so a restart resumes where it stopped. The role is removed before the row changes:
/// after a crash between the two the next pass sends the removal again (Discord answers 204 for a role the member no
/// longer has) and records one decision; the row changes only if no new verification arrived meanwhile.
/// </summary>
public sealed class ReverifyExpiry(
    Database database,
    VerificationStore store,
    IDiscordRestClient discord,
    IAdminNotifier notifier,
    TimeProvider time,
    ILogger<ReverifyExpiry> logger)
{
    /// <summary>Grants read per query; a pass goes on until none is due.</summary>
    public const int BatchSize = 200;

    public async Task<ReverifyPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        int removed = 0, kept = 0, gone = 0, failed = 0;
        DateTimeOffset? nextDue = null;
        foreach (var id in await ExpiringVerificationIdsAsync(cancellationToken))
        {
            // A token gate's roles follow holdings instead; configuration refuses the pair, this guards older rows.
            if (await store.FindAsync(id, cancellationToken) is not { ReverifyAfter: { } period, IsTokenGated: false } verification)
            {
                continue;
            }

            var stopped = false;
            while (!stopped)
            {
                var cutoff = time.GetUtcNow() - period;
                var due = await DueGrantsAsync(verification.Id, cutoff, cancellationToken);
                foreach (var grant in due)
                {
                    switch (await ExpireAsync(verification, period, grant, cancellationToken))
                    {
                        case Result.Removed: removed++; break;
                        case Result.Kept: kept++; break;
                        case Result.Gone: gone++; break;
                        case Result.Renewed: break;
                        default: failed++; stopped = true; break;
                    }

                    if (stopped)
                    {
                        break;
                    }
                }

                stopped |= due.Count < BatchSize;
            }

            if (await OldestGrantAsync(verification.Id, cancellationToken) is { } oldest)
            {
                var at = oldest + period;
                nextDue = nextDue is null || at < nextDue ? at : nextDue;
            }
        }

        if (removed + kept + gone + failed > 0)
        {
            logger.LogInformation("Re-verify expiry: {Removed} role(s) removed, {Kept} kept (granted by another verification too), {Gone} already gone, {Failed} failed",
                removed, kept, gone, failed);
        }

        return new ReverifyPass(removed, kept, gone, failed, nextDue);
    }

    private enum Result
    {
        Removed,
        Kept,
        Gone,
        Renewed,
        Failed,
    }

    private async Task<Result> ExpireAsync(Verification verification, TimeSpan period, DueGrant grant, CancellationToken cancellationToken)
    {
        var lastVerified = DateTimeOffset.Parse(grant.GrantedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var why = $"not verified again within {Period(period)} (ReverifyAfter) of the last verification on {lastVerified.UtcDateTime:yyyy-MM-dd HH:mm} UTC";
        var wallet = WalletAddresses.Shorten(grant.WalletAddress);
        Result result;
        string reason;
        if (grant.RoleHeldElsewhere != 0)
        {
            // Another enabled verification gave the member the same role: removing it would undo that one too.
            (result, reason) = (Result.Kept, $"{why}; role kept, another verification granted it too");
        }
        else
        {
            try
            {
                await discord.RemoveGuildMemberRoleAsync((ulong)grant.GuildId, (ulong)grant.UserId, (ulong)grant.RoleId,
                    $"WalverBot: verification {verification.Id} expired, last verified {lastVerified.UtcDateTime:yyyy-MM-dd}, re-verify every {Period(period)} (wallet {wallet})",
                    cancellationToken);
                (result, reason) = (Result.Removed, $"{why}: role removed; verifying again gives it back");
            }
            catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.UnknownMember or DiscordErrorCodes.UnknownUser or DiscordErrorCodes.UnknownRole)
            {
                (result, reason) = (Result.Gone, $"{why}; the member or role is no longer in the server");
            }
            catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.MissingPermissions or DiscordErrorCodes.MissingAccess)
            {
                logger.LogWarning("Cannot remove expired role {RoleId} of verification {VerificationId} in guild {GuildId}: Discord says Missing Permissions; give the bot Manage Roles and move its role above this one",
                    grant.RoleId, verification.Id, grant.GuildId);
                return Result.Failed;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Discord down or slow: the grant stays due and the next pass tries again.
                logger.LogWarning("Could not remove expired role {RoleId} from member {UserId} in guild {GuildId}: {Error}", grant.RoleId, grant.UserId, grant.GuildId, ex.Message);
                return Result.Failed;
            }
        }

        var decision = new Decision(Outcomes.RevokedReverify, reason);
        if (!await RecordAsync(verification, grant, decision, cancellationToken))
        {
            // The member verified again between the read and now: the new verification stands, so the role goes back.
            if (result == Result.Removed)
            {
                await discord.AddGuildMemberRoleAsync((ulong)grant.GuildId, (ulong)grant.UserId, (ulong)grant.RoleId,
                    $"WalverBot: verification {verification.Id} verified again while it expired (wallet {wallet})", cancellationToken);
            }

            return Result.Renewed;
        }

        logger.LogInformation("Decision {Outcome} for verification {VerificationId}, wallet {Wallet}, member {UserId}, guild {GuildId}: {Reason}",
            decision.Outcome, verification.Id, wallet, grant.UserId, grant.GuildId, reason);
        notifier.DecisionRecorded(new DecisionNotice((ulong)grant.GuildId, verification.Id, (ulong)grant.UserId, wallet, decision));
        return result;
    }

    /// <summary>Marks the grant revoked and logs the decision in one transaction, only if it is still the verification that was read.</summary>
    private async Task<bool> RecordAsync(Verification verification, DueGrant grant, Decision decision, CancellationToken cancellationToken)
    {
        var now = Database.Format(time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE role_grants SET status = 'revoked', revoked_at = @now
            WHERE id = @Id AND status = 'granted' AND granted_at = @GrantedAt
            """, new { grant.Id, grant.GrantedAt, now }, transaction, cancellationToken: cancellationToken));
        if (changed == 0)
        {
            return false;
        }

        await GrantLedger.InsertDecisionAsync(connection, transaction, verification.Id, (ulong)grant.GuildId, null,
            (ulong)grant.UserId, grant.WalletAddress, decision, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<IReadOnlyList<string>> ExpiringVerificationIdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM verifications WHERE reverify_after IS NOT NULL ORDER BY id", cancellationToken: cancellationToken))];
    }

    private async Task<IReadOnlyList<DueGrant>> DueGrantsAsync(string verificationId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // granted_at is fixed-width ISO 8601 UTC (Database.Format), so text order is time order.
        var rows = await connection.QueryAsync<DueGrant>(new CommandDefinition("""
            SELECT g.id AS Id, g.guild_id AS GuildId, g.role_id AS RoleId, g.user_id AS UserId, g.wallet_address AS WalletAddress,
                   g.granted_at AS GrantedAt,
                   EXISTS (SELECT 1 FROM role_grants o JOIN verifications v ON v.id = o.verification_id
                           WHERE o.guild_id = g.guild_id AND o.user_id = g.user_id AND o.role_id = g.role_id
                             AND o.status = 'granted' AND o.id <> g.id AND v.enabled = 1) AS RoleHeldElsewhere
            FROM role_grants g
            WHERE g.verification_id = @verificationId AND g.status = 'granted' AND g.granted_at <= @cutoff
            ORDER BY g.granted_at, g.id
            LIMIT @limit
            """, new { verificationId, cutoff = Database.Format(cutoff), limit = BatchSize }, cancellationToken: cancellationToken));
        return [.. rows];
    }

    private async Task<DateTimeOffset?> OldestGrantAsync(string verificationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var oldest = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT MIN(granted_at) FROM role_grants WHERE verification_id = @verificationId AND status = 'granted'",
            new { verificationId }, cancellationToken: cancellationToken));
        return oldest is null ? null : DateTimeOffset.Parse(oldest, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
    }

    /// <summary>"90 day(s)" for whole days, else the TimeSpan as configured (e.g. 12:00:00).</summary>
    public static string Period(TimeSpan period) =>
        period.Ticks % TimeSpan.TicksPerDay == 0
            ? $"{(period.Ticks / TimeSpan.TicksPerDay).ToString(CultureInfo.InvariantCulture)} day(s)"
            : period.ToString("c", CultureInfo.InvariantCulture);

    private sealed class DueGrant
    {
        public long Id { get; init; }
        public long GuildId { get; init; }
        public long RoleId { get; init; }
        public long UserId { get; init; }
        public string WalletAddress { get; init; } = "";
        public string GrantedAt { get; init; } = "";
        public long RoleHeldElsewhere { get; init; }
    }
}

/// <summary>Runs <see cref="ReverifyExpiry"/> when the next grant falls due, and at least every few minutes for new ones.</summary>
public sealed class ReverifyWorker(IServiceProvider services, TimeProvider time, ILogger<ReverifyWorker> logger, ScaleOut.IJobLeader? leader = null) : BackgroundService
{
    /// <summary>A grant made since the last pass is due no sooner than its period, so a few minutes late is the worst case.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    /// <summary>After a failure (Discord or the database), so a grant still due is not retried in a tight loop.</summary>
    public static readonly TimeSpan MinWait = TimeSpan.FromMinutes(1);

    /// <summary>On one instance at a time (<see cref="ScaleOut.OnceOnlyJobs.ReverifyExpiry"/>).</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ScaleOut.OnceOnlyJobRunner.RunOnceOnlyAsync(leader ?? new ScaleOut.ProcessJobLeader(), ScaleOut.OnceOnlyJobs.ReverifyExpiry, RunAsync, time, logger, stoppingToken);

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Waits count from the pass's start: clock time that passes during the pass must not push a due time further.
            var started = time.GetUtcNow();
            var due = started + MaxWait;
            try
            {
                // A scope per pass: the REST client is a typed HttpClient, meant to be short-lived.
                await using var scope = services.CreateAsyncScope();
                var pass = await scope.ServiceProvider.GetRequiredService<ReverifyExpiry>().RunOnceAsync(stoppingToken);
                if (pass.NextDue is { } nextDue)
                {
                    due = nextDue < started + MinWait ? started + MinWait : nextDue > started + MaxWait ? started + MaxWait : nextDue;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Re-verify expiry pass failed, next try in {Wait}: {Error}", MinWait, ex.Message);
                due = time.GetUtcNow() + MinWait;
            }

            try
            {
                await time.DelayUntilAsync(due, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
