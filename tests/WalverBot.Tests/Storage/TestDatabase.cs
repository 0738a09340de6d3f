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
        var postgres = provider == StorageProviders.Postgres ? await (await PostgresCluster.GetAsync()).CreateDatabaseAsync() : null;
        var db = new TestDatabase(provider, postgres);
        db.Database.EnsureFolderExists();
        if (migrate)
        {
            await using var connection = await db.Database.OpenAsync();
            await Migrations.ApplyAsync(connection);
        }

        return db;
    }

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
