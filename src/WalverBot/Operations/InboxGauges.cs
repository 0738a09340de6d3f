using System.Diagnostics.Metrics;
using Dapper;
using WalverBot.Discord.Gateway;
using WalverBot.Storage;

namespace WalverBot.Operations;

/// <summary>
/// Gauges for Prometheus: inbox backlog and the age of its oldest event, events retrying, pending grants
/// (members not yet in the guild), and gateway readiness. A background loop reads the inbox figures every
/// <see cref="RefreshEvery"/>; a scrape only reads the cached figures, so it never waits on the database.
/// </summary>
public sealed class InboxGauges : BackgroundService
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(2);

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly ILogger<InboxGauges> _logger;
    private volatile Snapshot? _last;
    private bool _failing;

    public InboxGauges(BotMetrics metrics, Database database, IGatewayStatus gateway, TimeProvider time, ILogger<InboxGauges> logger)
    {
        _database = database;
        _time = time;
        _logger = logger;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("walverbot.inbox.backlog", () => Read(s => new Measurement<long>(s.Backlog)), "{event}", "Accepted webhook events not processed yet (due now or retrying later).");
        meter.CreateObservableGauge("walverbot.inbox.oldest_age", () => Read(OldestAgeSeconds), "s", "Age of the oldest unprocessed webhook event; 0 when the inbox is empty.");
        meter.CreateObservableGauge("walverbot.inbox.retrying", () => Read(s => new Measurement<long>(s.Retrying)), "{event}", "Unprocessed events that failed at least once (waiting for Discord).");
        meter.CreateObservableGauge("walverbot.grants.pending", () => Read(s => new Measurement<long>(s.WaitingMember)), "{grant}", "Grants waiting for the member to join the guild.");
        meter.CreateObservableGauge("walverbot.gateway.ready", () => gateway.IsReady ? 1 : 0, "{bool}", "1 while every gateway shard holds a READY or RESUMED session.");
    }

    /// <summary>Reads the inbox figures once; false (and the gauges absent) when the database could not be read.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken);
            var row = await connection.QuerySingleAsync<(long Backlog, long Retrying, long Waiting, string? Oldest)>(new CommandDefinition("""
                SELECT
                    COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN status = 'waiting_member' THEN 1 ELSE 0 END), 0),
                    MIN(CASE WHEN status = 'pending' THEN received_at END)
                FROM webhook_events
                WHERE status IN ('pending', 'waiting_member')
                """, cancellationToken: cancellationToken));
            var oldest = row.Oldest is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(row.Oldest, System.Globalization.CultureInfo.InvariantCulture);
            _last = new Snapshot(row.Backlog, row.Retrying, row.Waiting, oldest);
            _failing = false;
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Metrics must never stop the bot, whatever the database says.
            // Stale figures would hide a problem: the gauges are absent until the database answers again.
            _last = null;
            if (!_failing)
            {
                _logger.LogWarning("Could not read inbox gauges: {Message}", ex.Message);
            }

            _failing = true;
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshEvery, _time);
        try
        {
            do
            {
                await RefreshAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Measurement<T>[] Read<T>(Func<Snapshot, Measurement<T>> measure) where T : struct =>
        _last is { } last ? [measure(last)] : [];

    // The age grows between refreshes: computed at scrape time from the cached oldest receipt time.
    private Measurement<double> OldestAgeSeconds(Snapshot snapshot) =>
        new(snapshot.Oldest is { } oldest ? Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds) : 0);

    private sealed record Snapshot(long Backlog, long Retrying, long WaitingMember, DateTimeOffset? Oldest);
}
