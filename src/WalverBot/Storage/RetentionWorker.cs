using Microsoft.Extensions.Options;
using WalverBot.Webhooks;

namespace WalverBot.Storage;

/// <summary>
/// Once a day, removes webhook events older than <c>Storage:EventRetentionDays</c>; on one instance at a time
/// (<see cref="ScaleOut.OnceOnlyJobs.Retention"/>).
/// </summary>
public sealed class RetentionWorker(
    WebhookInbox inbox, IOptions<StorageOptions> options, TimeProvider time, ILogger<RetentionWorker> logger, ScaleOut.IJobLeader? leader = null) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromDays(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ScaleOut.OnceOnlyJobRunner.RunOnceOnlyAsync(leader ?? new ScaleOut.ProcessJobLeader(), ScaleOut.OnceOnlyJobs.Retention, RunAsync, time, logger, stoppingToken);

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.EventRetentionDays);
                var deleted = await inbox.PruneAsync(cutoff, stoppingToken);
                if (deleted > 0)
                {
                    logger.LogInformation("Deleted {Count} webhook event(s) received before {Cutoff:yyyy-MM-dd}", deleted, cutoff);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Cleaning up old webhook events failed; trying again tomorrow");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
