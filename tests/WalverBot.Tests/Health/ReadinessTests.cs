using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Gateway;
using WalverBot.Health;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Health;

/// <summary>
/// Readiness means "can accept webhooks": the database is required, the Discord gateway is only reported; and a fatal
/// gateway close leaves the webhook path running.
/// </summary>
public sealed class ReadinessTests
{
    public static TheoryData<int, string> FatalCodes() => new()
    {
        { 4004, "Discord:Token" },
        { 4010, "Discord:ShardIds" },
        { 4011, "Discord:ShardCount" },
        { 4012, "update WalverBot" },
        { 4013, "update WalverBot" },
        { 4014, "enable the Server Members intent" },
    };

    [Theory]
    [MemberData(nameof(FatalCodes))]
    public async Task After_a_fatal_close_webhooks_are_accepted_and_stored_readiness_stays_200_and_nothing_identifies_again(int code, string advice)
    {
        await using var bot = await BotScenario.StartAsync();
        await bot.WaitForGatewayAsync();
        var status = bot.Services.GetRequiredService<IGatewayStatus>();

        await bot.Gateway.CloseAsync(code);
        var stop = await status.WhenStopped.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(code, stop.CloseCode);

        // The webhook path is untouched: answered 200 accepted, and stored.
        var response = await bot.SendAsync(bot.Webhook());
        Assert.Equal(200, response.Status);
        Assert.Equal("accepted", response.Json?["status"]?.GetValue<string>());
        Assert.Equal(1, await Inbox.CountEventsAsync(bot));

        // Ready (200) but degraded, with the close code and the advice in the body.
        using var http = new HttpClient();
        var ready = await http.GetAsync($"{bot.BaseUrl}/readyz");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"degraded\"", body, StringComparison.Ordinal);
        Assert.Contains($"gateway: stopped: Discord closed the gateway connection of shard 0 with {code}", body, StringComparison.Ordinal);
        Assert.Contains(advice, body, StringComparison.Ordinal);

        // The stop is reported after the gateway client returned: one connection, one IDENTIFY, none after.
        Assert.Equal(1, bot.Gateway.ConnectionCount);
        Assert.Single(bot.Gateway.Identifies);

        // The metric carries the close code and the advice.
        var (value, tags) = Assert.Single(ReadStoppedGauge(bot.Services));
        Assert.Equal(1, value);
        Assert.Equal(code.ToString(System.Globalization.CultureInfo.InvariantCulture), tags["close_code"]);
        Assert.Contains(advice, (string?)tags["advice"], StringComparison.Ordinal);

