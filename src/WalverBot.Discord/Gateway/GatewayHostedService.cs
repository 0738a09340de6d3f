using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Runs the gateway for the lifetime of the host. When the gateway stops for good (a fatal close code, a rejected
/// token) it logs one line saying what to fix and reports the stop on <see cref="IGatewayStatus.Stopped"/>; it never
/// stops the host nor sets an exit code: the host decides what a stopped gateway means for it. After an unexpected
/// error it starts the gateway again, with a backoff. At shutdown it lets the event handlers finish within the host's
/// shutdown budget.
/// </summary>
internal sealed class GatewayHostedService(
    DiscordGatewayClient client, GatewayStatus status, GatewayEventDispatcher dispatcher, TimeProvider time, ILogger<GatewayHostedService> logger)
    : BackgroundService
{
    /// <summary>Waits between runs after an unexpected error: 5 s doubling to 5 min, so a bug cannot become a storm.</summary>
    internal static readonly ExponentialBackoff RestartBackoff = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), 0.5, 1.0);

    /// <summary>Where the restart jitter comes from (tests pin it).</summary>
    internal Func<double> Random { get; init; } = System.Random.Shared.NextDouble;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var failures = 0; !stoppingToken.IsCancellationRequested; failures++)
        {
            try
            {
                await client.RunAsync(stoppingToken);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (GatewayFatalException ex)
            {
                var stop = ex.ToStop(time.GetUtcNow());
                // One line, no stack trace: the message already says what to change. Logged before the stop is reported,
                // so whoever reacts to the report (the app, a test) finds the line already written.
                logger.LogCritical("Discord gateway {Stop}", stop.ToString());
                status.SetStopped(stop);
                return;
            }
            catch (Exception ex)
            {
                // Not a refusal by Discord (those are fatal closes, above) but a fault of ours or of the network that the
                // client did not absorb: start again after a backoff rather than leave grants waiting for an operator.
                // IDENTIFYs stay within the session start limit, which the client's identify gate enforces.
                var delay = RestartBackoff.Delay(failures, Random());
                logger.LogError(ex, "Discord gateway failed unexpectedly; starting it again in {Delay}", delay);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // First the shards: they close their connections and hand over the events they had already read.
        await base.StopAsync(cancellationToken);
        // Then the handlers, until the host's shutdown budget (the token) runs out.
        await dispatcher.DrainAsync(cancellationToken);
    }
}
