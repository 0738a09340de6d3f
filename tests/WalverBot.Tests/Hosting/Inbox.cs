using Dapper;
using Microsoft.Data.Sqlite;
using WalverBot.Storage;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Hosting;

/// <summary>Reads the bot's database directly, as an operator with sqlite3 would.</summary>
public static class Inbox
{
    public static async Task<int> CountEventsAsync(BotScenario bot)
    {
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM webhook_events");
    }

    public static async Task<IReadOnlyList<(string Outcome, string Reason)>> DecisionsAsync(BotScenario bot)
    {
        await using var connection = await bot.Services.GetRequiredService<Database>().OpenAsync();
        var rows = await connection.QueryAsync<(string, string)>("SELECT outcome, reason FROM decisions ORDER BY id");
        return rows.ToList();
    }

    /// <summary>Waits until the decision log has an entry with the outcome.</summary>
    public static async Task<(string Outcome, string Reason)> WaitForDecisionAsync(BotScenario bot, string outcome)
    {
        var decisions = await Eventually.UntilAsync(
            () => DecisionsAsync(bot), all => all.Any(d => d.Outcome == outcome), $"a '{outcome}' decision",
            describe: all => $"decisions [{string.Join("; ", all.Select(d => $"{d.Outcome}: {d.Reason}"))}]");
        return decisions.First(d => d.Outcome == outcome);
    }

    /// <summary>The inbox as the worker left it: events per status, and how many of the settled ones have no decision.</summary>
    public sealed record State(IReadOnlyDictionary<string, int> EventsByStatus, int SettledWithoutDecision)
    {
        public int Events => EventsByStatus.Values.Sum();

        /// <summary>
        /// Every accepted event has a decision: it is done, failed or expired, or waits for its member to join. Nothing is
        /// pending, whether due now, claimed by the worker or waiting out a retry, so the worker will call Discord no more.
        /// </summary>
        public bool IsDrained => EventsByStatus.GetValueOrDefault(EventStatus.Pending) == 0 && SettledWithoutDecision == 0;

        public override string ToString() =>
            $"events [{string.Join(", ", EventsByStatus.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"))}], " +
            $"{SettledWithoutDecision} settled without a decision";
    }

    /// <summary>Reads the inbox's state from the database file, as sqlite3 would (also while another process runs the bot).</summary>
    public static async Task<State> ReadStateAsync(string databasePath)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var byStatus = (await connection.QueryAsync<(string Status, int Count)>("SELECT status, COUNT(*) FROM webhook_events GROUP BY status"))
            .ToDictionary(row => row.Status, row => row.Count, StringComparer.Ordinal);
        var undecided = await connection.ExecuteScalarAsync<int>("""
            SELECT COUNT(*) FROM webhook_events e
            WHERE e.status <> 'pending' AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.event_id = e.id)
            """);
        return new State(byStatus, undecided);
    }

    /// <summary>
    /// Waits until the inbox is drained (<see cref="State.IsDrained"/>) with at least <paramref name="atLeast"/> events,
    /// so that a test asserting that something did not happen (no role PUT, no duplicate) asserts it after the bot
    /// finished deciding, not merely after some time.
    /// </summary>
    public static Task<State> WaitUntilDrainedAsync(string databasePath, int atLeast = 1, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(
            () => ReadStateAsync(databasePath), state => state.IsDrained && state.Events >= atLeast,
            $"the inbox to be drained with at least {atLeast} event(s)", timeout);

    /// <summary>
    /// On a scenario's fake clock: waits until no pending event is due at the clock's now, i.e. the worker has taken
    /// every due event and stored its outcome or its next attempt. The step a test makes before it moves the clock on.
    /// </summary>
    public static Task WaitUntilNothingDueAsync(BotScenario bot, TimeSpan? timeout = null)
    {
        var clock = bot.Time ?? throw new InvalidOperationException("the scenario runs on real time: start it with a FakeTimeProvider");
        return Eventually.UntilAsync(
            async () =>
            {
                await using var connection = new SqliteConnection($"Data Source={bot.DatabasePath};Mode=ReadOnly;Pooling=False");
                await connection.OpenAsync();
                return await connection.ExecuteScalarAsync<int>(
                    "SELECT COUNT(*) FROM webhook_events WHERE status = 'pending' AND next_attempt_at <= @now",
                    new { now = Database.Format(clock.GetUtcNow()) });
            },
            due => due == 0, $"the worker to handle every event due at {clock.GetUtcNow():HH:mm:ss.fff} on the fake clock", timeout,
            due => $"{due} event(s) still due");
    }

    /// <summary>When the earliest pending event falls due again, if any.</summary>
    public static async Task<DateTimeOffset?> NextRetryAsync(string databasePath)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var next = await connection.ExecuteScalarAsync<string?>("SELECT MIN(next_attempt_at) FROM webhook_events WHERE status = 'pending'");
        return next is null ? null : DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc cref="WaitUntilDrainedAsync(string, int, TimeSpan?)"/>
    public static Task<State> WaitUntilDrainedAsync(BotScenario bot, int atLeast = 1, TimeSpan? timeout = null) =>
        WaitUntilDrainedAsync(bot.DatabasePath, atLeast, timeout);
}
