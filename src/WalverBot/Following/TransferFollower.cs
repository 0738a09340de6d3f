using WalverBot.Chains;

namespace WalverBot.Following;

/// <summary>A verification's token on the followed chain and its linked wallets (lower-case).</summary>
public sealed record FollowedToken(string VerificationId, string Contract, bool Erc1155, IReadOnlySet<string> Wallets);

/// <summary>What the follower's logs lead to: the same re-check as a scheduled pass, for a few wallets, read at a confirmed block.</summary>
public interface IFollowerEffects
{
    /// <summary>The tokens to follow on <paramref name="chain"/>: enabled, token-gated verifications with linked wallets.</summary>
    Task<IReadOnlyList<FollowedToken>> FollowedAsync(string chain, CancellationToken cancellationToken);

    /// <summary>
    /// Re-checks <paramref name="wallets"/> of a verification (and its members whose first strike's grace is over) with
    /// balances read at block <paramref name="atBlock"/>.
    /// </summary>
    Task RecheckAsync(string verificationId, IReadOnlyCollection<string> wallets, ulong atBlock, CancellationToken cancellationToken);
}

/// <summary>What one step did.</summary>
public enum StepOutcome
{
    /// <summary>Nothing new is confirmed.</summary>
    Idle,

    /// <summary>A range was processed and more confirmed blocks wait.</summary>
    Behind,

    /// <summary>A range was processed up to the confirmed head.</summary>
    CaughtUp,

    /// <summary>A reorg was found and the cursor went back to the fork point.</summary>
    Reorg,

    /// <summary>The node refused the range as too large: it was halved, try again.</summary>
    Narrowed,
}

