using Microsoft.Data.Sqlite;
using WalverBot.Storage;
using WalverBot.Testing.FakeWalver;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>Another process holds the database's write lock for a few seconds.</summary>
[LongRunning(9)]
public sealed class DatabaseLockedTests
{
    [Fact]
    public async Task A_short_lock_is_waited_out_a_long_one_is_answered_503_with_a_clear_log_and_no_event_is_lost()
    {
        // Storage:BusyTimeout at its maximum (4 s) gives the wait below the most room on a loaded machine.
        var folder = Directory.CreateTempSubdirectory("walverbot-lock").FullName;
        var path = Path.Combine(folder, "walverbot.db");
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            [DrillMembers.SignaturesOff.Key] = DrillMembers.SignaturesOff.Value,
            ["ConnectionStrings:WalverBot"] = $"Data Source={path}",
            ["Storage:BusyTimeout"] = "00:00:04",
        });
        DrillMembers.Seed(bot.Discord, 3);
        var turns = bot.Services.GetRequiredService<Database>().WriteTurns;

        // A lock given up once the inbox writer has taken its write turn, so is at the lock and waiting in SQLite's busy
        // handler (or about to be): it waits and is accepted. Released off xunit's synchronization context, whose two
        // threads other tests share, so that the release is not queued behind them. (Released when the request merely
        // arrived, the lock was often gone before the store reached it; and once a release came later than the busy timeout.)
        var accepted = await Task.Run(async () =>
        {
            Task<FakeWebhookResponse> waiting;
            using (await HoldWriteLockAsync(path))
            {
                waiting = bot.SendAsync(DrillMembers.Webhook(0));
                await Eventually.UntilAsync(() => turns.IsHeld || waiting.IsCompleted, "the inbox writer to take its write turn", TimeSpan.FromSeconds(30));
            }

            return await waiting;
        });

        Assert.Equal(200, accepted.Status);

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
}
