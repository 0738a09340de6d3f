using Dapper;
using WalverBot.Storage;

namespace WalverBot.Tests.Storage;

/// <summary>What only the SQLite store has: WAL, user_version, its query planner.</summary>
public sealed class SqliteStorageTests
{
    [Fact]
    public async Task Migrations_create_the_folder_use_WAL_and_run_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        Assert.True(File.Exists(db.Path_));

        await using var connection = await db.Database.OpenAsync();
        await Migrations.ApplyAsync(connection); // a second start changes nothing
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode;"));
        Assert.Equal(Migrations.LatestVersion, await connection.ExecuteScalarAsync<long>("PRAGMA user_version;"));
    }

    [Fact]
    public async Task Only_events_waiting_for_a_member_are_in_the_waiting_index_and_the_wake_query_reads_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = await db.Database.OpenAsync();

        // The shape of WebhookInbox.WakeWaitingAsync: a partial index serves only a query that names its condition.
        var steps = await connection.QueryAsync("""
            EXPLAIN QUERY PLAN UPDATE webhook_events SET status = 'pending'
            WHERE guild_id = 1 AND status = 'waiting_member' AND member_query IN ('alice', 'bob')
            """);
        var plan = string.Join("\n", steps.Select(step => (string)step.detail));
        Assert.Contains("ix_webhook_events_waiting", plan, StringComparison.Ordinal);

        var definition = await connection.ExecuteScalarAsync<string>("SELECT sql FROM sqlite_master WHERE name = 'ix_webhook_events_waiting'");
        Assert.EndsWith("WHERE status = 'waiting_member'", definition, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_statement_is_compiled_once_for_every_database_the_process_opens()
    {
        await using var first = await TestDatabase.CreateAsync();
        await using var second = await TestDatabase.CreateAsync();
        // A statement of this test alone: Dapper's cache is shared with every test running beside it.
        var sql = $"SELECT COUNT(*) FROM webhook_events WHERE guild_id = @GuildId -- {Guid.NewGuid():N}";

        foreach (var db in new[] { first, second })
        {
            await using var connection = await db.Database.OpenAsync();
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(sql, new { GuildId = 1UL }));
        }

        Assert.Single(SqlMapper.GetCachedSQL(), entry => entry.Item2 == sql);
    }
}