/// <summary>
/// Follows one EVM chain's token transfers, one bounded range of confirmed blocks per step. A step first checks that the
/// last processed block is still on the chain (its stored hash against eth_getBlockByNumber) and, if not, walks back
/// over the remembered hashes to the fork point and re-reads from there; then it reads the hash of the range's end,
/// then the range's transfer logs (in that order: a reorg between the two leaves a stale hash, which the next step
/// catches), commits cursor, hash and the re-checks the logs ask for in one transaction, and runs those re-checks at
/// the range's end block, which is <c>Confirmations</c> deep. A log only ever causes a re-check of current balances, so
/// a log of an orphaned block removes nothing: the re-check reads the chain that won.
/// </summary>
public sealed class TransferFollower(
    FollowerChain settings, IFollowerRpc rpc, FollowerStore store, IFollowerEffects effects, FollowerState state, FollowerTuning tuning, ILogger logger)
{
    private int _range = settings.MaxBlockRange;

    public string Chain => settings.Chain;

    /// <summary>The current block range per eth_getLogs (halved on "range too large" answers, back to the maximum once caught up).</summary>
    public int Range => _range;

    /// <summary>Processes at most one range below <paramref name="head"/> − Confirmations.</summary>
    public async Task<StepOutcome> StepAsync(ulong head, CancellationToken cancellationToken)
    {
        state.HeadSeen(head);
        var confirmations = (ulong)settings.Confirmations;
        if (head < confirmations)
        {
            return StepOutcome.Idle;
        }

        var confirmed = head - confirmations;
        var cursor = await store.CursorAsync(Chain, cancellationToken);
        if (cursor is null)
        {
            // First start: follow from the confirmed head. What happened before is the scheduled re-checks' to find.
            var start = await rpc.BlockHashesAsync([confirmed], cancellationToken);
            if (start[0] is not { } startHash)
            {
                return StepOutcome.Idle;
            }

            await store.CommitAsync(Chain, new ProcessedBlock(confirmed, startHash), [], tuning.RecentBlocks, cancellationToken);
            state.ProcessedUpTo(confirmed);
            logger.LogInformation("Chain {Chain}: transfer follower starts at block {Block} ({Confirmations} confirmations)", Chain, confirmed, settings.Confirmations);
            return StepOutcome.CaughtUp;
        }

        var last = cursor.Value;
        state.ProcessedUpTo(last);
        if (last >= confirmed)
        {
            // Nothing new, but re-checks a crash left undone still run.
            await RunRechecksAsync(last, cancellationToken);
            return StepOutcome.Idle;
        }

        var from = last + 1;
        var to = Math.Min(confirmed, last + (ulong)_range);
        var recent = await store.RecentBlocksAsync(Chain, cancellationToken);
        var known = recent.FirstOrDefault(b => b.Number == last);
        var hashes = await rpc.BlockHashesAsync(known is null ? [to] : [last, to], cancellationToken);
        if (known is not null && hashes[0] != known.Hash)
        {
            await RewindAsync(recent, cancellationToken);
            return StepOutcome.Reorg;
        }

        if (hashes[^1] is not { } toHash)
        {
            return StepOutcome.Idle; // a node behind its own eth_blockNumber (load balancers): try at the next head
        }

        var followed = await effects.FollowedAsync(Chain, cancellationToken);
        IReadOnlyList<TransferLog> logs = [];
        if (followed.Count > 0)
        {
            try
            {
                logs = await rpc.LogsAsync(from, to, Filter(followed), cancellationToken);
            }
            catch (ChainReadException ex) when (to > from && RangeErrors.IsRangeError(ex.Message))
            {
                _range = (int)Math.Max(1, (to - from + 1) / 2);
                logger.LogInformation("Chain {Chain}: the node refused eth_getLogs over {Blocks} blocks ({Error}); reading {Range} blocks at a time",
                    Chain, to - from + 1, ex.Message, _range);
                return StepOutcome.Narrowed;
            }
        }

        var rechecks = new List<RecheckRequest>();
        foreach (var log in logs.Where(l => !l.Removed && l.Block >= from && l.Block <= to))
        {
            foreach (var token in followed.Where(t => t.Contract == log.Contract))
            {
                foreach (var wallet in new[] { log.From, log.To }.Distinct().Where(token.Wallets.Contains))
                {
                    rechecks.Add(new RecheckRequest(log.Block, token.VerificationId, wallet));
                }
            }
        }

        await store.CommitAsync(Chain, new ProcessedBlock(to, toHash), rechecks.Distinct().ToList(), tuning.RecentBlocks, cancellationToken);
        state.ProcessedUpTo(to);
        state.LogsProcessed(logs.Count);
        await RunRechecksAsync(to, cancellationToken, followed);
        if (to < confirmed)
        {
            return StepOutcome.Behind;
        }

        // A narrowed range holds for the rest of a catch-up (growing it back would be refused every other request);
        // once caught up, the next outage starts from the configured range again.
        _range = settings.MaxBlockRange;
        return StepOutcome.CaughtUp;
    }

    /// <summary>Runs the stored re-checks not yet done, and the second check of struck members, with balances at <paramref name="atBlock"/>.</summary>
    private async Task RunRechecksAsync(ulong atBlock, CancellationToken cancellationToken, IReadOnlyList<FollowedToken>? followed = null)
    {
        var pending = await store.PendingAsync(Chain, cancellationToken);
        var byVerification = pending.GroupBy(p => p.VerificationId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (verificationId, requests) in byVerification)
        {
            await effects.RecheckAsync(verificationId, [.. requests.Select(r => r.Wallet).Distinct()], atBlock, cancellationToken);
            await store.MarkDoneAsync(Chain, requests, cancellationToken);
        }

        // Members with a first strike get their second check at the first confirmed block after the grace, not at the
        // scheduler's next tick: roles follow transfers within Confirmations + 1 blocks once the grace is over.
        foreach (var token in (followed ?? []).Where(t => !byVerification.ContainsKey(t.VerificationId)).DistinctBy(t => t.VerificationId))
        {
            await effects.RecheckAsync(token.VerificationId, [], atBlock, cancellationToken);
        }
    }

    private async Task RewindAsync(IReadOnlyList<ProcessedBlock> recent, CancellationToken cancellationToken)
    {
        // Walk back over the remembered hashes, newest first, a batch at a time, to the newest block still on the chain.
        ulong? fork = null;
        var older = recent.Skip(1).ToList();
        foreach (var batch in older.Chunk(16))
        {
            var hashes = await rpc.BlockHashesAsync([.. batch.Select(b => b.Number)], cancellationToken);
            var match = batch.Select((b, i) => (b, hash: hashes[i])).FirstOrDefault(x => x.hash == x.b.Hash);
            if (match.b is not null)
            {
                fork = match.b.Number;
                break;
            }
        }

        if (fork is null)
        {
            // Deeper than every remembered block: re-read from the oldest one; its logs only cause re-checks.
            fork = recent[^1].Number == 0 ? 0 : recent[^1].Number - 1;
            logger.LogError("Chain {Chain}: a reorg deeper than the {Count} remembered blocks; re-reading from block {Block}", Chain, recent.Count, fork + 1);
        }

        await store.RewindAsync(Chain, fork.Value, cancellationToken);
        state.Reorged(fork.Value);
        logger.LogWarning("Chain {Chain}: block {Block} is no longer on the chain (reorg); re-reading from block {From}, after the fork point",
            Chain, recent[0].Number, fork.Value + 1);
    }

    private LogFilter Filter(IReadOnlyList<FollowedToken> followed)
    {
        var wallets = followed.SelectMany(t => t.Wallets).Distinct().ToList();
        return new LogFilter(
            [.. followed.Where(t => !t.Erc1155).Select(t => t.Contract).Distinct()],
            [.. followed.Where(t => t.Erc1155).Select(t => t.Contract).Distinct()],
            wallets.Count <= tuning.WalletTopicLimit ? wallets : null);
    }
}

/// <summary>Recognises a node's refusal of an eth_getLogs range as too wide or too many results.</summary>
public static class RangeErrors
{
    // Providers word it differently; seen: Infura "query returned more than 10000 results" (-32005), Alchemy "Log response
    // size exceeded" / "block range", QuickNode "eth_getLogs is limited to a 10,000 range", geth "exceed maximum block range",
    // others "range too large" / "too many blocks". Halving on a false match only costs a few narrower requests.
    private static readonly string[] Phrases =
        ["-32005", "range", "more than", "too many", "too large", "exceed", "size", "limit"];

    /// <summary>Only a JSON-RPC error answer counts (JsonRpcClient words it "answered error …"): a 429 or a lost connection is not a range problem.</summary>
    public static bool IsRangeError(string message)
    {
        var at = message.IndexOf("answered error", StringComparison.Ordinal);
        at = at >= 0 ? at : message.IndexOf("refused the batch", StringComparison.Ordinal);
        return at >= 0 && Phrases.Any(p => message.AsSpan(at).Contains(p, StringComparison.OrdinalIgnoreCase));
    }
}
