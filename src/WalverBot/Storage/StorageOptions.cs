namespace WalverBot.Storage;

/// <summary>Where the SQLite database lives and how long old events are kept.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Filled from <c>ConnectionStrings:WalverBot</c>.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/walverbot.db";

    /// <summary>Finished webhook events older than this many days are deleted (their raw payload with them) by a daily cleanup.</summary>
    public int EventRetentionDays { get; set; } = 30;

    /// <summary>
    /// How long to wait for a lock held by another writer before failing. A webhook may wait out one failing batch
    /// of the inbox writer and then its own, so twice this stays under the webhook's 10 s request timeout.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(4);
}
