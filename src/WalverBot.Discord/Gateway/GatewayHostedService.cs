using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Runs the gateway for the lifetime of the host. When the gateway stops for good (a fatal close code, a rejected
/// token, an unexpected error) it logs one line saying what to fix and reports the stop on
/// <see cref="IGatewayStatus.Stopped"/>; it never stops the host nor sets an exit code: the host decides what a
/// stopped gateway means for it. At shutdown it lets the event handlers finish within the host's shutdown budget.
/// </summary>
internal sealed class GatewayHostedService(
    DiscordGatewayClient client, GatewayStatus status, GatewayEventDispatcher dispatcher, TimeProvider time, ILogger<GatewayHostedService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await client.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (GatewayFatalException ex)
        {
            var stop = ex.ToStop(time.GetUtcNow());
            // One line, no stack trace: the message already says what to change. Logged before the stop is reported,
            // so whoever reacts to the report (the app, a test) finds the line already written.
            logger.LogCritical("Discord gateway {Stop}", stop.ToString());
            status.SetStopped(stop);
        }
        catch (Exception ex)
        {
            var stop = new GatewayStop($"unexpected error ({ex.GetType().Name}: {ex.Message})", "restart the bot; if it happens again, report this log line", time.GetUtcNow());
            logger.LogCritical(ex, "Discord gateway {Stop}", stop.ToString());
            status.SetStopped(stop);
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
