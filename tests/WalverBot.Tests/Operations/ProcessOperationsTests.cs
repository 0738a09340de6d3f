using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WalverBot.Operations;
using WalverBot.Testing.FakeWalver;
using WalverBot.Testing.Http;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Operations;

/// <summary>The executable as an operator runs it: JSON logs, the operator commands' exit codes, SIGTERM.</summary>
[LongRunning(40)]
public sealed class ProcessOperationsTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Json_log_format_writes_one_compact_JSON_object_per_line_with_the_same_properties()
    {
        await using var scenario = await ProcessScenario.StartAsync();
        await using var bot = BotProcess.Start(scenario.With(("Logging__Format", "json")));
        var url = await bot.WaitForListeningAsync();
        using var sender = new FakeWalverWebhookSender();

        Assert.Equal(200, (await sender.SendAsync($"{url}/webhooks/walver", scenario.Fakes.Webhook())).Status);
        await scenario.Fakes.WaitForRolePutsAsync(BotScenario.AliceId);
        await bot.WaitForOutputAsync("\"Outcome\":\"granted\"", TimeSpan.FromSeconds(10));

        var events = bot.Output.Select(line => JsonDocument.Parse(line).RootElement).ToList(); // every line parses
        Assert.All(events, e => Assert.True(e.TryGetProperty("@t", out _) && e.TryGetProperty("@mt", out _)));
        var accepted = Assert.Single(events, e => e.GetProperty("@mt").GetString()!.StartsWith("Accepted webhook event", StringComparison.Ordinal));
        Assert.Equal(BotScenario.VerificationId, accepted.GetProperty("VerificationId").GetString());
        Assert.Equal("WalverBot.Webhooks.WebhookReceiver", accepted.GetProperty("SourceContext").GetString());
        var decision = Assert.Single(events, e => e.TryGetProperty("Outcome", out var o) && o.GetString() == "granted");
        Assert.Equal(BotScenario.AliceId, decision.GetProperty("UserId").ToString());
        Assert.DoesNotContain(scenario.Discord.Token, string.Join('\n', bot.Output), StringComparison.Ordinal);
        Assert.DoesNotContain(BotScenario.Secret, string.Join('\n', bot.Output), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operator_commands_exit_with_clear_codes()
    {
        await using var scenario = await ProcessScenario.StartAsync();

        var noToken = await BotProcess.RunAsync(scenario.With(("Discord__Token", "")), CommandTimeout, "check");
        Assert.True(noToken.ExitCode == OperatorCommands.ConfigurationInvalid, noToken.Output);
        Assert.Contains("FAIL  config: Discord:Token is required", noToken.Output, StringComparison.Ordinal);

        var usage = await BotProcess.RunAsync(scenario.Environment, CommandTimeout, "backup");
        Assert.Equal(OperatorCommands.Usage, usage.ExitCode);
        Assert.Contains("usage: WalverBot backup <file>", usage.Output, StringComparison.Ordinal);

        var noDatabase = await BotProcess.RunAsync(scenario.Environment, CommandTimeout, "backup", Path.Combine(Path.GetTempPath(), $"wb-{Guid.NewGuid():N}.db"));
        Assert.Equal(OperatorCommands.Failure, noDatabase.ExitCode);
        Assert.Contains("does not exist", noDatabase.Output, StringComparison.Ordinal);

        var nobodyListening = await BotProcess.RunAsync(scenario.With(("Urls", "http://0.0.0.0:1")), CommandTimeout, "--health");
        Assert.Equal(OperatorCommands.Failure, nobodyListening.ExitCode);
        Assert.Contains("http://127.0.0.1:1/healthz", nobodyListening.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_probe_and_online_backup_work_against_the_running_bot()
    {
        await using var scenario = await ProcessScenario.StartAsync();
        await using var bot = BotProcess.Start(scenario.Environment);
        var url = await bot.WaitForListeningAsync();
        using var sender = new FakeWalverWebhookSender();
        Assert.Equal(200, (await sender.SendAsync($"{url}/webhooks/walver", scenario.Fakes.Webhook())).Status);

        var health = await BotProcess.RunAsync(scenario.With(("Urls", url.Replace("127.0.0.1", "0.0.0.0", StringComparison.Ordinal))), CommandTimeout, "--health");
        Assert.True(health.ExitCode == 0, health.Output);

        var backupFile = Path.Combine(Path.GetDirectoryName(scenario.DatabasePath)!, "backups", "walverbot-backup.db");
        var backup = await BotProcess.RunAsync(scenario.Environment, CommandTimeout, "backup", backupFile);
        Assert.True(backup.ExitCode == 0, backup.Output);
        Assert.Contains($"copied to {backupFile}", backup.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(backupFile + "-wal"));
        await using var copy = new SqliteConnection($"Data Source={backupFile};Mode=ReadOnly;Pooling=False");
        await copy.OpenAsync();
        await using var count = copy.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM webhook_events";
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Sigterm_refuses_new_webhooks_parks_in_flight_work_flushes_logs_and_exits_zero_and_nothing_is_lost()
    {
        await using var scenario = await ProcessScenario.StartAsync();
        // The role PUT hangs for good: the worker is mid-event when the stop comes, and a bot that waited for it would never exit.
        scenario.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.Hold(new TaskCompletionSource().Task), times: 1);
        await using (var bot = BotProcess.Start(scenario.Environment))
        {
            var url = await bot.WaitForListeningAsync();
            using var sender = new FakeWalverWebhookSender();
            Assert.Equal(200, (await sender.SendAsync($"{url}/webhooks/walver", scenario.Fakes.Webhook())).Status);
            // The fake records a request when it arrives, before the delay fault holds it: the worker is inside the PUT.
            await Eventually.UntilAsync(
                () => scenario.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*").Count == 1, "the role PUT to reach Discord (and hang there)",
                timeout: TimeSpan.FromSeconds(30), observed: () => string.Join(", ", scenario.Discord.Requests));

            // Exits by itself (a kill after the wait would not exit 0), within its shutdown timeout (see the test below).
            await bot.TerminateAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(0, bot.ExitCode);
            Assert.Contains(bot.Output, l => l.Contains("Shutting down: refusing new webhooks", StringComparison.Ordinal));
            Assert.Contains(bot.Output, l => l.Contains("Stopped; 1 accepted webhook event(s) are parked in the inbox", StringComparison.Ordinal));
        }

        await using var restarted = BotProcess.Start(scenario.Environment);
        await restarted.WaitForListeningAsync();
        await scenario.Discord.WaitUntilAsync(d => d.GetMemberRoles(BotScenario.GuildId, BotScenario.AliceId).Contains(BotScenario.HolderRoleId), TimeSpan.FromSeconds(15), "alice holds the role");
        await restarted.WaitForOutputAsync("Decision granted", TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { BotScenario.HolderRoleId }, scenario.Discord.GetMemberRoles(BotScenario.GuildId, BotScenario.AliceId).Where(r => r == BotScenario.HolderRoleId));
    }

    [Fact]
    public async Task The_host_gives_its_services_less_time_to_stop_than_Dockers_10_s_before_it_kills()
    {
        await using var bot = await BotScenario.StartAsync();

        // `docker stop` sends SIGTERM and kills after 10 s (its default --time): the stop must end before that.
        Assert.InRange(bot.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(9));
    }

    [Fact]
    public async Task Once_stopping_the_webhook_route_answers_503_with_retry_after()
    {
        await using var bot = await BotScenario.StartAsync();
        bot.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        var answer = await bot.SendAsync(bot.Webhook());

        Assert.Equal(503, answer.Status);
        Assert.Contains("shutting down", answer.Body, StringComparison.Ordinal);
        Assert.Equal(200, (await new HttpClient().GetAsync($"{bot.BaseUrl}/healthz")).StatusCode is System.Net.HttpStatusCode.OK ? 200 : 0);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://+:9000;https://+:9443", "http://127.0.0.1:9000/")]
    [InlineData("http://[::]:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://localhost:5000", "http://localhost:5000/")]
    [InlineData(null, "http://127.0.0.1:8080/")]
    public void Health_probe_turns_the_listening_wildcard_into_loopback(string? urls, string expected) =>
        Assert.Equal(expected, HealthProbe.BaseUrl(urls).ToString());
}
