using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using WalverBot.Testing.FakeWalver;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>Another process holds the database's write lock for a few seconds.</summary>
public sealed class DatabaseLockedTests
{
    [Fact]
    public async Task A_short_lock_is_waited_out_a_long_one_is_answered_503_with_a_clear_log_and_no_event_is_lost()
    {
        // Microsoft.Data.Sqlite retries a busy database until the command timeout (30 s by default); 2 s keeps the drill short.
        var folder = Directory.CreateTempSubdirectory("walverbot-lock").FullName;
        var path = Path.Combine(folder, "walverbot.db");
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            [DrillMembers.SignaturesOff.Key] = DrillMembers.SignaturesOff.Value,
            ["ConnectionStrings:WalverBot"] = $"Data Source={path};Default Timeout=2",
            ["Storage:BusyTimeout"] = "00:00:02",
        });
        DrillMembers.Seed(bot.Discord, 3);

        // A lock given up once the webhook has reached the bot, well inside the 2 s busy timeout: it waits and is accepted.
        Task<FakeWebhookResponse> waiting;
        using (var arrived = new RequestArrivals(bot.Services))
        using (await HoldWriteLockAsync(path))
        {
            waiting = bot.SendAsync(DrillMembers.Webhook(0));
            await arrived.First.WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(200, (await waiting).Status);

        // A lock held until the answer is in, so longer than the busy timeout however late the request runs: the webhook
        // is refused with 503 (Walver retries), never acknowledged without being stored. (A 5 s timer let a request that
        // reached the store late on a loaded machine outlast the lock and be accepted.)
        var refused = await Task.Run(async () =>
        {
            using var hold = await HoldWriteLockAsync(path);
            return await bot.SendAsync(DrillMembers.Webhook(1));
        });
        Assert.Equal(503, refused.Status);
        Assert.Contains(bot.Logs.Lines, l => l.Contains("Could not store a webhook for verification", StringComparison.Ordinal)
                                            && l.Contains("SQLite error 5", StringComparison.Ordinal)
                                            && l.Contains("database is locked", StringComparison.Ordinal));

        // Walver's retry after the lock is gone is accepted; both members get their role once.
        Assert.Equal(200, (await bot.SendAsync(DrillMembers.Webhook(1))).Status);
        await bot.Discord.WaitUntilAsync(d => DrillMembers.AssignmentsPerMember(d).Count == 2, TimeSpan.FromSeconds(20), "two grants");
        Assert.All(DrillMembers.AssignmentsPerMember(bot.Discord).Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task With_the_default_timeouts_a_lock_longer_than_the_busy_timeout_is_answered_503_in_time_and_nothing_is_stored()
    {
        // No test overrides: the defaults decide. Before, a 10 s busy timeout plus Microsoft.Data.Sqlite's 30 s command
        // timeout let the 10 s request timeout answer 408 while the delivery was stored once the lock went away.
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { [DrillMembers.SignaturesOff.Key] = DrillMembers.SignaturesOff.Value });
        DrillMembers.Seed(bot.Discord, 2);

        FakeWebhookResponse refused;
        using (await HoldWriteLockAsync(bot.DatabasePath))
        {
            refused = await bot.SendAsync(DrillMembers.Webhook(0)); // the lock is held until the answer is in
        }

        // 503 from the store, not the request timeout's answer: the busy wait ended inside the 10 s request timeout.
        Assert.Equal(503, refused.Status);
        Assert.Equal(0, await Inbox.CountEventsAsync(bot));
        Assert.Equal(200, (await bot.SendAsync(DrillMembers.Webhook(0))).Status); // Walver's retry
        Assert.Equal(1, await Inbox.CountEventsAsync(bot));
    }

    /// <summary>Takes the write lock in a separate connection (as a second process would) and releases it when disposed.</summary>
    private static async Task<IDisposable> HoldWriteLockAsync(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        using (var begin = connection.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS drill_lock (x); INSERT INTO drill_lock VALUES (1);";
            await begin.ExecuteNonQueryAsync();
        }

        return new Releaser(connection);
    }

    private sealed class Releaser(SqliteConnection connection) : IDisposable
    {
        public void Dispose()
        {
            using (var rollback = connection.CreateCommand())
            {
                rollback.CommandText = "ROLLBACK";
                rollback.ExecuteNonQuery();
            }

            connection.Dispose();
        }
    }

    /// <summary>
    /// Completes <see cref="First"/> when this bot starts handling a request: ASP.NET Core's
    /// <c>http.server.active_requests</c> goes up, read from this bot's own meters (other bots run in the same process).
    /// </summary>
    private sealed class RequestArrivals : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RequestArrivals(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "http.server.active_requests")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, change, _, _) =>
            {
                if (change > 0)
                {
                    _first.TrySetResult();
                }
            });
            _listener.Start();
        }

        public Task First => _first.Task;

        public void Dispose() => _listener.Dispose();
    }
}
