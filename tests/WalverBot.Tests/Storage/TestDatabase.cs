using Microsoft.Extensions.Options;
using WalverBot.Storage;

namespace WalverBot.Tests.Storage;

/// <summary>A real SQLite file in a temporary folder, migrated, deleted on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "walverbot-tests", Guid.NewGuid().ToString("N"));

    private TestDatabase()
    {
        Path_ = System.IO.Path.Combine(_folder, "nested", "walverbot.db");
        Database = new Database(Options.Create(new StorageOptions { ConnectionString = $"Data Source={Path_}" }));
    }

    public string Path_ { get; }

    public Database Database { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var db = new TestDatabase();
        db.Database.EnsureFolderExists();
        await using var connection = await db.Database.OpenAsync();
        await Migrations.ApplyAsync(connection);
        return db;
    }

    public ValueTask DisposeAsync()
    {
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
