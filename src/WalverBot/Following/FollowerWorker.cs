using Microsoft.Extensions.Options;
using WalverBot.Chains;
using WalverBot.Holdings;
using WalverBot.Verifications;

namespace WalverBot.Following;

/// <summary>
/// One chain's follower loop: learn the head (newHeads over WebSocket, or eth_blockNumber every poll interval), then
/// step until caught up. Failures (RPC down, a busy database) wait with doubling backoff and never stop the bot.
/// </summary>
public sealed class FollowerLoop(TransferFollower follower, IFollowerRpc rpc, NewHeadsSubscription? heads, FollowerState state, FollowerTuning tuning, TimeProvider time, ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var headsTask = heads?.RunAsync(cancellationToken) ?? Task.CompletedTask;
        ulong head = 0;
        var first = true;
        var failures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    // The head as reported, not the highest ever seen: after a reorg to a shorter chain the old height is gone.
                    head = !first && failures == 0 ? await NextHeadAsync(head, cancellationToken) : await rpc.HeadAsync(cancellationToken);

                    first = false;
                    StepOutcome outcome;
                    do
                    {
                        outcome = await follower.StepAsync(head, cancellationToken);
                    }
                    while (outcome is StepOutcome.Behind or StepOutcome.Reorg or StepOutcome.Narrowed && !cancellationToken.IsCancellationRequested);

                    if (failures > 0)
                    {
                        logger.LogInformation("Chain {Chain}: transfer follower runs again at block {Block}", follower.Chain, state.Processed);
                    }

                    failures = 0;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failures++;
                    if (failures == 1)
                    {
                        // ChainReadException messages are key-safe (scheme and host only).
                        logger.LogWarning("Chain {Chain}: transfer follower paused at block {Block}: {Error}; retrying with backoff, roles are still re-checked on schedule",
                            follower.Chain, state.Processed, ex is ChainReadException ? ex.Message : ex.GetType().Name + ": " + ex.Message);
                    }

                    var delay = TimeSpan.FromTicks(Math.Min(tuning.MaxRetryDelay.Ticks, tuning.RetryBaseDelay.Ticks * (1L << Math.Min(failures - 1, 20))));
                    await Task.Delay(delay, time, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await headsTask;
    }

    private async Task<ulong> NextHeadAsync(ulong head, CancellationToken cancellationToken)
    {
        if (heads is not null && state.Subscribed &&
            await heads.WaitForNewerAsync(head, tuning.SubscribedPollInterval, cancellationToken) is { } pushed)
        {
            return pushed;
        }

        if (heads is null)
        {
            await Task.Delay(tuning.PollInterval, time, cancellationToken);
        }
        else if (!state.Subscribed)
        {
            await heads.WaitWhileDownAsync(tuning.PollInterval, cancellationToken);
        }

        return await rpc.HeadAsync(cancellationToken);
    }
}

/// <summary>Runs one <see cref="FollowerLoop"/> per EVM chain with an RPC endpoint; thin on purpose.</summary>
public sealed class FollowerWorker(
    IOptions<ChainsOptions> chains, IOptions<FollowerOptions> options, IOptions<FollowerTuning> tuning, IHttpClientFactory clients, RpcEndpointHealth health,
    FollowerStore store, IFollowerEffects effects, FollowerStates states, TimeProvider time, ILoggerFactory loggers, ScaleOut.IJobLeader? leader = null) : BackgroundService
{
    /// <summary>
    /// On one instance at a time (<see cref="ScaleOut.OnceOnlyJobs.TransferFollower"/>): instances sharing a database
    /// share each chain's cursor, and two followers would both process every block and run its re-checks twice.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ScaleOut.OnceOnlyJobRunner.RunOnceOnlyAsync(leader ?? new ScaleOut.ProcessJobLeader(), ScaleOut.OnceOnlyJobs.TransferFollower, FollowAsync, time,
            loggers.CreateLogger<FollowerWorker>(), stoppingToken);

    private Task FollowAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task>();
        var logger = loggers.CreateLogger<TransferFollower>();
        foreach (var endpoint in chains.Value.Endpoints.Values)
        {
            if (!KnownChains.TryGetFamily(endpoint.Chain, out var family) || family != ChainFamily.Evm)
            {
                continue;
            }

            var settings = options.Value.For(endpoint.Chain);
            var state = states.For(endpoint.Chain);
            var rpc = new EvmFollowerRpc(new JsonRpcClient(clients.CreateClient(ChainServiceCollectionExtensions.ClientName(endpoint.Chain)), endpoint, health));
            var heads = settings.WsUrl is null ? null : new NewHeadsSubscription(settings, state, tuning.Value, time, logger);
            var follower = new TransferFollower(settings, rpc, store, effects, state, tuning.Value, logger);
            loops.Add(Task.Run(() => new FollowerLoop(follower, rpc, heads, state, tuning.Value, time, logger).RunAsync(stoppingToken), stoppingToken));
        }

        return Task.WhenAll(loops);
    }
}

/// <summary>The follower's effects in the bot: the followed tokens from the store, the re-checks through <see cref="RecheckEngine"/>.</summary>
public sealed class RecheckEffects(IServiceScopeFactory scopes, FollowerStore store, VerificationStore verifications, IChainReader reader) : IFollowerEffects
{
    public async Task<IReadOnlyList<FollowedToken>> FollowedAsync(string chain, CancellationToken cancellationToken)
    {
        var tokens = new List<FollowedToken>();
        foreach (var group in (await store.FollowedWalletsAsync(chain, cancellationToken)).GroupBy(r => r.VerificationId))
        {
            var verification = await verifications.FindAsync(group.Key, cancellationToken);
            // Native coin moves leave no logs: those verifications stay with the scheduled re-checks.
            if (verification is null || !HoldingsTiers.IsRechecked(verification, reader) || string.IsNullOrEmpty(verification.TokenAddress) ||
                verification.EffectiveTokenStandard == TokenStandards.Native)
            {
                continue;
            }

            tokens.Add(new FollowedToken(verification.Id, verification.TokenAddress.Trim().ToLowerInvariant(),
                verification.EffectiveTokenStandard == TokenStandards.Erc1155,
                group.Select(r => KnownChains.NormalizeAddress(r.Wallet)).ToHashSet(StringComparer.Ordinal)));
        }

        return tokens;
    }

    public async Task RecheckAsync(string verificationId, IReadOnlyCollection<string> wallets, ulong atBlock, CancellationToken cancellationToken)
    {
        // Every processed block asks for the second checks of struck members; without a strike that is one cheap query,
        // not a load of every wallet and member of the verification (10,000 per block in the follower bench).
        if (wallets.Count == 0 && !await store.HasStrikesAsync(verificationId, cancellationToken))
        {
            return;
        }

        var verification = await verifications.FindAsync(verificationId, cancellationToken);
        if (verification is null || !HoldingsTiers.IsRechecked(verification, reader))
        {
            return;
        }

        // A scope per re-check: the REST client is a typed HttpClient, meant to be short-lived.
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RecheckEngine>().RecheckWalletsAsync(verification, wallets, atBlock, cancellationToken);
    }
}