        Assert.Contains(bot.Logs.Lines, l => l.Contains($"with {code}", StringComparison.Ordinal) && l.Contains(advice, StringComparison.Ordinal));
        Assert.DoesNotContain(bot.Logs.Lines, l => l.Contains(bot.Discord.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_a_fatal_close_grants_wait_in_the_inbox_and_run_after_the_restart()
    {
        await using var bot = await BotScenario.StartAsync();
        await bot.WaitForGatewayAsync();

        await bot.Gateway.CloseAsync(4004);
        await bot.Services.GetRequiredService<IGatewayStatus>().WhenStopped.WaitAsync(TimeSpan.FromSeconds(20));

        // The accepted webhook wakes the worker, which sees the stop before taking anything: the event stays pending,
        // no role is asked of Discord.
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
        await WaitForLogAsync(bot, "Grant worker paused until the bot is restarted");
        Assert.Contains(bot.Logs.Lines, l => l.Contains("Grant worker paused", StringComparison.Ordinal) && l.Contains("with 4004", StringComparison.Ordinal));
        Assert.Equal(0, bot.RolePuts(BotScenario.AliceId));
        Assert.Empty(await Inbox.DecisionsAsync(bot));

        // The operator fixes the token and restarts: the waiting grant runs.
        await bot.StopBotAsync();
        await bot.StartBotAsync();
        await bot.WaitForRolePutsAsync(BotScenario.AliceId);
        bot.AssertOneRolePut(BotScenario.AliceId);
    }

    private static Task WaitForLogAsync(BotScenario bot, string text) => bot.Logs.WaitForLineAsync(text, TimeSpan.FromSeconds(20));

    [Fact]
    public async Task Readiness_is_503_while_the_database_cannot_take_a_write_and_200_again_after()
    {
        await using var bot = await BotScenario.StartAsync();
        await bot.WaitForGatewayAsync();
        using var http = new HttpClient();
        var ready = await http.GetAsync($"{bot.BaseUrl}/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("{\"status\":\"ready\"}", await ready.Content.ReadAsStringAsync());

        // Another writer holds the write lock (as a second process would): no webhook could be stored now.
        await using (var holder = new SqliteConnection($"Data Source={bot.DatabasePath};Pooling=False"))
        {
            await holder.OpenAsync();
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE;";
                await begin.ExecuteNonQueryAsync();
            }

            var locked = await http.GetAsync($"{bot.BaseUrl}/readyz");
            var body = await locked.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, locked.StatusCode);
            Assert.Contains("\"status\":\"not ready\"", body, StringComparison.Ordinal);
            Assert.Contains("database: cannot store webhooks", body, StringComparison.Ordinal);
            Assert.Contains("locked", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{bot.BaseUrl}/healthz")).StatusCode);

            using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{bot.BaseUrl}/readyz")).StatusCode);
    }

    [Fact]
    public async Task Database_check_is_unhealthy_for_a_read_only_database_and_a_missing_folder()
    {
        var folder = Directory.CreateTempSubdirectory("walverbot-health").FullName;
        try
        {
            var path = Path.Combine(folder, "walverbot.db");
            // The probe never creates the file (the bot does, at start): before that it is not ready.
            Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync($"Data Source={path}")).Status);
            Assert.False(File.Exists(path));
            await using (var create = new SqliteConnection($"Data Source={path}"))
            {
                await create.OpenAsync();
            }

            Assert.Equal(HealthStatus.Healthy, (await CheckAsync($"Data Source={path}")).Status);

            // Mode=ReadOnly stands in for a read-only file or volume (these tests run as root, where chmod changes nothing).
            var readOnly = await CheckAsync($"Data Source={path};Mode=ReadOnly");
            Assert.Equal(HealthStatus.Unhealthy, readOnly.Status);
            Assert.Equal("cannot store webhooks: the database file is read-only", readOnly.Description);

            // A volume that is no longer mounted: the folder is gone and Mode=ReadWrite does not create the file.
            var missing = await CheckAsync($"Data Source={Path.Combine(folder, "gone", "walverbot.db")};Mode=ReadWrite");
            Assert.Equal(HealthStatus.Unhealthy, missing.Status);
            Assert.StartsWith("cannot store webhooks: ", missing.Description, StringComparison.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Task<HealthCheckResult> CheckAsync(string connectionString)
    {
        var options = Options.Create(new StorageOptions { ConnectionString = connectionString });
        return new DatabaseHealthCheck(new Database(options), options)
            .CheckHealthAsync(new HealthCheckContext
            {
                Registration = new HealthCheckRegistration("database", _ => null!, HealthStatus.Unhealthy, null),
            });
    }

    [Fact]
    public async Task Readiness_is_200_with_the_gateway_reason_while_Discord_is_unreachable()
    {
        await using var bot = await BotScenario.StartAsync();
        using var http = new HttpClient();
        await bot.WaitForGatewayAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{bot.BaseUrl}/readyz")).StatusCode);

        await bot.StopBotAsync();
        await bot.StopGatewayAsync(); // Discord's gateway is unreachable from now on
        await bot.StartBotAsync();

        var response = await http.GetAsync($"{bot.BaseUrl}/readyz");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"status\":\"degraded\"", body, StringComparison.Ordinal);
        Assert.Contains("gateway: ", body, StringComparison.Ordinal);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
    }

    /// <summary>Reads walverbot.gateway.stopped from this bot's own meters only (other bots run in the same process).</summary>
    internal static List<(int Value, Dictionary<string, object?> Tags)> ReadStoppedGauge(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        var seen = new List<(int, Dictionary<string, object?>)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "walverbot.gateway.stopped")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            lock (seen)
            {
                seen.Add((value, copy));
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
