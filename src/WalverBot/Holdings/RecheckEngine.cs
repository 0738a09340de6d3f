using Microsoft.Extensions.Options;
using WalverBot.Chains;
using WalverBot.Commands;
using WalverBot.Discord.Rest;
using WalverBot.Grants;
using WalverBot.Security;
using WalverBot.Verifications;

namespace WalverBot.Holdings;

/// <summary>How a pass runs: scheduled (due wallets only) or asked for by an admin (every wallet).</summary>
public sealed record PassOptions(bool Manual = false, bool DryRun = false, bool ConfirmRemovals = false);

/// <summary>Where a pass is, for an admin's progress line.</summary>
public sealed record PassProgress(int Checked, int Total, int Added, int Removed);

/// <summary>A role a pass adds or removes (or would, in a dry run).</summary>
public sealed record RoleChange(ulong UserId, ulong RoleId, decimal Amount);

/// <summary>What a pass did, or in a dry run would do.</summary>
public sealed record PassResult(
    int Checked, int Total, IReadOnlyList<RoleChange> Added, IReadOnlyList<RoleChange> Removed, int Strikes, string? PausedReason)
{
    public static PassResult Nothing { get; } = new(0, 0, [], [], 0, null);
}

/// <summary>
/// One re-check pass over a verification, in three steps. Read: the wallets of the members due, in bounded batches (one
/// ReadAsync per batch; the reader packs it into as few RPC requests as it can). Decide: per member, the tier roles the
/// summed amount earns, adds at once, removals only at the second failed check a grace apart, and the breaker counted over
/// the whole pass before anything is sent. Apply: per member one transaction records the reads, roles, strike, schedule,
/// decisions and the removals, then Discord is asked; a removal is written before its DELETE, so a crash repeats an
/// idempotent DELETE and never a decision, and members not yet applied stay due, so none is skipped.
/// </summary>
public sealed class RecheckEngine(
    HoldingsStore store,
    VerificationStore verifications,
    IChainReader reader,
    IDiscordRestClient discord,
    IGuildRoleSource guildRoles,
    IAdminNotifier notifier,
    RecheckLocks locks,
    IOptions<RecheckOptions> options,
    IOptions<RoleOptions> roleOptions,
    TimeProvider time,
    ILogger<RecheckEngine> logger)
{
    /// <summary>
    /// Wallets per ReadAsync: the EVM reader's wallets per eth_call (ChainReadTuning.EvmWalletsPerCall), so a batch costs
    /// one eth_blockNumber and one eth_call (500 wallets per request; at 500 it was 250), and small enough to yield between batches.
    /// </summary>
    public const int BatchSize = 1000;

    public Task<PassResult> RunAsync(Verification verification, PassOptions pass, Func<PassProgress, Task>? progress, CancellationToken cancellationToken) =>
        RunCoreAsync(verification, pass, progress, null, cancellationToken);

    /// <summary>
    /// Real time: a transfer the EVM follower saw (read at the confirmed block <paramref name="atBlock"/>) or a Solana
    /// accountSubscribe notification (read at the latest slot, <paramref name="atBlock"/> null) re-checks at once the
    /// members owning <paramref name="wallets"/> (all their wallets, since the sum counts), plus the members whose first
    /// strike's grace is over; otherwise the scheduled pass's rules (two strikes, breaker, decisions, notices). A paused
    /// verification is left to the admin, as for a scheduled pass.
    /// </summary>
    public Task<PassResult> RecheckWalletsAsync(Verification verification, IReadOnlyCollection<string> wallets, ulong? atBlock, CancellationToken cancellationToken) =>
        RunCoreAsync(verification, new PassOptions(), null, new FollowUp(wallets.Select(KnownChains.NormalizeAddress).ToHashSet(StringComparer.Ordinal), atBlock), cancellationToken);

    private sealed record FollowUp(IReadOnlySet<string> Wallets, ulong? AtBlock);

    private async Task<PassResult> RunCoreAsync(Verification verification, PassOptions pass, Func<PassProgress, Task>? progress, FollowUp? followUp, CancellationToken cancellationToken)
    {
        using var held = await locks.AcquireAsync(verification.Id, cancellationToken);
        var now = time.GetUtcNow();
        var state = await store.StateAsync(verification.Id, cancellationToken);
        if (state.IsPaused && !pass.Manual)
        {
            return PassResult.Nothing;
        }

        if (!pass.DryRun)
        {
            await ReplayRemovalsAsync(verification.Id, cancellationToken);
        }

        var wallets = await store.WalletsAsync(verification.Id, cancellationToken);
        var members = (await store.MembersAsync(verification.Id, cancellationToken)).ToDictionary(m => m.UserId);
        var due = pass.Manual
            ? wallets.Select(w => w.UserId).ToHashSet()
            : followUp is not null
                ? wallets.Where(w => followUp.Wallets.Contains(w.WalletAddress) ||
                                     members.GetValueOrDefault(w.UserId)?.StrikeAt is not null && w.NextCheckAt <= now).Select(w => w.UserId).ToHashSet()
                : wallets.Where(w => w.NextCheckAt <= now).Select(w => w.UserId).ToHashSet();
        // All of a due member's wallets are read together: the amount that counts is their sum.
        var toRead = wallets.Where(w => due.Contains(w.UserId)).ToList();
        if (toRead.Count == 0)
        {
            return PassResult.Nothing;
        }

        // 1. Read.
        var token = HoldingsTiers.Token(verification);
        var reads = new Dictionary<string, WalletRead>(StringComparer.Ordinal);
        ulong newest = 0;
        foreach (var batch in toRead.Chunk(BatchSize))
        {
            HoldingsSnapshot snapshot;
            try
            {
                snapshot = followUp?.AtBlock is { } atBlock
                    ? await reader.ReadAtAsync(token, [.. batch.Select(w => w.WalletAddress)], atBlock, cancellationToken)
                    : await reader.ReadAsync(token, [.. batch.Select(w => w.WalletAddress)], cancellationToken);
            }
            catch (ChainReadException ex)
            {
                return await PauseAsync(verification, pass, reads.Count, toRead.Count, $"the chain could not be read ({ex.Message}); an RPC error is never taken as a balance", cancellationToken);
            }

            if (snapshot.Amounts.Count != batch.Length)
            {
                return await PauseAsync(verification, pass, reads.Count, toRead.Count,
                    $"the chain answered {snapshot.Amounts.Count} amounts for {batch.Length} wallets", cancellationToken);
            }

            // A follow-up reads at the block it names (eth_call at a block number), so an older block is the follower's
            // confirmed view, not a lagging node.
            if (followUp?.AtBlock is null && state.LastBlock is { } last && snapshot.BlockOrSlot < (ulong)last)
            {
                return await PauseAsync(verification, pass, reads.Count, toRead.Count,
                    $"the chain answered at block/slot {snapshot.BlockOrSlot}, older than {last} already acted on (a lagging or wrong RPC node)", cancellationToken);
            }

            newest = Math.Max(newest, snapshot.BlockOrSlot);
            for (var i = 0; i < batch.Length; i++)
            {
                reads[batch[i].WalletAddress] = new WalletRead(batch[i].WalletAddress, snapshot.Amounts[i].Amount, snapshot.BlockOrSlot);
            }

            if (progress is not null)
            {
                await progress(new PassProgress(reads.Count, toRead.Count, 0, 0));
            }

            // Other work (webhooks, grants) gets the thread between batches.
            await Task.Yield();
        }

        // 2. Decide, for every member read, before anything is sent. An admin's confirm_removals on a paused verification
        // is the second opinion the two strikes stand for: the removals held back go at once.
        var confirmed = pass.ConfirmRemovals && state.IsPaused;
        var grace = options.Value.Grace;
        var tierRoles = HoldingsTiers.Roles(verification);
        var plans = new List<MemberPlan>();
        foreach (var group in toRead.GroupBy(w => w.UserId))
        {
            var member = members.GetValueOrDefault(group.Key);
            var memberReads = group.Select(w => reads[w.WalletAddress]).ToList();
            var sum = memberReads.Sum(r => r.Amount);
            var heldRoles = member?.RoleSet ?? [];
            var earned = HoldingsTiers.Earned(verification, sum);
            var adds = earned.Where(r => !heldRoles.Contains(r)).ToList();
            var losing = heldRoles.Where(r => tierRoles.Contains(r) && !earned.Contains(r)).ToList();
            DateTimeOffset? strike = null;
            List<ulong> remove = [];
            if (losing.Count > 0)
            {
                if (confirmed || member?.StrikeAt is { } first && now - first >= grace)
                {
                    remove = losing;
                }
                else
                {
                    strike = member?.StrikeAt ?? now;
                }
            }

            plans.Add(new MemberPlan(group.Key, member, memberReads, sum, earned, adds, losing, remove, strike));
        }

        var holders = members.Values.Count(m => m.RoleSet.Count > 0);
        var failingHere = plans.Count(p => p.Losing.Count > 0);
        var struckElsewhere = members.Values.Count(m => m.StrikeAt is not null && !due.Contains(m.UserId));
        var failing = failingHere + struckElsewhere;
        var fraction = options.Value.MaxRemovalFraction;
        var allowed = Math.Max(1, (int)Math.Floor(fraction * holders));
        if (failingHere > 0 && failing > allowed && !confirmed)
        {
            var example = plans.First(p => p.Losing.Count > 0);
            return await PauseAsync(verification, pass, reads.Count, toRead.Count,
                $"{failing} of {holders} holders would lose a role, more than Rechecks:MaxRemovalFraction ({fraction:0.##}) allows " +
                $"(e.g. <@{example.UserId}> reads {HoldingsTiers.Format(example.Sum)} at block/slot {newest}); check the token address and the RPC endpoint, " +
                $"then run /walver recheck verification:{verification.Id} confirm_removals:true", cancellationToken);
        }

        var added = plans.SelectMany(p => p.Adds.Select(r => new RoleChange(p.UserId, r, p.Sum))).ToList();
        var removed = plans.SelectMany(p => p.Remove.Select(r => new RoleChange(p.UserId, r, p.Sum))).ToList();
        var strikes = plans.Count(p => p.Strike is not null);
        if (pass.DryRun)
        {
            return new PassResult(reads.Count, toRead.Count, added, removed, strikes, null);
        }

        // 3. Apply, member by member.
        var doneAdded = new List<RoleChange>();
        var doneRemoved = new List<RoleChange>();
        foreach (var plan in plans)
        {
            var (a, r) = await ApplyAsync(verification, plan, newest, cancellationToken);
            doneAdded.AddRange(a);
            doneRemoved.AddRange(r);
            if (progress is not null)
            {
                await progress(new PassProgress(reads.Count, toRead.Count, doneAdded.Count, doneRemoved.Count));
            }
        }

        await store.FinishPassAsync(verification.Id, newest, cancellationToken);
        if (state.IsPaused)
        {
            logger.LogInformation("Re-checks of verification {VerificationId} resume: a pass by an admin went through", verification.Id);
        }

        logger.LogInformation("Re-checked {Count} wallets of verification {VerificationId} at block/slot {Block}: {Added} roles added, {Removed} removed, {Strikes} first strikes",
            reads.Count, verification.Id, newest, doneAdded.Count, doneRemoved.Count, strikes);
        return new PassResult(reads.Count, toRead.Count, doneAdded, doneRemoved, strikes, null);
    }

    private async Task<(List<RoleChange> Added, List<RoleChange> Removed)> ApplyAsync(Verification verification, MemberPlan plan, ulong block, CancellationToken cancellationToken)
    {
        var grace = options.Value.Grace;
        var now = time.GetUtcNow();
        var heldRoles = plan.Member?.RoleSet ?? [];
        var revoked = plan.Member?.RevokedSet ?? [];
        var added = new List<ulong>();
        var decisions = new List<Decision>();
        var walletCount = plan.Reads.Count;
        foreach (var roleId in plan.Adds)
        {
            if (await UnsafeAsync(verification, roleId, cancellationToken) is { } unsafeReason)
            {
                logger.LogWarning("Verification {VerificationId} cannot give tier role {RoleId} in guild {GuildId}: {Reason}", verification.Id, roleId, verification.GuildId, unsafeReason);
                continue;
            }

            try
            {
                await discord.AddGuildMemberRoleAsync(verification.GuildId, plan.UserId, roleId,
                    $"WalverBot: holds {HoldingsTiers.Format(plan.Sum)} (at least {HoldingsTiers.Format(HoldingsTiers.MinimumFor(verification, roleId))}) at block/slot {block} (verification {verification.Id})",
                    cancellationToken);
            }
            catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.UnknownMember or DiscordErrorCodes.UnknownUser)
            {
                // Not in the server now: the role comes back when they rejoin (GUILD_MEMBER_ADD).
                break;
            }

            added.Add(roleId);
            var outcome = revoked.Contains(roleId) ? Outcomes.Regranted : Outcomes.Granted;
            decisions.Add(new Decision(outcome,
                $"re-check: holds {HoldingsTiers.Format(plan.Sum)} over {walletCount} wallet(s) at block/slot {block}, at least {HoldingsTiers.Format(HoldingsTiers.MinimumFor(verification, roleId))} for <@&{roleId}>; role added"));
        }

        var removals = new List<(ulong, string)>();
        foreach (var roleId in plan.Remove)
        {
            var minimum = HoldingsTiers.Format(HoldingsTiers.MinimumFor(verification, roleId));
            var why = $"holds {HoldingsTiers.Format(plan.Sum)} over {walletCount} wallet(s) at block/slot {block}, below {minimum} for <@&{roleId}> at two checks at least {grace} apart";
            if (await store.RoleHeldElsewhereAsync(verification.GuildId, plan.UserId, roleId, verification.Id, cancellationToken))
            {
                // Another enabled verification gave the member the same role: removing it on Discord would undo that one too.
                decisions.Add(new Decision(Outcomes.RevokedHoldings, $"{why}; this verification no longer gives the role, kept on Discord because another verification gives it too"));
                continue;
            }

            decisions.Add(new Decision(Outcomes.RevokedHoldings, $"{why}; role removed"));
            removals.Add((roleId, $"WalverBot: holds {HoldingsTiers.Format(plan.Sum)}, below {minimum}, at two checks (verification {verification.Id})"));
        }

        var roles = heldRoles.Union(added).Except(plan.Remove).ToHashSet();
        var newRevoked = revoked.Except(added).Union(plan.Remove).ToHashSet();
        var nextChecks = plan.Reads.ToDictionary(r => r.Wallet, r =>
        {
            var next = HoldingsSchedule.NextCheck(verification.Id, r.Wallet, now, options.Value.Interval);
            // After a first strike the member is looked at again once the grace is over, not a whole interval later.
            return plan.Strike is { } strike && strike + grace < next ? strike + grace : next;
        });
        var update = new MemberUpdate(verification.Id, verification.GuildId, plan.UserId, plan.Reads, roles, newRevoked, plan.Strike, nextChecks,
            decisions, plan.Reads.Count == 1 ? plan.Reads[0].Wallet : "", removals);
        var pending = await store.ApplyAsync(update, cancellationToken);
        foreach (var decision in decisions)
        {
            notifier.DecisionRecorded(new DecisionNotice(verification.GuildId, verification.Id, plan.UserId,
                plan.Reads.Count == 1 ? WalletAddresses.Shorten(plan.Reads[0].Wallet) : null, decision));
        }

        foreach (var removal in pending)
        {
            await SendRemovalAsync(removal, cancellationToken);
        }

        return ([.. added.Select(r => new RoleChange(plan.UserId, r, plan.Sum))], [.. plan.Remove.Select(r => new RoleChange(plan.UserId, r, plan.Sum))]);
    }

    /// <summary>Sends the removals recorded but not confirmed (after a crash or an outage); DELETE of a role not held is a no-op at Discord.</summary>
    public async Task ReplayRemovalsAsync(string? verificationId, CancellationToken cancellationToken)
    {
        foreach (var removal in await store.PendingRemovalsAsync(cancellationToken))
        {
            if (verificationId is null || removal.VerificationId == verificationId)
            {
                await SendRemovalAsync(removal, cancellationToken);
            }
        }
    }

    private async Task SendRemovalAsync(PendingRemoval removal, CancellationToken cancellationToken)
    {
        try
        {
            await discord.RemoveGuildMemberRoleAsync(removal.GuildId, removal.UserId, removal.RoleId, removal.Reason, cancellationToken);
        }
        catch (DiscordRestException ex) when (ex.IsTransient || ex.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            // Stays recorded; sent again at the next pass.
            logger.LogWarning("Could not remove role {RoleId} from member {UserId} in guild {GuildId} yet: {Error}; it is sent again at the next pass",
                removal.RoleId, removal.UserId, removal.GuildId, ex.Message);
            return;
        }
        catch (DiscordRestException ex) when (ex.ErrorCode is DiscordErrorCodes.UnknownMember or DiscordErrorCodes.UnknownUser or DiscordErrorCodes.UnknownRole)
        {
            // Gone already: nothing left to remove.
        }
        catch (DiscordRestException ex)
        {
            guildRoles.Invalidate(removal.GuildId);
            logger.LogError("Discord refused to remove role {RoleId} from member {UserId} in guild {GuildId}: {Error}", removal.RoleId, removal.UserId, removal.GuildId, ex.Message);
        }

        await store.RemovalSentAsync(removal.Id, cancellationToken);
    }

    private async Task<PassResult> PauseAsync(Verification verification, PassOptions pass, int done, int total, string reason, CancellationToken cancellationToken)
    {
        if (pass.DryRun)
        {
            return new PassResult(done, total, [], [], 0, reason);
        }

        var decision = new Decision(Outcomes.RecheckPaused, $"re-checks remove nothing until an admin confirms: {reason}");
        await store.PauseAsync(verification, decision, cancellationToken);
        logger.LogWarning("Re-checks of verification {VerificationId} paused, nothing removed: {Reason}", verification.Id, reason);
        notifier.DecisionRecorded(new DecisionNotice(verification.GuildId, verification.Id, null, null, decision));
        return new PassResult(done, total, [], [], 0, reason);
    }

    private async Task<string?> UnsafeAsync(Verification verification, ulong roleId, CancellationToken cancellationToken)
    {
        var view = await guildRoles.GetAsync(verification.GuildId, cancellationToken);
        return RoleSafety.Check(verification.GuildId, roleId, view.Roles, view.BotRoleIds, roleOptions.Value.AllowPrivileged);
    }

    /// <summary>
    /// A member who rejoined gets back every role their wallets still earn, without verifying again: from the stored
    /// amounts, read again first when older than one interval and the chain can be read.
    /// </summary>
    public async Task<int> RestoreMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        var memberships = await store.MembershipsOfMemberAsync(guildId, userId, cancellationToken);
        if (memberships.Count == 0)
        {
            return 0;
        }

        // The member's roles now, read after their memberships. A grant records its membership only once Discord has
        // applied the role, so a membership made meanwhile (the pending grant this very join woke) shows here with its
        // role already held: kept, not given back again as if the member had rejoined.
        var holding = await CurrentRolesAsync(guildId, userId, cancellationToken);
        var restored = 0;
        foreach (var membership in memberships)
        {
            var verification = await verifications.FindAsync(membership.VerificationId, cancellationToken);
            if (verification is null || !verification.Enabled)
            {
                continue;
            }

            var wallets = await store.WalletsOfMemberAsync(verification.Id, userId, cancellationToken);
            var held = membership.RoleSet;
            IReadOnlySet<ulong> earned = held;
            var reads = new List<WalletRead>();
            decimal? sum = null;
            if (verification.IsTokenGated && wallets.Count > 0)
            {
                var now = time.GetUtcNow();
                var stale = wallets.Any(w => w.CheckedAt is not { } at || now - at > options.Value.Interval);
                if (stale && HoldingsTiers.IsRechecked(verification, reader))
                {
                    try
                    {
                        var snapshot = await reader.ReadAsync(HoldingsTiers.Token(verification), [.. wallets.Select(w => w.WalletAddress)], cancellationToken);
                        if (snapshot.Amounts.Count == wallets.Count)
                        {
                            reads = [.. wallets.Select((w, i) => new WalletRead(w.WalletAddress, snapshot.Amounts[i].Amount, snapshot.BlockOrSlot))];
                        }
                    }
                    catch (ChainReadException ex)
                    {
                        logger.LogWarning("Could not read the holdings of rejoining member {UserId} for verification {VerificationId} ({Error}); using the last amounts read",
                            userId, verification.Id, ex.Message);
                    }
                }

                if (reads.Count > 0)
                {
                    sum = reads.Sum(r => r.Amount);
                }
                else if (wallets.All(w => w.AmountValue is not null))
                {
                    sum = wallets.Sum(w => w.AmountValue!.Value);
                }

                // Without any amount read yet (no RPC endpoint), the roles held when they left are what the payload earned.
                earned = sum is { } s ? HoldingsTiers.Earned(verification, s) : held;
            }

            var given = new List<ulong>();
            var kept = new HashSet<ulong>();
            var decisions = new List<Decision>();
            foreach (var roleId in earned)
            {
                if (holding.Contains(roleId))
                {
                    kept.Add(roleId);
                    continue;
                }

                if (await UnsafeAsync(verification, roleId, cancellationToken) is not null)
                {
                    continue;
                }

                await discord.AddGuildMemberRoleAsync(guildId, userId, roleId, $"WalverBot: member rejoined; their linked wallet(s) still earn this role (verification {verification.Id})", cancellationToken);
                given.Add(roleId);
                decisions.Add(new Decision(Outcomes.Regranted, sum is { } amount
                    ? $"rejoined the server; holds {HoldingsTiers.Format(amount)} over {wallets.Count} wallet(s), at least {HoldingsTiers.Format(HoldingsTiers.MinimumFor(verification, roleId))} for <@&{roleId}>; role given back"
                    : $"rejoined the server; the linked wallet still earns <@&{roleId}>; role given back"));
            }

            given.AddRange(kept); // from here on, the roles the member holds by this verification
            var lost = held.Except(given).ToHashSet();
            await store.ApplyAsync(new MemberUpdate(verification.Id, guildId, userId, reads, given.ToHashSet(), membership.RevokedSet.Except(given).Union(lost).ToHashSet(),
                null, new Dictionary<string, DateTimeOffset>(), decisions, wallets.Count == 1 ? wallets[0].WalletAddress : "", []), cancellationToken);
            foreach (var decision in decisions)
            {
                notifier.DecisionRecorded(new DecisionNotice(guildId, verification.Id, userId, wallets.Count == 1 ? WalletAddresses.Shorten(wallets[0].WalletAddress) : null, decision));
            }

            restored += given.Count - kept.Count;
        }

        return restored;
    }

    /// <summary>The roles a member holds now; none when Discord cannot say (then every earned role is sent, as PUT is idempotent).</summary>
    private async Task<IReadOnlySet<ulong>> CurrentRolesAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        try
        {
            return (await discord.GetGuildMemberAsync(guildId, userId, cancellationToken))?.Roles.ToHashSet() ?? [];
        }
        catch (DiscordRestException ex)
        {
            logger.LogDebug("Could not read the roles of rejoining member {UserId} in guild {GuildId} ({Error}); giving back every role they earn", userId, guildId, ex.Message);
            return new HashSet<ulong>();
        }
    }

    private sealed record MemberPlan(
        ulong UserId, MemberHolding? Member, IReadOnlyList<WalletRead> Reads, decimal Sum, IReadOnlySet<ulong> Earned,
        IReadOnlyList<ulong> Adds, IReadOnlyList<ulong> Losing, List<ulong> Remove, DateTimeOffset? Strike);
}

/// <summary>One pass per verification at a time: a scheduled pass and an admin's /walver recheck never interleave.</summary>
public sealed class RecheckLocks
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string verificationId, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(verificationId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
