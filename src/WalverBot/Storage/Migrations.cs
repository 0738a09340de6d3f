using Dapper;
using Microsoft.Data.Sqlite;

namespace WalverBot.Storage;

/// <summary>
/// Versioned schema migrations, applied in order at start. The applied version is SQLite's
/// <c>user_version</c>; each step runs in its own transaction, so a crash leaves a consistent version.
/// Append new steps; never edit a released one.
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
        // EVM transfer follower (Following/FollowerStore.cs): the last processed block per chain, the hashes of recent
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

    /// <summary>Steps that need code (hashing) after their SQL, in the same transaction, by version.</summary>
    private static readonly Dictionary<int, Func<SqliteConnection, System.Data.Common.DbTransaction, Task>> CodeSteps = new()
    {
        [5] = Webhooks.WebhookInbox.RekeyByMessageAsync,
        [8] = Holdings.HoldingsStore.ScheduleTakenOverAsync,
    };

    public static int LatestVersion => Steps.Length;

    public static async Task ApplyAsync(SqliteConnection connection, CancellationToken cancellationToken = default)
    {
        // WAL lets the webhook listener write while the worker reads; the setting is stored in the file.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        var version = await connection.ExecuteScalarAsync<long>("PRAGMA user_version;");
        if (version > Steps.Length)
        {
            throw new InvalidOperationException(
                $"The database schema is version {version}, newer than this build knows ({Steps.Length}); run a newer WalverBot or restore a backup.");
        }

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
