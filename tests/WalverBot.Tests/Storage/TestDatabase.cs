using Microsoft.Extensions.Options;
using WalverBot.Storage;

namespace WalverBot.Tests.Storage;

/// <summary>
/// A migrated store of its own, removed on dispose: a real SQLite file in a temporary folder, or (for
/// <see cref="StorageProviders.Postgres"/>) a new database in this run's <see cref="PostgresCluster"/>.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "walverbot-tests", Guid.NewGuid().ToString("N"));

    private TestDatabase(string provider, string? postgres)
    {
        Path_ = System.IO.Path.Combine(_folder, "nested", "walverbot.db");
        Provider = provider;
        ConnectionString = postgres ?? $"Data Source={Path_}";
        Database = new Database(Options.Create(new StorageOptions { Provider = provider, ConnectionString = ConnectionString }));
    }

    /// <summary>The SQLite file (unused on PostgreSQL).</summary>
    public string Path_ { get; }

    public string Provider { get; }

    public string ConnectionString { get; }

    public Database Database { get; }

    /// <summary>A migrated store; on PostgreSQL a skip (with the reason) when the machine has no PostgreSQL.</summary>
    public static async Task<TestDatabase> CreateAsync(string provider = StorageProviders.Sqlite, bool migrate = true)
    {
        var postgres = provider == StorageProviders.Postgres ? PatientLimits(await (await PostgresCluster.GetAsync()).CreateDatabaseAsync()) : null;
        var db = new TestDatabase(provider, postgres);
        db.Database.EnsureFolderExists();
        if (migrate)
        {
            await using var connection = await db.Database.OpenAsync();
            await Migrations.ApplyAsync(connection);
        }

        return db;
    }

    /// <summary>
    /// These tests read and write SQL; they do not test the store's time limits (the bot tests do, with the product's own).
    /// The product lowers Npgsql's connect and command limits to Storage:BusyTimeout (4 s) so a webhook gets its 503 in
    /// time; in a CI run sharing two cores with the kill drill's three bots on the same cluster, four of these tests
    /// failed because a new server process took longer than that to start. Limits set in the connection string are an
    /// operator's choice the product keeps (see Database), so these stores wait as long as a slow machine needs.
    /// </summary>
    private static string PatientLimits(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Timeout = 60, CommandTimeout = 60 }.ConnectionString;

    public ValueTask DisposeAsync()
    {
        Database.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
