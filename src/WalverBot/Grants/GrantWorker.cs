using WalverBot.Webhooks;

namespace WalverBot.Grants;

/// <summary>
/// Drains the webhook inbox: at start it picks up every unfinished event (nothing acknowledged is lost in a crash),
/// then wakes on each new event, on the next retry time, or on a slow poll.
/// </summary>
public sealed class GrantWorker(
    WebhookInbox inbox,
    GrantLedger ledger,
    GrantSignal signal,
    IServiceProvider services,
    TimeProvider time,
    ILogger<GrantWorker> logger,
    Operations.BotMetrics metrics,
    WalverBot.Discord.Gateway.IGatewayStatus gateway) : BackgroundService
{
    private const int BatchSize = 100;
    private const int ParallelGuilds = 4;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ErrorPause = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (gateway.Stopped is { } stop)
                {
                    // The gateway stopped for good (a reset token, a disabled intent): Discord would refuse the REST
                    // calls too, and a refusal is final. Events wait in the inbox for the restart after the fix.
                    logger.LogWarning("Grant worker paused until the bot is restarted: the Discord gateway {Stop}", stop.ToString());
                    await Task.Delay(Timeout.Infinite, stoppingToken);
                }

                await ExpireWaitingAsync(stoppingToken);
                var due = await inbox.DueAsync(BatchSize, stoppingToken);
                if (due.Count > 0)
                {
                    if (await ProcessAsync(due, stoppingToken) > 0)
                    {
                        // Events whose failure could not even be recorded are still due: pause instead of spinning on them.
                        await Task.Delay(ErrorPause, time, stoppingToken);
                    }

                    continue;
                }

                await signal.WaitAsync(await IdleWaitAsync(stoppingToken), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // A database hiccup (locked, disk full) must not end the worker: the events stay in the inbox.
                logger.LogError(ex, "Grant worker failed a pass over the inbox; trying again in {Delay}", ErrorPause);
                try
                {
                    await Task.Delay(ErrorPause, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await inbox.ReleaseClaimsAsync(logger);
    }

    /// <summary>
    /// Guilds are processed in parallel; one guild's events in order, so wallet links never race. One event that fails
    /// beyond what its processor could record (the database refused the retry too) never stops the others; returns how
    /// many did.
    /// </summary>
    private async Task<int> ProcessAsync(IReadOnlyList<InboxEvent> due, CancellationToken stoppingToken)
    {
        var unrecorded = 0;
        var claims = new InboxClaims(inbox, time, due.Select(e => e.Id));
        await Parallel.ForEachAsync(
            due.GroupBy(e => e.GuildId),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelGuilds, CancellationToken = stoppingToken },
            async (guildEvents, token) =>
            {
                foreach (var inboxEvent in guildEvents)
                {
                    if (!await claims.StartAsync(inboxEvent.Id, token))
                    {
                        continue; // its lease ran out in a slow batch and another instance took it over
                    }

                    var started = time.GetTimestamp();
                    try
                    {
                        await using var scope = services.CreateAsyncScope();
                        var processor = scope.ServiceProvider.GetRequiredService<GrantProcessor>();
                        await processor.ProcessAsync(inboxEvent, token);
                    }
                    catch (Exception ex) when (!token.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref unrecorded);
                        logger.LogError(ex, "Event {EventId} of verification {VerificationId} failed and the failure could not be recorded ({ErrorId}); it stays due",
                            inboxEvent.Id, inboxEvent.VerificationId, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)));
                    }

                    metrics.Processed(time.GetElapsedTime(started));
                }
            });
        return unrecorded;
    }

    private async Task<TimeSpan> IdleWaitAsync(CancellationToken stoppingToken)
    {
        var next = await inbox.NextDueAsync(stoppingToken);
        if (next is null)
        {
            return IdlePoll;
        }

        var wait = next.Value - time.GetUtcNow();
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < IdlePoll ? wait : IdlePoll;
    }

    private async Task ExpireWaitingAsync(CancellationToken stoppingToken)
    {
        foreach (var expired in await inbox.ExpiredWaitingAsync(stoppingToken))
        {
            await ledger.RecordOutcomeAsync(expired, EventStatus.Expired,
                Decision.Reject(Outcomes.PendingExpired, "the member did not join the server in time"), null, null, null, stoppingToken);
        }
    }
}
