using System.Diagnostics.Metrics;
using WalverBot.Discord.Gateway;
using WalverBot.Operations;

namespace WalverBot.Health;

/// <summary>
/// What a gateway that stopped for good (<see cref="IGatewayStatus.Stopped"/>: a fatal close such as 4004 or 4014)
/// means for this bot: the process keeps running and keeps accepting and storing webhooks; grants wait in the inbox.
/// The gateway logged one line when it stopped; this repeats it every <see cref="AdviceInterval"/> so it is not lost
/// in the logs, and exports it as <c>walverbot_gateway_stopped{close_code, advice} 1</c>.
/// </summary>
public sealed class GatewayStopReporter : BackgroundService
{
    public static readonly TimeSpan AdviceInterval = TimeSpan.FromMinutes(10);

    private readonly IGatewayStatus _gateway;
    private readonly TimeProvider _time;
    private readonly ILogger<GatewayStopReporter> _logger;

    public GatewayStopReporter(IGatewayStatus gateway, BotMetrics metrics, TimeProvider time, ILogger<GatewayStopReporter> logger)
    {
        _gateway = gateway;
        _time = time;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("walverbot.gateway.stopped", Measure, "{bool}",
            "1 while the Discord gateway has stopped for good; labels: the close code and what the operator has to change.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var stop = await _gateway.WhenStopped.WaitAsync(stoppingToken);
            for (var repeat = 1; ; repeat++)
            {
                // Due times count from the stop, so a late wake-up never shifts the next line.
                await _time.DelayUntilAsync(stop.At + (AdviceInterval * repeat), stoppingToken);

                var stoppedFor = TimeSpan.FromSeconds(Math.Round((_time.GetUtcNow() - stop.At).TotalSeconds));
                _logger.LogCritical(
                    "Discord gateway still {Stop} (for {StoppedFor}); webhooks are accepted and stored, grants wait until this is fixed and the bot restarted",
                    stop.ToString(), stoppedFor);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private IEnumerable<Measurement<int>> Measure()
    {
        if (_gateway.Stopped is not { } stop)
        {
            return [];
        }

        return
        [
            new Measurement<int>(1,
                new KeyValuePair<string, object?>("close_code", stop.CloseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"),
                new KeyValuePair<string, object?>("advice", stop.Advice)),
        ];
    }
}
