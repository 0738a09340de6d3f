using Dapper;
using WalverBot.Storage;

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
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var match = (await DecisionsAsync(bot)).FirstOrDefault(d => d.Outcome == outcome);
            if (match.Outcome is not null)
            {
                return match;
            }

            await Task.Delay(25);
        }

        var seen = string.Join("; ", (await DecisionsAsync(bot)).Select(d => $"{d.Outcome}: {d.Reason}"));
        throw new TimeoutException($"no '{outcome}' decision within 15 s; decisions so far: [{seen}]");
    }
}
