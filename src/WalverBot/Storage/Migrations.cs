using System.Data.Common;
using Dapper;
using Npgsql;

namespace WalverBot.Storage;

/// <summary>
/// Versioned schema migrations, applied in order at start. The applied version is SQLite's
/// <c>user_version</c>, or on PostgreSQL the row of <c>schema_version</c>; each step runs in its own transaction,
/// so a crash leaves a consistent version. Append new steps; never edit a released one. A step is written once, in
/// SQLite's DDL, and serves both providers (<see cref="PostgresDialect.Schema"/> turns INTEGER into BIGINT and
/// AUTOINCREMENT into an identity column); only SQL that PostgreSQL cannot read goes in <see cref="PostgresSteps"/>.
/// </summary>
public static class Migrations
{
    private static readonly string[] Steps =
    [
        // 1: the initial schema.
        """
        CREATE TABLE verifications (
            id              TEXT PRIMARY KEY,
            guild_id        INTEGER NOT NULL,
            role_id         INTEGER NOT NULL,
            secret_hash     TEXT NOT NULL,
            chain           TEXT NULL,
            token_address   TEXT NULL,
            min_amount      TEXT NULL,
            is_nft          INTEGER NOT NULL DEFAULT 0,
            name            TEXT NULL,
            source          TEXT NOT NULL,
            enabled         INTEGER NOT NULL DEFAULT 1,
            verification_url TEXT NULL,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL
        );
        CREATE INDEX ix_verifications_guild ON verifications (guild_id);

        -- The durable inbox: one row per distinct delivery (verification id, wallet, signature).
        CREATE TABLE webhook_events (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            delivery_key    TEXT NOT NULL UNIQUE,
            verification_id TEXT NOT NULL,
            guild_id        INTEGER NOT NULL,
            wallet_address  TEXT NOT NULL,
            member_query    TEXT NULL,
            payload         TEXT NOT NULL,
            received_at     TEXT NOT NULL,
            status          TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error      TEXT NULL,
            finished_at     TEXT NULL
        );
        CREATE INDEX ix_webhook_events_due ON webhook_events (status, next_attempt_at);
        CREATE INDEX ix_webhook_events_waiting ON webhook_events (guild_id, status, member_query);

        CREATE TABLE role_grants (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            verification_id TEXT NOT NULL,
            guild_id        INTEGER NOT NULL,
            role_id         INTEGER NOT NULL,
            user_id         INTEGER NOT NULL,
            wallet_address  TEXT NOT NULL,
            event_id        INTEGER NOT NULL REFERENCES webhook_events (id),
            status          TEXT NOT NULL,
            granted_at      TEXT NOT NULL,
            revoked_at      TEXT NULL,
            UNIQUE (verification_id, user_id)
        );
        CREATE INDEX ix_role_grants_member ON role_grants (guild_id, user_id);

        -- One wallet, one member: the member a wallet was first verified for, per guild.
        CREATE TABLE wallet_links (
            guild_id        INTEGER NOT NULL,
            wallet_address  TEXT NOT NULL,
            user_id         INTEGER NOT NULL,
            verification_id TEXT NOT NULL,
            linked_at       TEXT NOT NULL,
            PRIMARY KEY (guild_id, wallet_address)
        );
        CREATE INDEX ix_wallet_links_member ON wallet_links (guild_id, user_id);

        CREATE TABLE decisions (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            at              TEXT NOT NULL,
            verification_id TEXT NOT NULL,
            guild_id        INTEGER NULL,
            event_id        INTEGER NULL,
            user_id         INTEGER NULL,
            wallet          TEXT NULL,
            outcome         TEXT NOT NULL,
            reason          TEXT NOT NULL
        );
        CREATE INDEX ix_decisions_guild_user ON decisions (guild_id, user_id);
        CREATE INDEX ix_decisions_verification ON decisions (verification_id);
        """,

        // 2: slash commands: what was registered with Discord (to re-register only on change), per-guild settings.
        """
        CREATE TABLE command_registrations (
            application_id   INTEGER NOT NULL,
            scope            TEXT NOT NULL,
            definitions_hash TEXT NOT NULL,
            registered_at    TEXT NOT NULL,
            PRIMARY KEY (application_id, scope)
        );

        CREATE TABLE guild_settings (
            guild_id         INTEGER PRIMARY KEY,
            log_channel_id   INTEGER NULL,
            updated_at       TEXT NOT NULL
        );
        """,

        // 3: identity binding by one-time code, so the role goes to the account that asked /verify, not to a typed name.
        """
        ALTER TABLE verifications ADD COLUMN binding TEXT NOT NULL DEFAULT 'username';

        -- Codes from /verify, stored only as hashes; one member, one guild, 30 minutes, one use.
        CREATE TABLE identity_codes (
            code_hash       TEXT PRIMARY KEY,
            guild_id        INTEGER NOT NULL,
            user_id         INTEGER NOT NULL,
            created_at      TEXT NOT NULL,
            expires_at      TEXT NOT NULL,
            used_at         TEXT NULL,
            used_by_event   INTEGER NULL
        );
        CREATE INDEX ix_identity_codes_member ON identity_codes (guild_id, user_id);
        """,

        // 4: only events that wait for a member are in the "waiting" index. Indexed by (guild, status, typed name),
        // every accepted webhook wrote one more page at a random place in that index, in the same commit that
        // answers the webhook; a partial index is written only when an event starts or stops waiting.
        """
        DROP INDEX ix_webhook_events_waiting;
        CREATE INDEX ix_webhook_events_waiting ON webhook_events (guild_id, member_query) WHERE status = 'waiting_member';
        """,

        // 5: unexpected exceptions per event are counted apart from Discord's failures and bounded by number; delivery keys
        // move from the signature's text to the signed message (WebhookInbox.RekeyByMessageAsync, run in the same transaction).
        """
        ALTER TABLE webhook_events ADD COLUMN internal_errors INTEGER NOT NULL DEFAULT 0;
        """,

        // 6: which process run claimed an event (WebhookInbox.DueAsync), so two processes never work on the same one.
        // Independent of step 5: it only adds a nullable column.
        """
        ALTER TABLE webhook_events ADD COLUMN claimed_by TEXT NULL;
        """,

        // 7: what a token gate reads on chain and the roles it gives by amount; tiers are JSON ([{"MinAmount":"100","RoleId":"1"}]),
        // reverify_after a TimeSpan in its invariant "c" form.
        """
        ALTER TABLE verifications ADD COLUMN token_standard TEXT NULL;
        ALTER TABLE verifications ADD COLUMN token_id TEXT NULL;
        ALTER TABLE verifications ADD COLUMN tiers TEXT NULL;
        ALTER TABLE verifications ADD COLUMN reverify_after TEXT NULL;
        """,

        // 8: holdings re-checks. Per verification, every linked wallet with its last amount (decimal text), block/slot and
        // schedule; per member the tier roles the verification holds for them, those it took away, and the two-strikes
        // state; per verification the breaker's pause and the last block/slot acted on; removals written before their
        // DELETE is sent (deleted once Discord answered), so a crash repeats an idempotent DELETE, never a decision.
        // Roles already granted are taken over; their first check is spread over a day by the code step.
        """
        CREATE TABLE holdings_wallets (
            verification_id TEXT NOT NULL,
            guild_id        INTEGER NOT NULL,
            user_id         INTEGER NOT NULL,
            wallet_address  TEXT NOT NULL,
            amount          TEXT NULL,
            block_or_slot   INTEGER NULL,
            checked_at      TEXT NULL,
            next_check_at   TEXT NOT NULL,
            PRIMARY KEY (verification_id, wallet_address)
        );
        CREATE INDEX ix_holdings_wallets_due ON holdings_wallets (next_check_at);
        CREATE INDEX ix_holdings_wallets_member ON holdings_wallets (guild_id, user_id);

        CREATE TABLE holdings_members (
            verification_id TEXT NOT NULL,
            guild_id        INTEGER NOT NULL,
            user_id         INTEGER NOT NULL,
            roles           TEXT NOT NULL DEFAULT '',
            revoked_roles   TEXT NOT NULL DEFAULT '',
            strike_at       TEXT NULL,
            PRIMARY KEY (verification_id, user_id)
        );
        CREATE INDEX ix_holdings_members_member ON holdings_members (guild_id, user_id);

        CREATE TABLE holdings_verifications (
            verification_id TEXT PRIMARY KEY,
            paused_reason   TEXT NULL,
            paused_at       TEXT NULL,
            last_block      INTEGER NULL
        );

        CREATE TABLE holdings_removals (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            verification_id TEXT NOT NULL,
            guild_id        INTEGER NOT NULL,
            user_id         INTEGER NOT NULL,
            role_id         INTEGER NOT NULL,
            reason          TEXT NOT NULL,
            created_at      TEXT NOT NULL
        );

        INSERT OR IGNORE INTO holdings_wallets (verification_id, guild_id, user_id, wallet_address, next_check_at)
        SELECT verification_id, guild_id, user_id, wallet_address, '' FROM role_grants WHERE status = 'granted';
        INSERT INTO holdings_members (verification_id, guild_id, user_id, roles)
        SELECT verification_id, guild_id, user_id, CAST(role_id AS TEXT) FROM role_grants WHERE status = 'granted';
        """,

        // 9 (scale-out): a claim is a lease; once claimed_until passes, another instance running the event's
        // shard (or this one restarted) may take the event over (WebhookInbox.DueAsync).
        """
        ALTER TABLE webhook_events ADD COLUMN claimed_until TEXT NULL;
        """,

        // 10 (EVM transfer follower, Following/FollowerStore.cs): the last processed block per chain, the hashes of recent
        // processed blocks (reorg detection) and the wallet re-checks the processed logs asked for (done = 1 once run).
        // IF NOT EXISTS: a step renumbered at a merge may meet tables an earlier number already made.
        """
        CREATE TABLE IF NOT EXISTS follower_cursors (
            chain       TEXT PRIMARY KEY,
            last_block  INTEGER NOT NULL,
            updated_at  TEXT NOT NULL
        );

        CREATE TABLE IF NOT EXISTS follower_blocks (
            chain   TEXT NOT NULL,
            number  INTEGER NOT NULL,
            hash    TEXT NOT NULL,
            PRIMARY KEY (chain, number)
        );

        CREATE TABLE IF NOT EXISTS follower_rechecks (
            chain           TEXT NOT NULL,
            block           INTEGER NOT NULL,
            verification_id TEXT NOT NULL,
            wallet_address  TEXT NOT NULL,
            done            INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (chain, block, verification_id, wallet_address)
        );
        CREATE INDEX IF NOT EXISTS follower_rechecks_pending ON follower_rechecks (chain, done);
        """,
    ];

