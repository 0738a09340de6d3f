using System.Net;
using Microsoft.Extensions.Options;
using WalverBot.Binding;
using WalverBot.Discord.Rest;
using WalverBot.Security;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Grants;

/// <summary>
/// Turns one stored webhook event into a decision, and when the decision is to grant, into a role assignment.
/// Safe to run again on the same event after a crash: every step before the final commit only reads, except
/// redeeming a one-time code, which the same event may redeem again; and Discord's role PUT is idempotent.
/// </summary>
public sealed class GrantProcessor(
    VerificationStore verifications,
    GrantLedger ledger,
    WebhookInbox inbox,
    IGuildRoleSource guildRoles,
    IDiscordRestClient discord,
    IWalletSignatureVerifier signatures,
    IdentityCodes identityCodes,
    Members.MemberResolver memberResolver,
    Members.PendingMembers pendingMembers,
    IOptions<SecurityOptions> securityOptions,
    IOptions<GrantOptions> grantOptions,
    IOptions<RoleOptions> roleOptions,
    TimeProvider time,
    ILogger<GrantProcessor> logger,
    Chains.IChainReader chainReader,
    Holdings.HoldingsStore holdings,
    IOptions<Holdings.RecheckOptions> recheckOptions)
{
    /// <summary>
    /// Unexpected exceptions an event may meet before it is finished as <see cref="Outcomes.InternalError"/>. With the
    /// backoff (2, 4, 8, 16 s) a passing fault (a database busy past its timeout) gets half a minute to clear.
    /// </summary>
    public const int MaxInternalErrors = 5;

    /// <summary>How often an event parked by a rejected token looks again (locally: the REST client no longer sends).</summary>
    public static readonly TimeSpan TokenRecheck = TimeSpan.FromMinutes(1);

    public async Task ProcessAsync(InboxEvent inboxEvent, CancellationToken cancellationToken)
    {
        try
        {
            await DecideAsync(inboxEvent, cancellationToken);
        }
        catch (DiscordRestException ex) when (ex.IsTransient)
        {
            await RetryLaterAsync(inboxEvent, ex, cancellationToken);
        }
        catch (DiscordRestException ex) when (ex.StatusCode == HttpStatusCode.Unauthorized)
        {
            await WaitForTokenAsync(inboxEvent, cancellationToken);
        }
        catch (DiscordRestException ex)
        {
            await RecordDiscordRefusalAsync(inboxEvent, ex, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever else went wrong is this event's problem only: counted, retried with backoff, then finished.
            await RecordInternalErrorAsync(inboxEvent, ex, cancellationToken);
        }
    }

    private async Task RecordInternalErrorAsync(InboxEvent inboxEvent, Exception ex, CancellationToken cancellationToken)
    {
        // The id ties the admin's decision log (which must not carry exception text) to the full error in the log.
        var errorId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var failures = inboxEvent.InternalErrors + 1;
        var error = $"internal error {errorId} ({ex.GetType().Name})";
        if (failures >= MaxInternalErrors)
        {
            logger.LogError(ex, "Event {EventId} of verification {VerificationId} failed with internal error {ErrorId}; giving up after {Failures} internal errors",
                inboxEvent.Id, inboxEvent.VerificationId, errorId, failures);
            await ledger.RecordOutcomeAsync(inboxEvent, EventStatus.Failed,
                Decision.Reject(Outcomes.InternalError, $"the bot failed on this delivery {failures} times (error id {errorId} in its log); nothing was granted"),
                null, error, null, cancellationToken);
            return;
        }

        var delay = RetryDelay.For(failures, null);
        logger.LogError(ex, "Event {EventId} of verification {VerificationId} failed with internal error {ErrorId} ({Failures} of {MaxFailures}); retrying in {Delay}",
            inboxEvent.Id, inboxEvent.VerificationId, errorId, failures, MaxInternalErrors, delay);
        await inbox.RescheduleAsync(inboxEvent.Id, time.GetUtcNow() + delay, error, cancellationToken, internalError: true);
    }

    private async Task DecideAsync(InboxEvent inboxEvent, CancellationToken cancellationToken)
    {
        var verification = await verifications.FindAsync(inboxEvent.VerificationId, cancellationToken);
        if (verification is null)
        {
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.VerificationDisabled, "the verification no longer exists"), cancellationToken);
            return;
        }

        if (!WalverWebhookParser.TryParse(System.Text.Encoding.UTF8.GetBytes(inboxEvent.Payload), out var webhook, out var error))
        {
            // Cannot happen for events stored by this build (they were parsed before storing); kept for old rows.
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.UnreadablePayload, $"stored payload is unreadable: {error}"), cancellationToken);
            return;
        }

        if (GrantGate.Check(verification, webhook!) is { } rejected)
        {
            await FinishAsync(inboxEvent, rejected, cancellationToken);
            return;
        }

        if (CheckSignature(verification, webhook!) is { } badSignature)
        {
            await FinishAsync(inboxEvent, badSignature, cancellationToken);
            return;
        }

        var typed = MemberQuery.Parse(webhook!.DiscordName);
        MemberQuery query;
        if (verification.Binding == Bindings.Code)
        {
            // The account that asked /verify for the code gets the role, whatever username was typed.
            var code = await identityCodes.RedeemAsync(webhook.CustomFields.GetValueOrDefault(Bindings.CodeField), verification.GuildId, inboxEvent.Id, cancellationToken);
            if (code is CodeCheck.Rejected rejectedCode)
            {
                await FinishAsync(inboxEvent, Decision.Reject(Outcomes.CodeRejected, rejectedCode.Reason), cancellationToken);
                return;
            }

            query = new MemberQuery.ById(((CodeCheck.Valid)code).UserId);
        }
        else if (typed is MemberQuery.Invalid invalid)
        {
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.InvalidUsername, invalid.Reason), cancellationToken);
            return;
        }
        else
        {
            query = typed;
        }

        // Taken before the lookup: a member who joins after it answered is caught when the wait is committed.
        var joinsMark = pendingMembers.Mark();
        var member = await memberResolver.ResolveAsync(verification.GuildId, query, cancellationToken);
        switch (member)
        {
            case MemberMatcher.Result.Ambiguous ambiguous:
                await FinishAsync(inboxEvent, Decision.Reject(Outcomes.AmbiguousMember,
                    $"{ambiguous.Count} members have that username; ask the member to type their user id"), cancellationToken);
                return;
            case MemberMatcher.Result.NotFound:
                await WaitForMemberAsync(inboxEvent, query, cancellationToken);
                await pendingMembers.WakeIfJoinedSinceAsync(joinsMark, inboxEvent, cancellationToken);
                return;
            case MemberMatcher.Result.Unresolved unresolved:
                // Not a silent wait: the member may be in the server already. A join or the periodic re-check still grants.
                logger.LogWarning("Event {EventId} of verification {VerificationId}: {Reason}", inboxEvent.Id, inboxEvent.VerificationId, unresolved.Reason);
                await ledger.RecordOutcomeAsync(inboxEvent, EventStatus.WaitingMember, Decision.Reject(Outcomes.UnresolvedMember, unresolved.Reason),
                    null, null, time.GetUtcNow() + grantOptions.Value.PendingTtl, cancellationToken);
                await pendingMembers.WakeIfJoinedSinceAsync(joinsMark, inboxEvent, cancellationToken);
                return;
        }

        var found = ((MemberMatcher.Result.Found)member).Member;
        var userId = found.User.Id;

        if (found.User.Bot)
        {
            // Verification is for people; a bot (this one included) cannot have proved it owns a wallet.
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.BotAccount,
                $"member {userId} is a bot account; roles are granted to people only"), cancellationToken, userId);
            return;
        }

        if (grantOptions.Value.OneMemberPerWallet &&
            await ledger.LinkWalletAsync(verification.GuildId, inboxEvent.WalletAddress, userId, verification.Id, cancellationToken) is var linked && linked != userId)
        {
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.WalletConflict,
                $"the wallet is already linked to member {linked} in this server"), cancellationToken, userId);
            return;
        }

        var view = await guildRoles.GetAsync(verification.GuildId, cancellationToken);
        if (RoleSafety.Check(verification.GuildId, verification.RoleId, view.Roles, view.BotRoleIds, roleOptions.Value.AllowPrivileged) is { } unsafeReason)
        {
            guildRoles.Invalidate(verification.GuildId); // the admin may fix it before the next event
            logger.LogWarning("Verification {VerificationId} cannot grant role {RoleId} in guild {GuildId}: {Reason}",
                verification.Id, verification.RoleId, verification.GuildId, unsafeReason);
            await ledger.RecordOutcomeAsync(inboxEvent, EventStatus.Failed, Decision.Reject(Outcomes.RoleUnsafe, unsafeReason),
                userId, unsafeReason, null, cancellationToken);
            return;
        }

        var chain = await ChainCheckAsync(inboxEvent, verification, webhook, userId, cancellationToken);
        if (chain is null)
        {
            return;
        }

        var membership = (await holdings.MembershipsOfMemberAsync(verification.GuildId, userId, cancellationToken))
            .FirstOrDefault(m => m.VerificationId == verification.Id);
        var now = time.GetUtcNow();
        var alsoWithin = (System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction) =>
            Holdings.HoldingsStore.RecordGrantAsync(connection, transaction, verification, userId, inboxEvent.WalletAddress, chain.Reads,
                chain.Roles, now, recheckOptions.Value.Interval);
        var missing = chain.Roles.Where(r => !found.Roles.Contains(r)).ToList();
        if (missing.Count == 0)
        {
            await ledger.RecordGrantAsync(inboxEvent, verification, userId,
                new Decision(Outcomes.Granted, $"the member already had the role{chain.Describe}"), cancellationToken, alsoWithin);
            return;
        }

        foreach (var roleId in missing)
        {
            if (roleId != verification.RoleId &&
                RoleSafety.Check(verification.GuildId, roleId, view.Roles, view.BotRoleIds, roleOptions.Value.AllowPrivileged) is { } tierUnsafe)
            {
                logger.LogWarning("Verification {VerificationId} cannot give tier role {RoleId} in guild {GuildId}: {Reason}", verification.Id, roleId, verification.GuildId, tierUnsafe);
                continue;
            }

            await discord.AddGuildMemberRoleAsync(verification.GuildId, userId, roleId,
                AuditReason(verification, inboxEvent.WalletAddress), cancellationToken);
        }

        if (inboxEvent.Attempts > 0)
        {
            // A retry went through: Discord is back, so the other events waiting out a backoff need not wait longer.
            await inbox.RetryNowAsync(cancellationToken);
        }

        // Given back after a re-check took it away: the admin reads that holdings came back, not a first verification.
        var outcome = membership is not null && missing.Any(membership.RevokedSet.Contains) ? Outcomes.Regranted : Outcomes.Granted;
        await ledger.RecordGrantAsync(inboxEvent, verification, userId,
            new Decision(outcome, $"wallet verified; role assigned{chain.Describe}{TypedNameMismatch(verification, typed, found)}"), cancellationToken, alsoWithin);
    }

    /// <summary>The roles to grant, with what the chain showed; null when the event was decided or rescheduled here.</summary>
    private sealed record ChainGrant(IReadOnlySet<ulong> Roles, IReadOnlyList<Holdings.WalletRead> Reads, string Describe);

    /// <summary>
    /// Where the verification is token-gated and the chain has an RPC endpoint, the bot reads the balance itself: Walver's
    /// "passed" is necessary, not sufficient. The amount that counts is the sum over the member's linked wallets of this
    /// verification, and only the tiers it earns are granted. Without an endpoint the payload's check (GrantGate) stands.
    /// </summary>
    private async Task<ChainGrant?> ChainCheckAsync(InboxEvent inboxEvent, Verification verification, WalverWebhook webhook, ulong userId, CancellationToken cancellationToken)
    {
        if (!Holdings.HoldingsTiers.IsRechecked(verification, chainReader))
        {
            return new ChainGrant(new HashSet<ulong> { verification.RoleId }, [], "");
        }

        var wallet = KnownChains.NormalizeAddress(inboxEvent.WalletAddress);
        var others = await holdings.WalletsOfMemberAsync(verification.Id, userId, cancellationToken);
        List<string> wallets = [wallet, .. others.Select(w => w.WalletAddress).Where(w => w != wallet)];
        Chains.HoldingsSnapshot snapshot;
        try
        {
            snapshot = await chainReader.ReadAsync(Holdings.HoldingsTiers.Token(verification), wallets, cancellationToken);
            if (snapshot.Amounts.Count != wallets.Count)
            {
                throw new Chains.ChainReadException(verification.Chain!, $"the chain answered {snapshot.Amounts.Count} amounts for {wallets.Count} wallets");
            }
        }
        catch (Chains.ChainReadException ex)
        {
            await ChainRetryLaterAsync(inboxEvent, ex, cancellationToken);
            return null;
        }

        var own = snapshot.Amounts[0].Amount;
        var sum = snapshot.Amounts.Sum(a => a.Amount);
        var block = snapshot.BlockOrSlot;
        if (webhook.TokenVerification is { } claim && claim.ActualAmount > own)
        {
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.TokenMismatch,
                $"the delivery claims {Holdings.HoldingsTiers.Format(claim.ActualAmount)} held, the chain shows {Holdings.HoldingsTiers.Format(own)} at block/slot {block}"),
                cancellationToken, userId);
            return null;
        }

        var earned = Holdings.HoldingsTiers.Earned(verification, sum);
        var over = wallets.Count == 1 ? "" : $" over {wallets.Count} linked wallets";
        if (!earned.Contains(verification.RoleId))
        {
            await FinishAsync(inboxEvent, Decision.Reject(Outcomes.NotPassed,
                $"the chain shows {Holdings.HoldingsTiers.Format(sum)} held{over} at block/slot {block}; the verification needs {Holdings.HoldingsTiers.Format(verification.MinAmount ?? 0m)}"),
                cancellationToken, userId);
            return null;
        }

        var tiers = earned.Count > 1 ? $", tier roles {string.Join(", ", earned.Where(r => r != verification.RoleId).Select(r => $"<@&{r}>"))}" : "";
        return new ChainGrant(earned,
            [.. wallets.Select((w, i) => new Holdings.WalletRead(w, snapshot.Amounts[i].Amount, block))],
            $"; the chain shows {Holdings.HoldingsTiers.Format(sum)} held{over} at block/slot {block}{tiers}");
    }

    /// <summary>A chain that cannot be read is like a Discord outage: the event is retried with backoff, never rejected, never granted on the payload alone.</summary>
    private Task ChainRetryLaterAsync(InboxEvent inboxEvent, Chains.ChainReadException ex, CancellationToken cancellationToken) =>
        RetryOrGiveUpAsync(inboxEvent, $"the chain could not be read ({ex.Message})", Outcomes.ChainUnavailable, ", nothing granted", null, cancellationToken);

    /// <summary>Security:Signatures — Enforce refuses a bad signature, Warn logs it and goes on, Off skips the check.</summary>
    private Decision? CheckSignature(Verification verification, WalverWebhook webhook)
    {
        var policy = securityOptions.Value.Signatures;
        if (policy == SignaturePolicy.Off)
        {
            return null;
        }

        var check = signatures.VerifyDelivery(webhook.Chain ?? verification.Chain, webhook.WalletAddress, webhook.Message, webhook.Signature, verification.Id);
        if (policy.AllowsGrant(check))
        {
            if (!check.IsValid)
            {
                logger.LogWarning("Signature check failed for verification {VerificationId}, wallet {Wallet} ({Reason}: {Detail}); granting anyway because Security:Signatures is Warn",
                    verification.Id, WalletAddresses.Shorten(webhook.WalletAddress), check.Reason, check.Detail);
            }

            return null;
        }

        return Decision.Reject(Outcomes.RejectedSignature, $"wallet signature rejected ({check.Reason}): {check.Detail}");
    }

    /// <summary>With code binding, notes (for the decision log) that the typed name pointed at someone else.</summary>
    private string TypedNameMismatch(Verification verification, MemberQuery typed, Discord.Models.GuildMember member)
    {
        var matches = typed switch
        {
            MemberQuery.ById byId => byId.UserId == member.User.Id,
            MemberQuery.ByUsername byName => MemberQuery.SameUsername(byName.Username, member.User.Username),
            _ => false,
        };
        if (verification.Binding != Bindings.Code || matches)
        {
            return "";
        }

        logger.LogWarning("Verification {VerificationId}: the typed Discord name does not match member {UserId}, who holds the code; the code decides",
            verification.Id, member.User.Id);
        return "; the typed Discord name names another account, so the one-time code decided";
    }

    public static string AuditReason(Verification verification, string walletAddress) =>
        $"WalverBot: wallet {WalletAddresses.Shorten(walletAddress)} verified (verification {verification.Id})";

    private Task FinishAsync(InboxEvent inboxEvent, Decision decision, CancellationToken cancellationToken, ulong? userId = null) =>
        ledger.RecordOutcomeAsync(inboxEvent, EventStatus.Done, decision, userId, null, null, cancellationToken);

    /// <param name="byId">Whether the member was looked up by user id (else by username), for the reason the admin reads.</param>
    private Task WaitForMemberAsync(InboxEvent inboxEvent, bool byId, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + grantOptions.Value.PendingTtl;
        return ledger.RecordOutcomeAsync(inboxEvent, EventStatus.WaitingMember,
            new Decision(Outcomes.PendingMember, $"no member with that {(byId ? "id" : "name")} is in the server yet; the role is granted if they join before {until:yyyy-MM-dd HH:mm} UTC"),
            null, null, until, cancellationToken);
    }

    private Task WaitForMemberAsync(InboxEvent inboxEvent, MemberQuery query, CancellationToken cancellationToken) =>
        WaitForMemberAsync(inboxEvent, query is MemberQuery.ById, cancellationToken);

    private Task RetryLaterAsync(InboxEvent inboxEvent, DiscordRestException ex, CancellationToken cancellationToken) =>
        RetryOrGiveUpAsync(inboxEvent, $"Discord did not answer ({Describe(ex)})", Outcomes.DiscordError, "", ex.RetryAfter, cancellationToken);

    /// <summary>Retries a transient failure with backoff until <c>Grants:RetryFor</c> has passed since the event arrived, then records <paramref name="outcome"/>.</summary>
    private async Task RetryOrGiveUpAsync(
        InboxEvent inboxEvent, string reason, string outcome, string givenUpNote, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var attempt = inboxEvent.Attempts + 1;
        var retryFor = grantOptions.Value.RetryFor;
        if (time.GetUtcNow() - inboxEvent.ReceivedAt >= retryFor)
        {
            logger.LogError("Giving up on event {EventId} of verification {VerificationId} after {Attempts} attempts over {RetryFor}: {Reason}",
                inboxEvent.Id, inboxEvent.VerificationId, attempt, retryFor, reason);
            await ledger.RecordOutcomeAsync(inboxEvent, EventStatus.Failed,
                Decision.Reject(outcome, $"{reason}; gave up after {attempt} attempts over {retryFor}{givenUpNote}"), null, reason, null, cancellationToken);
            return;
        }

        var delay = RetryDelay.For(attempt, retryAfter);
        logger.LogWarning("Event {EventId} of verification {VerificationId}: {Reason}; attempt {Attempt}, retrying in {Delay}",
            inboxEvent.Id, inboxEvent.VerificationId, reason, attempt, delay);
        await inbox.RescheduleAsync(inboxEvent.Id, time.GetUtcNow() + delay, reason, cancellationToken);
    }

    /// <summary>
    /// A 401 says the bot's token is wrong or was reset: an operator's setting, not this delivery's fault. The event
    /// waits in the inbox, outside <c>Grants:RetryFor</c>, until the operator fixes the token and restarts; no request
    /// reaches Discord meanwhile (the REST client stops sending after a 401, which counts towards Discord's ban limit).
    /// </summary>
    private async Task WaitForTokenAsync(InboxEvent inboxEvent, CancellationToken cancellationToken)
    {
        const string reason = "Discord rejected the bot token (401); the grant waits until Discord:Token is fixed and the bot restarted";
        logger.LogDebug("Event {EventId} of verification {VerificationId}: {Reason}", inboxEvent.Id, inboxEvent.VerificationId, reason);
        await inbox.RescheduleAsync(inboxEvent.Id, time.GetUtcNow() + TokenRecheck, reason, cancellationToken);
    }

    private async Task RecordDiscordRefusalAsync(InboxEvent inboxEvent, DiscordRestException ex, CancellationToken cancellationToken)
    {
        if (ex.ErrorCode is DiscordErrorCodes.UnknownMember or DiscordErrorCodes.UnknownUser)
        {
            // The member left between lookup and assignment: wait for them like any other absent member.
            await WaitForMemberAsync(inboxEvent, inboxEvent.MemberQuery?.StartsWith("id:", StringComparison.Ordinal) ?? false, cancellationToken);
            return;
        }

        guildRoles.Invalidate(inboxEvent.GuildId);
        var advice = ex.ErrorCode switch
        {
            DiscordErrorCodes.MissingPermissions => "Discord says Missing Permissions: give the bot Manage Roles and move its role above the verification's role",
            DiscordErrorCodes.MissingAccess => "Discord says Missing Access: re-invite the bot with the Manage Roles permission",
            DiscordErrorCodes.UnknownRole => "the verification's role was deleted: link the verification to an existing role",
            DiscordErrorCodes.UnknownGuild => "the bot is no longer in the server",
            _ => $"Discord refused the request ({Describe(ex)})",
        };
        logger.LogError("Event {EventId} of verification {VerificationId} in guild {GuildId} failed: {Advice}",
            inboxEvent.Id, inboxEvent.VerificationId, inboxEvent.GuildId, advice);
        await ledger.RecordOutcomeAsync(inboxEvent, EventStatus.Failed, Decision.Reject(Outcomes.DiscordError, advice), null, Describe(ex), null, cancellationToken);
    }

    private static string Describe(DiscordRestException ex) =>
        ex.StatusCode is { } status
            ? $"{(int)status} {(status == HttpStatusCode.TooManyRequests ? "rate limited" : ex.Message)}{(ex.ErrorCode is { } code ? $", code {code}" : "")}"
            : $"no answer: {ex.Message}";
}

/// <summary>Backoff for transient failures: exponential with jitter, capped, never sooner than Discord asked.</summary>
public static class RetryDelay
{
    /// <summary>2, 4, 8 … seconds from the first retry, ±20 %, capped at one minute.</summary>
    public static readonly WalverBot.Discord.ExponentialBackoff Schedule = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.8, 1.2);

    public static TimeSpan For(int attempt, TimeSpan? retryAfter) => For(attempt, retryAfter, Random.Shared.NextDouble());

    /// <summary>The delay for <paramref name="random"/> in [0, 1) (fixed in tests).</summary>
    public static TimeSpan For(int attempt, TimeSpan? retryAfter, double random)
    {
        var jittered = Schedule.Delay(attempt, random);
        return retryAfter is { } wait && wait > jittered ? wait : jittered;
    }
}
