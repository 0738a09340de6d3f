using WalverBot.Testing.FakeWalver;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;

namespace WalverBot.Tests.FaultDrills;

/// <summary>The database under the running bot: a second bot on the same file, the file deleted.</summary>
[LongRunning(8)]
public sealed class DatabaseOwnershipTests
{
    [Fact]
    public async Task A_database_deleted_under_the_running_bot_is_answered_503_and_readyz_says_why()
    {
        await using var bot = await BotScenario.StartAsync();
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook("alice"))).Status);

        File.Delete(bot.DatabasePath);

        var refused = await bot.SendAsync(bot.Webhook("bob"));
        Assert.Equal(503, refused.Status);
        Assert.Equal("storage unavailable, try again later", refused.Json!["error"]!.GetValue<string>());
        Assert.Contains(bot.Logs.Lines, l => l.Contains("Could not store a webhook", StringComparison.Ordinal) && l.Contains("was deleted", StringComparison.Ordinal));
        // A verification the bot has not read yet is looked up in the lost store: refused the same way, not a 500.
        Assert.Equal(503, (await bot.SendAsync(FakeWalverWebhook.For("wb_never_seen").WithDiscord("bob").Signed())).Status);
        using var http = new HttpClient();
        var ready = await http.GetAsync($"{bot.BaseUrl}/readyz");
        Assert.Equal(503, (int)ready.StatusCode);
        Assert.Contains("was deleted", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_bot_on_the_same_database_refuses_to_start_and_says_why()
    {
        await using var bot = await BotScenario.StartAsync();

        var error = await Assert.ThrowsAsync<WalverBot.Configuration.StartupException>(async () =>
        {
            await using var second = Program.BuildApp([$"--ConnectionStrings:WalverBot=Data Source={bot.DatabasePath}", "--Discord:Token=x"]);
            await Program.PrepareAsync(second);
        });

        Assert.StartsWith("another WalverBot process is using the database", error.Message, StringComparison.Ordinal);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status); // the first one is untouched
    }

    [Fact]
    public async Task A_second_bot_process_on_the_same_database_says_so_in_one_line_and_exits_2_and_backup_still_works()
    {
        await using var scenario = await ProcessScenario.StartAsync();
        await using var first = BotProcess.Start(scenario.Environment);
        await first.WaitForListeningAsync();

        var second = await BotProcess.RunAsync(scenario.Environment, TimeSpan.FromSeconds(60));

        Assert.True(second.ExitCode == 2, second.Output);
        var line = Assert.Single(second.Output.Split('\n'), l => l.Contains("another WalverBot process", StringComparison.Ordinal));
        Assert.StartsWith("WalverBot cannot start: another WalverBot process is using the database", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", second.Output, StringComparison.Ordinal);
        Assert.False(first.HasExited);

        // The operator commands open the database through SQLite's own locks, not the bot's lock file.
        var backupFile = Path.Combine(Path.GetDirectoryName(scenario.DatabasePath)!, "copy.db");
        var backup = await BotProcess.RunAsync(scenario.Environment, TimeSpan.FromSeconds(60), "backup", backupFile);
        Assert.True(backup.ExitCode == 0, backup.Output);
    }
}
