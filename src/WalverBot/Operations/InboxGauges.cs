using System.Diagnostics.Metrics;
using Dapper;
using WalverBot.Discord.Gateway;
using WalverBot.Storage;

namespace WalverBot.Operations;

/// <summary>
/// Gauges read when Prometheus scrapes: inbox backlog and the age of its oldest event, events retrying,
/// pending grants (members not yet in the guild), and gateway readiness. One small query per scrape.
/// </summary>
public sealed class InboxGauges
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMilliseconds(200);

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly ILogger<InboxGauges> _logger;
    private readonly Lock _gate = new();
    private Snapshot? _last;
    private DateTimeOffset _lastAt;

    public InboxGauges(BotMetrics metrics, Database database, IGatewayStatus gateway, TimeProvider time, ILogger<InboxGauges> logger)
    {
        _database = database;
        _time = time;
        _logger = logger;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("walverbot.inbox.backlog", () => Read()?.Backlog ?? Empty, "{event}", "Accepted webhook events not processed yet (due now or retrying later).");
        meter.CreateObservableGauge("walverbot.inbox.oldest_age", () => Read()?.OldestAgeSeconds ?? EmptyDouble, "s", "Age of the oldest unprocessed webhook event; 0 when the inbox is empty.");
        meter.CreateObservableGauge("walverbot.inbox.retrying", () => Read()?.Retrying ?? Empty, "{event}", "Unprocessed events that failed at least once (waiting for Discord).");
        meter.CreateObservableGauge("walverbot.grants.pending", () => Read()?.WaitingMember ?? Empty, "{grant}", "Grants waiting for the member to join the guild.");
        meter.CreateObservableGauge("walverbot.gateway.ready", () => gateway.IsReady ? 1 : 0, "{bool}", "1 while every gateway shard holds a READY or RESUMED session.");
    }

    private static IEnumerable<Measurement<long>> Empty => [];

    private static IEnumerable<Measurement<double>> EmptyDouble => [];

    private Snapshot? Read()
    {
        lock (_gate)
        {
            // The four gauges are read one after the other in a scrape: one query serves them all.
            if (_last is not null && _time.GetUtcNow() - _lastAt < CacheFor)
            {
                return _last;
            }

            try
            {
                using var connection = _database.OpenAsync().GetAwaiter().GetResult();
                var row = connection.QuerySingle<(long Backlog, long Retrying, long Waiting, string? Oldest)>("""
                    SELECT
                        COALESCE(SUM(status = 'pending'), 0),
                        COALESCE(SUM(status = 'pending' AND attempts > 0), 0),
                        COALESCE(SUM(status = 'waiting_member'), 0),
                        MIN(CASE WHEN status = 'pending' THEN received_at END)
                    FROM webhook_events
                    WHERE status IN ('pending', 'waiting_member')
                    """);
                var now = _time.GetUtcNow();
                var oldest = row.Oldest is null
                    ? 0
                    : Math.Max(0, (now - DateTimeOffset.Parse(row.Oldest, System.Globalization.CultureInfo.InvariantCulture)).TotalSeconds);
                _last = new Snapshot(
                    [new(row.Backlog)], [new(oldest)], [new(row.Retrying)], [new(row.Waiting)]);
                _lastAt = now;
                return _last;
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
            {
                // A scrape must not fail because the database is busy; the gauges are simply absent this time.
                _logger.LogWarning("Could not read inbox gauges: {Message}", ex.Message);
                return null;
            }
        }
    }

    private sealed record Snapshot(
        Measurement<long>[] Backlog, Measurement<double>[] OldestAgeSeconds, Measurement<long>[] Retrying, Measurement<long>[] WaitingMember);
}
