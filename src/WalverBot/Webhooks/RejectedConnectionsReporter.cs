using System.Diagnostics.Metrics;

namespace WalverBot.Webhooks;

/// <summary>
/// Kestrel logs one warning per connection refused over <c>Webhook:MaxConnections</c>: a flood of 19,000 connections
/// wrote 13,893 log lines. Those lines are silenced (LoggingSetup) and this writes one line a minute at most instead,
/// counted from Kestrel's own <c>kestrel.rejected_connections</c> counter of this host.
/// </summary>
public sealed class RejectedConnectionsReporter(IMeterFactory meters, TimeProvider time, ILogger<RejectedConnectionsReporter> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private long _rejected;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this host's Kestrel: other hosts in the process (tests) have meters of their own factory.
            if (instrument is { Name: "kestrel.rejected_connections" } && instrument.Meter.Name == "Microsoft.AspNetCore.Server.Kestrel" &&
                ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _rejected, value));
        listener.Start();

        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Report();
            }
        }
        catch (OperationCanceledException)
        {
        }

        Report();
    }

    private void Report()
    {
        var rejected = Interlocked.Exchange(ref _rejected, 0);
        if (rejected > 0)
        {
            logger.LogWarning("Refused {Count} connection(s) since the last such line: Webhook:MaxConnections connections were already open (a connection flood, or raise the limit)", rejected);
        }
    }
}
