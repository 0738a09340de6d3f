using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Discord.Gateway;
using WalverBot.Operations;
using WalverBot.Storage;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.Operations;

/// <summary>The inbox gauges without a host: real SQLite, a fake clock, the meter read as an exporter would.</summary>
public class InboxGaugesTests
{
    /// <summary>Which store the tests run against (PostgreSQL in <see cref="PostgresInboxGaugesTests"/>).</summary>
    protected virtual string Provider => StorageProviders.Sqlite;

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task A_scrape_reads_the_figures_of_the_last_refresh_and_never_the_database()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var gauges = Create(services, db.Database, time);
        await InsertEventAsync(db.Database, "pending", attempts: 1, receivedAt: Start.AddSeconds(-30));
        await InsertEventAsync(db.Database, "waiting_member", attempts: 0, receivedAt: Start.AddSeconds(-90));

        Assert.DoesNotContain("walverbot.inbox.backlog", Scrape(services).Keys);

        Assert.True(await gauges.RefreshAsync(CancellationToken.None));
        var first = Scrape(services);
        Assert.Equal(1, first["walverbot.inbox.backlog"]);
        Assert.Equal(1, first["walverbot.inbox.retrying"]);
        Assert.Equal(1, first["walverbot.grants.pending"]);
        Assert.Equal(30, first["walverbot.inbox.oldest_age"]);
        Assert.Equal(0, first["walverbot.gateway.ready"]);

        // New work and a later clock: the scrape still shows the cached counts (no query), with the age kept current.
        await InsertEventAsync(db.Database, "pending", attempts: 0, receivedAt: Start);
        time.Advance(TimeSpan.FromSeconds(1));
        var cached = Scrape(services);
        Assert.Equal(1, cached["walverbot.inbox.backlog"]);
        Assert.Equal(31, cached["walverbot.inbox.oldest_age"]);

        Assert.True(await gauges.RefreshAsync(CancellationToken.None));
        var second = Scrape(services);
        Assert.Equal(2, second["walverbot.inbox.backlog"]);
        Assert.Equal(1, second["walverbot.inbox.retrying"]);
    }

    [SkippableFact]
    public async Task The_background_loop_refreshes_the_figures_on_the_clock()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var gauges = Create(services, db.Database, time);

        await gauges.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(services, backlog: 0);
            await InsertEventAsync(db.Database, "pending", attempts: 0, receivedAt: Start);
            Assert.Equal(0, Scrape(services)["walverbot.inbox.backlog"]);

            time.Advance(InboxGauges.RefreshEvery);
            await WaitForAsync(services, backlog: 1);
        }
        finally
        {
            await gauges.StopAsync(CancellationToken.None);
        }
    }

    [SkippableFact]
    public async Task An_unreadable_database_leaves_the_gauges_absent_instead_of_stale_or_failing_the_scrape()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var time = new FakeTimeProvider(Start);
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var gauges = Create(services, db.Database, time);
        Assert.True(await gauges.RefreshAsync(CancellationToken.None));
        Assert.Equal(0, Scrape(services)["walverbot.inbox.backlog"]);

        await using (var connection = await db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("ALTER TABLE webhook_events RENAME TO webhook_events_gone");
        }

        Assert.False(await gauges.RefreshAsync(CancellationToken.None));
        var scrape = Scrape(services);
        Assert.DoesNotContain("walverbot.inbox.backlog", scrape.Keys);
        Assert.DoesNotContain("walverbot.grants.pending", scrape.Keys);
        Assert.Contains("walverbot.gateway.ready", scrape.Keys);
    }

    private static InboxGauges Create(IServiceProvider services, Database database, TimeProvider time) =>
        new(new BotMetrics(services.GetRequiredService<IMeterFactory>()), database, new NotReadyGateway(), time, NullLogger<InboxGauges>.Instance);

    /// <summary>Every observable instrument of this provider's meters, read once, as the Prometheus exporter does.</summary>
    private static Dictionary<string, double> Scrape(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static Task WaitForAsync(IServiceProvider services, long backlog) =>
        Eventually.UntilAsync(
            () => Scrape(services).TryGetValue("walverbot.inbox.backlog", out var value) ? value : (double?)null, value => value == backlog,
            $"the backlog gauge to show {backlog}", TimeSpan.FromSeconds(10), value => $"backlog gauge {value?.ToString() ?? "absent"}");

    private static async Task InsertEventAsync(Database database, string status, int attempts, DateTimeOffset receivedAt)
    {
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO webhook_events (delivery_key, verification_id, guild_id, wallet_address, member_query, payload, received_at, status, attempts, next_attempt_at)
            VALUES (@key, 'v1', 1, '0xabc', 'dave', '{}', @receivedAt, @status, @attempts, @receivedAt);
            """, new { key = Guid.NewGuid().ToString("N"), receivedAt = Database.Format(receivedAt), status, attempts });
    }

    private sealed class NotReadyGateway : IGatewayStatus
    {
        public bool IsReady => false;
        public string? NotReadyReason => "connecting";
        public GatewayStop? Stopped => null;
        public Task<GatewayStop> WhenStopped => new TaskCompletionSource<GatewayStop>().Task;
    }
}

/// <summary>The same tests on a real PostgreSQL server.</summary>
[Trait("Needs", "postgres")]
public sealed class PostgresInboxGaugesTests : InboxGaugesTests
{
    protected override string Provider => StorageProviders.Postgres;
}
