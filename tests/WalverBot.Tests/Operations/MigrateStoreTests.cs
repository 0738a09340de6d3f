using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Binding;
using WalverBot.Grants;
using WalverBot.Operations;
using WalverBot.Storage;
using WalverBot.Tests.Storage;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Operations;

/// <summary><c>migrate-store</c>: an SQLite database copied into an empty PostgreSQL one, counts verified, a non-empty target refused.</summary>
[Trait("Needs", "postgres")]
public sealed class MigrateStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [SkippableFact]
    public async Task An_sqlite_store_is_copied_table_by_table_and_the_postgres_store_carries_on_from_it()
    {
        await using var target = await TestDatabase.CreateAsync(StorageProviders.Postgres, migrate: false);
        await using var sqlite = await TestDatabase.CreateAsync();
        await FillAsync(sqlite.Database);

        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await MigrateStoreCommand.RunAsync(sqlite.Database, target.ConnectionString, output, error, CancellationToken.None);

        Assert.True(exitCode == OperatorCommands.Success, error.ToString());
        await using var from = await sqlite.Database.OpenAsync();
        await using var to = await target.Database.OpenAsync();
        foreach (var table in MigrateStoreCommand.Tables)
        {
            var rows = await from.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}");
            Assert.Equal(rows, await to.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}"));
            Assert.Contains($"ok    {table}: {rows} row(s) in both", output.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(Migrations.LatestVersion, await Migrations.CurrentVersionAsync(to));
        Assert.DoesNotContain("not-a-secret", output.ToString() + error.ToString(), StringComparison.Ordinal);
        // The stores read the copy as they read SQLite, and new rows get ids after the copied ones.
        var verification = await new VerificationStore(target.Database, _time).FindAsync("wb_1");
        Assert.Equal((1_234_567_890_123_456_789UL, 9_223_372_036_854_775_000UL, true), (verification!.GuildId, verification.RoleId, verification.IsNft));
        Assert.Equal(77UL, await Ledger(target.Database).LinkedMemberAsync(verification.GuildId, "0xabcdef0000000000000000000000000000000001", CancellationToken.None));
        var lastCopied = await from.ExecuteScalarAsync<long>("SELECT MAX(id) FROM webhook_events");
        await using var writer = new InboxWriter(target.Database, _time);
        Assert.True(await writer.AcceptAsync(new NewInboxEvent("after", "wb_1", verification.GuildId, "w9", null, "{}"), CancellationToken.None) > lastCopied);
        Assert.Null(await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", verification.GuildId, "w1", null, "{}"), CancellationToken.None));
    }

    [Fact]
    public async Task Every_table_of_the_schema_is_copied()
    {
        await using var sqlite = await TestDatabase.CreateAsync();
        await using var connection = await sqlite.Database.OpenAsync();
        var tables = await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");

        Assert.Equal(tables.Order(StringComparer.Ordinal), MigrateStoreCommand.Tables.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task A_target_with_rows_is_refused_and_left_as_it_was()
    {
        await using var target = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        await new VerificationStore(target.Database, _time).UpsertAsync(new Verification { Id = "already", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config" });
        await using var sqlite = await TestDatabase.CreateAsync();
        await FillAsync(sqlite.Database);

        var error = new StringWriter();
        var exitCode = await MigrateStoreCommand.RunAsync(sqlite.Database, target.ConnectionString, new StringWriter(), error, CancellationToken.None);

        Assert.Equal(OperatorCommands.Failure, exitCode);
        Assert.Contains("is not empty (verifications has rows)", error.ToString(), StringComparison.Ordinal);
        await using var to = await target.Database.OpenAsync();
        Assert.Equal(["already"], await to.QueryAsync<string>("SELECT id FROM verifications"));
        Assert.Equal(0, await to.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_events"));
    }

    [SkippableFact]
    public async Task A_target_that_is_not_a_postgres_connection_string_is_refused_without_echoing_it()
    {
        await using var sqlite = await TestDatabase.CreateAsync();
        var error = new StringWriter();

        var exitCode = await MigrateStoreCommand.RunAsync(sqlite.Database, "Data Source=other.db;Password=pw-not-echoed-42", new StringWriter(), error, CancellationToken.None);

        Assert.Equal(OperatorCommands.Usage, exitCode);
        Assert.Contains("--to must be a PostgreSQL connection string", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("pw-not-echoed-42", error.ToString(), StringComparison.Ordinal);
    }

    private GrantLedger Ledger(Database database) => new(
        database, _time, NullLogger<GrantLedger>.Instance, new SilentNotifier(),
        new BotMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

    /// <summary>A verification, two deliveries (one granted, one repeat), a code, holdings and a pending removal.</summary>
    private async Task FillAsync(Database database)
    {
        var verification = new Verification
        {
            Id = "wb_1", GuildId = 1_234_567_890_123_456_789, RoleId = 9_223_372_036_854_775_000, SecretHash = "x", Source = "command", IsNft = true,
            Tiers = [new RoleTier(100m, 18_446_744_073_709_551_615)],
        };
        await new VerificationStore(database, _time).UpsertAsync(verification);
        await using (var writer = new InboxWriter(database, _time))
        {
            await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", verification.GuildId, "0xABCDEF0000000000000000000000000000000001", "name:alice", "{}"), CancellationToken.None);
            await writer.AcceptAsync(new NewInboxEvent("k2", "wb_1", verification.GuildId, "w2", "name:bob", "{}"), CancellationToken.None);
            await writer.AcceptAsync(new NewInboxEvent("k1", "wb_1", verification.GuildId, "w1", null, "{}"), CancellationToken.None);
        }

        var due = await new WebhookInbox(database, _time).DueAsync(10, CancellationToken.None);
        await Ledger(database).RecordGrantAsync(due[0], verification, 77, new Decision(Outcomes.Granted, "ok"), CancellationToken.None,
            (connection, transaction) => WalverBot.Holdings.HoldingsStore.RecordGrantAsync(connection, transaction, verification, 77, due[0].WalletAddress,
                [new WalverBot.Holdings.WalletRead(due[0].WalletAddress, 150m, 19_000_000)], new HashSet<ulong> { verification.RoleId }, _time.GetUtcNow(), TimeSpan.FromDays(1)));
        await new IdentityCodes(database, _time).IssueAsync(verification.GuildId, 78, CancellationToken.None);
        var holdings = new WalverBot.Holdings.HoldingsStore(database, _time);
        await holdings.FinishPassAsync("wb_1", 19_000_000, CancellationToken.None);
        await holdings.ApplyAsync(new WalverBot.Holdings.MemberUpdate("wb_1", verification.GuildId, 77, [], new HashSet<ulong>(), new HashSet<ulong> { verification.RoleId },
            null, new Dictionary<string, DateTimeOffset>(), [], "", [(verification.RoleId, "test")]), CancellationToken.None);
    }

    private sealed class SilentNotifier : WalverBot.Commands.IAdminNotifier
    {
        public void DecisionRecorded(WalverBot.Commands.DecisionNotice notice)
        {
        }
    }
}
