namespace WalverBot.ScaleOut;

/// <summary>Runs a once-only job's work while this instance holds the job, and waits its turn otherwise.</summary>
public static class OnceOnlyJobRunner
{
    /// <summary>How often an instance that does not hold a job asks again whether it is free.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Loops until <paramref name="stoppingToken"/>: takes <paramref name="job"/> when it is free and runs
    /// <paramref name="work"/> with a token that is also cancelled when the holding ends, so the work stops as soon as
    /// another instance may take over; then (or while another instance holds the job) asks again every
    /// <see cref="RetryInterval"/>. <paramref name="work"/> is expected to run until its token is cancelled; when it
    /// fails instead, the failure is logged and the work runs again after <see cref="RetryInterval"/>.
    /// </summary>
    public static async Task RunOnceOnlyAsync(
        this IJobLeader leader, string job, Func<CancellationToken, Task> work, TimeProvider time, ILogger logger, CancellationToken stoppingToken)
    {
        var toldWaiting = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            bool held;
            try
            {
                held = await leader.TryAcquireAsync(job, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Could not learn whether this instance may run the once-only job {Job}: {Error}; asking again in {Retry}", job, ex.Message, RetryInterval);
                held = false;
            }

            if (held)
            {
                toldWaiting = false;
                var released = leader.Released(job);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, released);
                try
                {
                    await work(linked.Token);
                }
                catch (OperationCanceledException) when (linked.IsCancellationRequested)
                {
                }
                catch (Exception ex)
                {
                    // A failed run (the database gone for a moment while the job read it) must not end the job's
                    // BackgroundService: the host stops the whole process when one fails
                    // (HostOptions.BackgroundServiceExceptionBehavior), and webhooks with it. The job stays held and runs again.
                    logger.LogError(ex, "The once-only job {Job} failed; running it again in {Retry}", job, RetryInterval);
                }

                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                if (released.IsCancellationRequested)
                {
                    logger.LogWarning("This instance no longer holds the once-only job {Job}; it stopped running it so another instance can", job);
                }
            }
            else if (!toldWaiting)
            {
                logger.LogInformation("The once-only job {Job} runs on another instance; this one takes it over when that one stops", job);
                toldWaiting = true;
            }

            try
            {
                await Task.Delay(RetryInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
