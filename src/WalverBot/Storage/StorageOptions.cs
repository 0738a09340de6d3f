namespace WalverBot.Storage;

/// <summary>Which database holds the bot's state, where it lives and how long old events are kept.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary><c>sqlite</c> (default: one process, one file) or <c>postgres</c> (a PostgreSQL server, several instances may share it).</summary>
    public string Provider { get; set; } = StorageProviders.Sqlite;

    /// <summary>Filled from <c>ConnectionStrings:WalverBot</c>: a SQLite connection string, or an Npgsql one for <c>postgres</c>.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/walverbot.db";

    /// <summary>Whether <see cref="Provider"/> names PostgreSQL.</summary>
    public bool IsPostgres => string.Equals(Provider?.Trim(), StorageProviders.Postgres, StringComparison.OrdinalIgnoreCase);

    /// <summary>Finished webhook events older than this many days are deleted (their raw payload with them) by a daily cleanup.</summary>
    public int EventRetentionDays { get; set; } = 30;

    /// <summary>
    /// How long to wait for a lock held by another writer before failing. A webhook may wait out one failing batch
    /// of the inbox writer and then its own, so twice this stays under the webhook's 10 s request timeout.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// PostgreSQL only: how long the start waits for a server that does not answer yet (started beside the bot, as in a
    /// compose file) before it gives up; zero gives up at once (for an orchestrator that restarts the bot itself).
    /// </summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>The values of <c>Storage:Provider</c>.</summary>
public static class StorageProviders
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public static bool IsKnown(string? provider) =>
        string.Equals(provider?.Trim(), Sqlite, StringComparison.OrdinalIgnoreCase) || string.Equals(provider?.Trim(), Postgres, StringComparison.OrdinalIgnoreCase);
}