    /// <summary>PostgreSQL's text of a step whose SQLite text it cannot read, by version.</summary>
    private static readonly Dictionary<int, string> PostgresSteps = new()
    {
        // 8: INSERT OR IGNORE is SQLite's; ON CONFLICT DO NOTHING is the same for PostgreSQL.
        [8] = PostgresDialect.Instance.Schema(Step8Tables()) + """

            INSERT INTO holdings_wallets (verification_id, guild_id, user_id, wallet_address, next_check_at)
            SELECT verification_id, guild_id, user_id, wallet_address, '' FROM role_grants WHERE status = 'granted'
            ON CONFLICT DO NOTHING;
            INSERT INTO holdings_members (verification_id, guild_id, user_id, roles)
            SELECT verification_id, guild_id, user_id, CAST(role_id AS TEXT) FROM role_grants WHERE status = 'granted';
            """,
    };

    /// <summary>Step 8 up to (not including) its INSERT OR IGNORE: the tables, which both providers share.</summary>
    private static string Step8Tables() => Steps[7][..Steps[7].IndexOf("INSERT OR IGNORE", StringComparison.Ordinal)];

    /// <summary>Steps that need code (hashing) after their SQL, in the same transaction, by version.</summary>
    private static readonly Dictionary<int, Func<DbConnection, DbTransaction, Task>> CodeSteps = new()
    {
        [5] = Webhooks.WebhookInbox.RekeyByMessageAsync,
        [8] = Holdings.HoldingsStore.ScheduleTakenOverAsync,
    };

