using WalverBot.Chains;
using WalverBot.Verifications;

namespace WalverBot.Holdings;

/// <summary>
/// What the re-check worker does at each tick, without a host: sends removals left over from a crash, then runs a
/// pass for each verification with wallets due. One verification's failure does not stop the others.
/// </summary>
public sealed class RecheckScheduler(
    IServiceScopeFactory scopes, HoldingsStore store, IChainReader reader, Microsoft.Extensions.Options.IOptions<RecheckOptions> options, TimeProvider time,
    ILogger<RecheckScheduler> logger)
{
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var passes = 0;
        await using (var scope = scopes.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RecheckEngine>().ReplayRemovalsAsync(null, cancellationToken);
        }

        foreach (var verificationId in await store.DueVerificationsAsync(time.GetUtcNow(), cancellationToken))
        {
            // A scope per pass: the REST client is a typed HttpClient, meant to be short-lived.
            await using var scope = scopes.CreateAsyncScope();
            var verification = await scope.ServiceProvider.GetRequiredService<VerificationStore>().FindAsync(verificationId, cancellationToken);
            if (verification is null || !HoldingsTiers.IsRechecked(verification, reader))
            {
                var now = time.GetUtcNow();
                await store.PostponeAsync(verificationId, now, now + options.Value.Interval, cancellationToken);
                continue;
            }

            try
            {
                await scope.ServiceProvider.GetRequiredService<RecheckEngine>().RunAsync(verification, new PassOptions(), null, cancellationToken);
                passes++;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Discord down mid-pass, a busy database: the members not applied stay due and are taken at the next tick.
                logger.LogWarning("Re-check pass of verification {VerificationId} stopped: {Error}; the wallets left are checked at the next tick",
                    verificationId, ex.Message);
            }
        }

        return passes;
    }
}

/// <summary>
/// Runs <see cref="RecheckScheduler"/> every <see cref="Tick"/>, on one instance at a time
/// (<see cref="ScaleOut.OnceOnlyJobs.HoldingsRechecks"/>); thin on purpose.
/// </summary>
public sealed class RecheckWorker(RecheckScheduler scheduler, TimeProvider time, ILogger<RecheckWorker> logger, ScaleOut.IJobLeader? leader = null) : BackgroundService
{
    /// <summary>How often due wallets are looked for: each is checked within this of its point in the interval.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(30);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ScaleOut.OnceOnlyJobRunner.RunOnceOnlyAsync(leader ?? new ScaleOut.ProcessJobLeader(), ScaleOut.OnceOnlyJobs.HoldingsRechecks, RunAsync, time, logger, stoppingToken);

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await scheduler.RunDueAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Re-check tick failed: {Error}; trying again in {Tick}", ex.Message, Tick);
                }

                await Task.Delay(Tick, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
