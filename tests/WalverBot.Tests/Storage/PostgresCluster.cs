using WalverBot.Testing.Postgres;

namespace WalverBot.Tests.Storage;

/// <summary>
/// This test run's throwaway PostgreSQL cluster (<see cref="ThrowawayPostgres"/>, shared with the bench), started once,
/// on first use, for the whole run (an assembly-wide fixture) and removed when the test process exits; each test gets
/// a database of its own. On a machine without PostgreSQL the tests that need it are skipped with the reason, never passed.
/// </summary>
public sealed class PostgresCluster
{
    private static readonly Lazy<Task<PostgresCluster>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ThrowawayPostgres _server;

    private PostgresCluster(ThrowawayPostgres server) => _server = server;

    public int Port => _server.Port;

    public const string NotInstalled = "PostgreSQL tests NOT RUN: " + ThrowawayPostgres.NotInstalled;

    /// <summary>The cluster of this test run; throws <see cref="SkipException"/> (the test is reported skipped) without PostgreSQL.</summary>
    public static async Task<PostgresCluster> GetAsync()
    {
        if (ThrowawayPostgres.Unavailable() is { } reason)
        {
            throw new SkipException("PostgreSQL tests NOT RUN: " + reason);
        }

        return await Shared.Value;
    }

    /// <summary>A connection string to a new, empty database of its own.</summary>
    public Task<string> CreateDatabaseAsync() => _server.CreateDatabaseAsync();

    public string ConnectionString(string database, bool pooling = true) => _server.ConnectionString(database, pooling);

    private static async Task<PostgresCluster> StartAsync()
    {
        // No fsync: a throwaway cluster whose data no test needs after a power loss.
        var server = await ThrowawayPostgres.StartAsync(durable: false, maxConnections: 300);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Remove();
        return new PostgresCluster(server);
    }
}
