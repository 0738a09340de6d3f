using Dapper;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using WalverBot.Grants;
using WalverBot.Operations;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Storage;

namespace WalverBot.Tests.EndToEnd;

/// <summary>The real bot with <c>Storage:Provider=postgres</c> against this run's PostgreSQL cluster.</summary>
[Trait("Needs", "postgres")]
[LongRunning(12)]
public sealed class PostgresBotTests
{
    private static async Task<(BotScenario Bot, string ConnectionString)> StartAsync(FakeTimeProvider? time = null)
    {
        var connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
        var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["ConnectionStrings:WalverBot"] = connectionString,
        }, time: time);
        return (bot, connectionString);
    }

    [SkippableFact]
    public async Task The_bot_on_PostgreSQL_grants_the_role_from_a_webhook_and_a_repeat_is_a_duplicate()
    {
        var (bot, connectionString) = await StartAsync();
        await using var _ = bot;
        var webhook = bot.Webhook("Alice");

        var first = await bot.SendAsync(webhook);
        var second = await bot.SendAsync(webhook);

        Assert.Equal((200, "accepted"), (first.Status, first.Json!["status"]!.GetValue<string>()));
        Assert.Equal((200, "duplicate"), (second.Status, second.Json!["status"]!.GetValue<string>()));
        await bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Contains(BotScenario.HolderRoleId, bot.Discord.GetMemberRoles(BotScenario.GuildId, BotScenario.AliceId));

        // Everything is in PostgreSQL, nothing in a SQLite file.
        await using var connection = new NpgsqlConnection(connectionString);
        var outcomes = await Eventually.UntilAsync(
            async () => (await connection.QueryAsync<string>("SELECT outcome FROM decisions ORDER BY id")).ToList(),
            o => o.Contains(Outcomes.Granted), "the grant's decision is in PostgreSQL", describe: o => string.Join(", ", o));
        Assert.Equal([Outcomes.Duplicate, Outcomes.Granted], outcomes.Order(StringComparer.Ordinal));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"));
        Assert.Equal(ulong.Parse(BotScenario.AliceId, System.Globalization.CultureInfo.InvariantCulture),
            await connection.ExecuteScalarAsync<ulong>("SELECT user_id FROM role_grants WHERE status = 'granted'"));
        bot.AssertOneRolePut(BotScenario.AliceId);
        Assert.False(File.Exists(bot.DatabasePath));
    }

    [SkippableFact]
    public async Task Check_reports_the_PostgreSQL_server_its_version_and_the_schema_level_and_backup_points_to_pg_dump()
    {
        var (bot, connectionString) = await StartAsync();
        await using var _ = bot;
        var settings = new Dictionary<string, string?>
        {
            ["Discord:Token"] = bot.Discord.Token,
            ["Discord:ApiBaseUrl"] = bot.Discord.ApiBaseUrl,
            ["Storage:Provider"] = "postgres",
            ["ConnectionStrings:WalverBot"] = connectionString,
        };
        await using var app = Program.BuildApp([.. settings.Select(pair => $"--{pair.Key}={pair.Value}")]);

        var check = new StringWriter();
        await CheckCommand.RunAsync(app.Services, check, CancellationToken.None);
        var backupOutput = new StringWriter();
        var backupError = new StringWriter();
        var target = Path.Combine(Path.GetTempPath(), $"walverbot-pg-backup-{Guid.NewGuid():N}.db");
        var backup = await BackupCommand.RunAsync(app.Services, target, backupOutput, backupError, CancellationToken.None);

        var database = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(check.ToString(),
            $@"ok    database: PostgreSQL \d+\.\d+[^\n]* at 127\.0\.0\.1:{database.Port}/{database.Database} opens for writing \(schema {Migrations.LatestVersion}/{Migrations.LatestVersion}, "),
            check.ToString());
        Assert.DoesNotContain(database.Password!, check.ToString(), StringComparison.Ordinal);
        Assert.Equal(OperatorCommands.Failure, backup);
        Assert.Contains("pg_dump", backupError.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    [SkippableFact]
    public async Task Readiness_on_PostgreSQL_is_healthy_while_the_server_answers()
    {
        var (bot, _) = await StartAsync();
        await using var __ = bot;

        var health = bot.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
        var report = await health.CheckHealthAsync(r => r.Name == "database");

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, report.Entries["database"].Status);
    }

    [SkippableFact]
    public async Task A_webhook_while_PostgreSQL_refuses_connections_gets_503_and_nothing_is_stored_then_its_retry_is_accepted()
    {
        var (bot, connectionString) = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow));
        await using var _ = bot;
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook("Alice"))).Status); // the verification is cached now

        // The database stops taking connections and its open ones end (a failover, a restart, an admin), and the cached
        // copy of the verification comes due for a re-read (PostgreSQL: other instances may have changed it).
        var adminConnection = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using (var admin = new NpgsqlConnection(adminConnection))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false");
            // With a timeout it returns once each server process has exited, not when it was only signalled (PostgreSQL 14+).
            await admin.ExecuteAsync("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = @database", new { database });
        }

        bot.Time!.Advance(WalverBot.Verifications.VerificationStore.SharedStoreCacheLifetime);
        var webhook = bot.Webhook("Bob");
        var refused = await bot.SendAsync(webhook);
        Assert.Equal((503, "storage unavailable, try again later"), (refused.Status, refused.Json!["error"]!.GetValue<string>()));

        await using (var admin = new NpgsqlConnection(adminConnection))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
        }

        // Walver sends it again; a pooled connection the server ended may fail one more attempt, with 503 again.
        // A timeout names the last answer and the bot's last log lines (once, the bot had begun to shut down: why is in its log).
        var retried = await Eventually.UntilAsync(() => bot.SendAsync(webhook), answer => answer.Status != 503, "an answer other than 503 to the retry",
            describe: answer => $"{answer}; the bot's last log lines:\n{string.Join('\n', bot.Logs.Lines.TakeLast(40))}");
        Assert.Equal((200, "accepted"), (retried.Status, retried.Json!["status"]!.GetValue<string>()));
    }
}