    public static int LatestVersion => Steps.Length;

    /// <summary>
    /// Any advisory lock key held by WalverBot's migrator on PostgreSQL; an arbitrary constant ("WalvMigr"), the same
    /// in every instance, so only one of several starting at once migrates.
    /// </summary>
    public const long PostgresLockKey = 0x57616C764D696772;

    /// <summary>The version the database is at (0 for an empty one).</summary>
    public static async Task<long> CurrentVersionAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        if (connection is not NpgsqlConnection)
        {
            return await connection.ExecuteScalarAsync<long>("PRAGMA user_version;");
        }

        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass('schema_version') IS NOT NULL", cancellationToken: cancellationToken));
        return exists
            ? await connection.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT version FROM schema_version", cancellationToken: cancellationToken)) ?? 0
            : 0;
    }

    public static Task ApplyAsync(DbConnection connection, CancellationToken cancellationToken = default) =>
        connection is NpgsqlConnection postgres ? ApplyPostgresAsync(postgres, cancellationToken) : ApplySqliteAsync(connection, cancellationToken);

    /// <summary>
    /// Under a session-level advisory lock (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS):
    /// a second instance starting at the same time waits here, then finds the version current and does nothing.
    /// </summary>
    private static async Task ApplyPostgresAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS schema_version (
                    id      INTEGER PRIMARY KEY CHECK (id = 1),
                    version INTEGER NOT NULL
                );
                INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
                """, cancellationToken: cancellationToken));
            var version = await CurrentVersionAsync(connection, cancellationToken);
            CheckNotNewer(version);
            for (var next = (int)version + 1; next <= Steps.Length; next++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var sql = PostgresSteps.TryGetValue(next, out var own) ? own : PostgresDialect.Instance.Schema(Steps[next - 1]);
                await connection.ExecuteAsync(sql, transaction: transaction);
                if (CodeSteps.TryGetValue(next, out var code))
                {
                    await code(connection, transaction);
                }

                await connection.ExecuteAsync("UPDATE schema_version SET version = @next", new { next }, transaction);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            // Not cancelled: the lock must go back even when start is being cancelled (a pooled session would keep it).
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey });
        }
    }

    private static void CheckNotNewer(long version)
    {
        if (version > Steps.Length)
        {
            throw new InvalidOperationException(
                $"The database schema is version {version}, newer than this build knows ({Steps.Length}); run a newer WalverBot or restore a backup.");
        }
    }

    private static async Task ApplySqliteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // WAL lets the webhook listener write while the worker reads; the setting is stored in the file.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        var version = await connection.ExecuteScalarAsync<long>("PRAGMA user_version;");
        CheckNotNewer(version);

        for (var next = (int)version + 1; next <= Steps.Length; next++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(Steps[next - 1], transaction: transaction);
            if (CodeSteps.TryGetValue(next, out var code))
            {
                await code(connection, transaction);
            }

            await connection.ExecuteAsync($"PRAGMA user_version = {next};", transaction: transaction);
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
