using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using WalverBot.Configuration;
using WalverBot.Storage;
using WalverBot.Testing.Net;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Storage;

/// <summary>
/// Start-up against a PostgreSQL server that does not answer yet (started beside the bot) or refuses the bot: the real
/// cluster behind a loopback relay that comes up when the test says, and a fake clock for the pauses between attempts.
/// </summary>
[Trait("Needs", "postgres")]
public sealed class PostgresStartupTests
{
    private const string NotYet = "does not answer yet";

    [SkippableFact]
    public async Task A_server_that_comes_up_after_the_bot_starts_is_waited_for_and_then_migrated()
    {
        var cluster = await PostgresCluster.GetAsync();
        var target = new NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync());
        await using var relay = TcpRelay.Reserve();
        await using var start = new Start(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Port = relay.Port });

        var starting = start.Services.InitializeStorageAsync();
        await start.Logs.WaitForLineAsync(NotYet);
        Assert.False(starting.IsCompleted);
        Assert.Contains("Connection refused", start.Logs.All, StringComparison.Ordinal);

        relay.Start(cluster.Port);
        start.Time.Advance(TimeSpan.FromSeconds(1));
        await starting.WaitAsync(TimeSpan.FromMinutes(1));

        await using var check = new NpgsqlConnection(target.ConnectionString);
        await check.OpenAsync();
        Assert.Equal(Migrations.LatestVersion, await Migrations.CurrentVersionAsync(check));
        Assert.Single(start.Logs.Lines, l => l.Contains(NotYet, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_server_that_never_answers_fails_the_start_after_the_wait_with_one_clear_line()
    {
        var cluster = await PostgresCluster.GetAsync();
        // A port that refuses every connection for the whole test (reserved, never started).
        await using var refusing = TcpRelay.Reserve();
        var target = new NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync()) { Port = refusing.Port };
        await using var start = new Start(target);

        var starting = start.Services.InitializeStorageAsync();
        var attempts = 0;
        while (true)
        {
            // Each failed attempt starts its pause on the fake clock (never more than the pauses' MaxDelay), then logs its
            // line: once the line is seen, moving the clock ends that pause.
            await Eventually.UntilAsync(() => starting.IsCompleted || Warnings(start) > attempts, $"attempt {attempts + 1} to fail or the start to give up");
            if (starting.IsCompleted)
            {
                break;
            }

            attempts = Warnings(start);
            start.Time.Advance(StorageServiceCollectionExtensions.StartupRetryPauses.MaxDelay);
        }

        var error = await Assert.ThrowsAsync<StartupException>(() => starting);
        Assert.Contains("still after 60 s (Storage:StartupWait)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(target.Password!, error.Message + start.Logs.All, StringComparison.Ordinal);
        // Pauses of 1, 2, 4 and 8 s, then 10 s each, while the next attempt still falls inside the wait.
        Assert.InRange(attempts, 5, 8);
    }

    [SkippableTheory]
    [InlineData("password", "28P01")] // invalid_password
    [InlineData("database", "3D000")] // invalid_catalog_name: the database does not exist
    public async Task A_refusal_that_waiting_cannot_fix_fails_the_start_at_once(string wrong, string sqlState)
    {
        var cluster = await PostgresCluster.GetAsync();
        var target = new NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync());
        if (wrong == "password")
        {
            target.Password = "wrong-password-not-echoed-4821";
        }
        else
        {
            target.Database = "no_such_database";
        }

        await using var start = new Start(target);

        // No clock advance: the start ends on the first attempt.
        var error = await Assert.ThrowsAsync<StartupException>(() => start.Services.InitializeStorageAsync().WaitAsync(TimeSpan.FromMinutes(1)));

        Assert.Contains(sqlState, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("still after", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(target.Password!, error.Message + start.Logs.All, StringComparison.Ordinal);
        Assert.Equal(0, Warnings(start));
    }

    private static int Warnings(Start start) => start.Logs.Lines.Count(l => l.Contains(NotYet, StringComparison.Ordinal));

    /// <summary>The store's services as the host builds them, with captured logs and a fake clock.</summary>
    private sealed class Start : IAsyncDisposable
    {
        public Start(NpgsqlConnectionStringBuilder connectionString)
        {
            Services = new ServiceCollection()
                .AddLogging(logging => logging.AddProvider(Logs))
                .AddSingleton<TimeProvider>(Time)
                .AddSingleton(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = connectionString.ConnectionString }))
                .AddSingleton<Database>()
                .BuildServiceProvider();
        }

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public CapturedLogs Logs { get; } = new();

        public ServiceProvider Services { get; }

        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }
}
