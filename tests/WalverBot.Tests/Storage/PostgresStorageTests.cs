using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Verifications;

namespace WalverBot.Tests.Storage;

/// <summary>The store-level tests of <see cref="StorageTests"/> on a real PostgreSQL server, plus what only it has.</summary>
[Trait("Needs", "postgres")]
[LongRunning(20)]
public sealed class PostgresStorageTests : StorageTests
{
    protected override string Provider => StorageProviders.Postgres;

    [SkippableFact]
    public async Task Webhook_commits_never_wait_for_the_workers_decision_commits_on_a_store_that_locks_rows()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        Assert.Same(WriteTurns.Unordered, db.Database.WriteTurns);
    }

    [SkippableFact]
    public async Task A_verification_disabled_or_rekeyed_on_another_instance_is_read_again_once_the_copy_is_a_second_old()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        using var otherDatabase = new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = db.ConnectionString }));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        var here = new VerificationStore(db.Database, time);
        var there = new VerificationStore(otherDatabase, time);
        await here.UpsertAsync(new Verification { Id = "wb_shared", GuildId = 1, RoleId = 2, SecretHash = SecretHasher.Hash("old secret"), Source = "command" });
        Assert.True((await here.FindAsync("wb_shared"))!.Enabled);

        // Another instance's admin disables it and gives it a new secret.
        Assert.True(await there.SetEnabledAsync("wb_shared", enabled: false));
        var rekeyed = (await there.FindAsync("wb_shared"))! with { SecretHash = SecretHasher.Hash("new secret") };
        await there.UpsertAsync(rekeyed);

        // Inside the lifetime this instance still serves its copy; once it is that old, it reads the row again.
        Assert.True((await here.FindAsync("wb_shared"))!.Enabled);
        time.Advance(VerificationStore.SharedStoreCacheLifetime);
        var now = (await here.FindAsync("wb_shared"))!;
        Assert.False(now.Enabled);
        Assert.True(SecretHasher.Verify("new secret", now.SecretHash));
        Assert.False(SecretHasher.Verify("old secret", now.SecretHash));
    }

    [SkippableFact]
    public async Task A_second_migrator_waits_for_the_advisory_lock_then_finds_nothing_to_do()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres, migrate: false);
        await using var holder = new NpgsqlConnection(db.ConnectionString);
        await holder.OpenAsync();
        await holder.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = Migrations.PostgresLockKey });

        // Another instance starting now: its migrator must queue on the lock, not create tables beside the first.
        await using var waiting = await db.Database.OpenAsync();
        var waitingPid = ((NpgsqlConnection)waiting).ProcessID;
        var migrating = Migrations.ApplyAsync(waiting);
        await Eventually.UntilAsync(async () => await holder.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = @pid)", new { pid = waitingPid }),
            "the second migrator waits for the advisory lock");
        Assert.False(migrating.IsCompleted);
        Assert.False(await holder.ExecuteScalarAsync<bool>("SELECT to_regclass('webhook_events') IS NOT NULL"));

        // The first migrates and lets go; the second then finds the schema current and changes nothing.
        await Migrations.ApplyAsync(holder);
        var afterFirst = await holder.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace");
        await holder.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = Migrations.PostgresLockKey });
        await migrating;

        Assert.Equal(Migrations.LatestVersion, await Migrations.CurrentVersionAsync(holder));
        Assert.Equal(afterFirst, await holder.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"));
        // The lock went back: nobody holds it once both are done. (pg_locks is the whole cluster's: other tests' instances
        // hold their own advisory locks in their own databases meanwhile.)
        Assert.False(await holder.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"));
    }

    [SkippableFact]
    public async Task Three_instances_starting_at_once_migrate_the_database_once()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres, migrate: false);
        var instances = Enumerable.Range(0, 3)
            .Select(_ => new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = db.ConnectionString })))
            .ToList();
        try
        {
            await Task.WhenAll(instances.Select(async instance =>
            {
                await using var connection = await instance.OpenAsync();
                await Migrations.ApplyAsync(connection);
            }));

            await using var check = await db.Database.OpenAsync();
            Assert.Equal(Migrations.LatestVersion, await Migrations.CurrentVersionAsync(check));
        }
        finally
        {
            instances.ForEach(i => i.Dispose());
        }
    }

    [SkippableFact]
    public async Task One_instance_opens_at_most_20_connections_and_the_next_caller_waits_for_one_of_them()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        var connectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = "pool under test" }.ConnectionString;
        using var instance = new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = connectionString }));
        await using var held = await HeldConnections.OpenAsync(instance, Database.DefaultMaxPoolSize);

        // The next one gets no new server session: it waits until a held connection goes back to the pool, and gets that one.
        var next = instance.OpenAsync();
        var releasedSession = await held.ReleaseLastAsync();
        await using var reused = (NpgsqlConnection)await next;
        Assert.Equal(releasedSession, reused.ProcessID);
        Assert.Equal(Database.DefaultMaxPoolSize, await SessionsAsync(db, "pool under test"));
    }

    [SkippableFact]
    public async Task A_pool_size_in_the_connection_string_is_the_operators_choice_and_is_kept()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        var connectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = "larger pool", MaxPoolSize = 30 }.ConnectionString;
        using var instance = new Database(Options.Create(new StorageOptions { Provider = StorageProviders.Postgres, ConnectionString = connectionString }));
        await using var held = await HeldConnections.OpenAsync(instance, 30);

        Assert.Equal(30, held.Sessions.Distinct().Count());
        Assert.Equal(30, await SessionsAsync(db, "larger pool"));
    }

    private static async Task<long> SessionsAsync(TestDatabase db, string applicationName)
    {
        await using var connection = await db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @applicationName", new { applicationName });
    }

    /// <summary>Connections opened from one store and kept open until disposed.</summary>
    private sealed class HeldConnections : IAsyncDisposable
    {
        private readonly List<NpgsqlConnection> _open = [];

        public IEnumerable<int> Sessions => _open.Select(c => c.ProcessID);

        public static async Task<HeldConnections> OpenAsync(Database store, int count)
        {
            var held = new HeldConnections();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    held._open.Add((NpgsqlConnection)await store.OpenAsync());
                }

                return held;
            }
            catch
            {
                await held.DisposeAsync();
                throw;
            }
        }

        /// <summary>Gives the last one back to the pool; returns its server session (process id).</summary>
        public async Task<int> ReleaseLastAsync()
        {
            var last = _open[^1];
            _open.RemoveAt(_open.Count - 1);
            var session = last.ProcessID;
            await last.DisposeAsync();
            return session;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _open)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task The_schema_uses_bigint_for_snowflakes_and_identity_keys()
    {
        await using var db = await TestDatabase.CreateAsync(StorageProviders.Postgres);
        await using var connection = await db.Database.OpenAsync();

        var columns = (await connection.QueryAsync<(string Column, string Type, string? Identity)>("""
            SELECT column_name, data_type, identity_generation FROM information_schema.columns
            WHERE table_name = 'webhook_events' AND column_name IN ('id', 'guild_id', 'attempts')
            ORDER BY column_name
            """)).ToList();

        Assert.Equal([("attempts", "bigint", null), ("guild_id", "bigint", null), ("id", "bigint", "BY DEFAULT")], columns);
    }
}
