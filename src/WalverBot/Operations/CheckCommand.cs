using System.Net;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using WalverBot.Discord;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Grants;
using WalverBot.Storage;
using WalverBot.Verifications;
using WalverBot.Walver;
using WalverBot.Webhooks;

namespace WalverBot.Operations;

/// <summary>
/// <c>WalverBot check</c>: validates the configuration, opens the database, asks Discord who the bot is and where,
/// checks every verification's role and the Server Members intent, and says whether the Walver key is set.
/// Changes nothing (it does not create or migrate the database). Exit codes in <see cref="OperatorCommands"/>.
/// </summary>
public static class CheckCommand
{
    private static readonly TimeSpan GatewayTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        var report = new CheckReport(output);
        if (!CheckConfiguration(services, report))
        {
            output.WriteLine("check: the configuration is invalid; fix the lines above first");
            return OperatorCommands.ConfigurationInvalid;
        }

        var storedVerifications = await CheckDatabaseAsync(services, report, cancellationToken);
        await CheckOnceOnlyJobsAsync(services, report, cancellationToken);
        await CheckDiscordAsync(services, report, storedVerifications, cancellationToken);
        CheckWalver(services, report);
        await WalverBot.Chains.ChainCoverage.CheckAsync(services, report, cancellationToken);
        await WalverBot.SolanaRealTime.SolanaSubscriptionCheck.CheckAsync(services, report, cancellationToken);
        await WalverBot.Following.FollowerCheck.CheckAsync(services, report, cancellationToken);

        output.WriteLine(report.Problems == 0
            ? $"check: everything needed to grant roles is in place ({report.Warnings} warning(s))"
            : $"check: {report.Problems} problem(s), {report.Warnings} warning(s)");
        return report.Problems == 0 ? OperatorCommands.Success : OperatorCommands.Failure;
    }

    private static bool CheckConfiguration(IServiceProvider services, CheckReport report)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            report.Ok("config", "every setting is valid");
            return true;
        }
        catch (OptionsValidationException ex)
        {
            ex.Failures.Distinct().ToList().ForEach(f => report.Problem("config", f));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures).Distinct().ToList().ForEach(f => report.Problem("config", f));
        }

        return false;
    }

    /// <summary>Returns the verifications stored in the database (empty when it does not exist yet).</summary>
    private static async Task<IReadOnlyList<(string Id, ulong GuildId, ulong RoleId)>> CheckDatabaseAsync(
        IServiceProvider services, CheckReport report, CancellationToken cancellationToken)
    {
        var database = services.GetRequiredService<Database>();
        if (database.IsPostgres)
        {
            return await CheckPostgresAsync(database, report, cancellationToken);
        }

        var path = Path.GetFullPath(database.DataSource);
        if (!File.Exists(path))
        {
            var folder = Path.GetDirectoryName(path)!;
            if (Directory.Exists(folder) && !IsWritable(folder))
            {
                report.Problem("database", $"{path} does not exist and its folder {folder} is not writable by this user");
            }
            else
            {
                report.Warn("database", $"{path} does not exist yet; the bot creates it at its first start");
            }

            return [];
        }

        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var version = await connection.ExecuteScalarAsync<long>("PRAGMA user_version");
            var journal = await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode");
            // BEGIN IMMEDIATE takes the write lock: it fails on a read-only volume and waits out (busy timeout) another writer.
            await connection.ExecuteAsync("BEGIN IMMEDIATE; ROLLBACK;");
            var backlog = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'");
            var rows = (await connection.QueryAsync<(string Id, long GuildId, long RoleId)>(
                "SELECT id, guild_id, role_id FROM verifications WHERE enabled = 1 ORDER BY id")).ToList();
            if (version > Migrations.LatestVersion)
            {
                report.Problem("database", $"{path} has schema version {version}, newer than this build ({Migrations.LatestVersion}); run a newer WalverBot");
            }
            else
            {
                report.Ok("database", $"{path} opens for writing (schema {version}/{Migrations.LatestVersion}, journal {journal}, {rows.Count} enabled verification(s), {backlog} event(s) waiting)");
            }

            return [.. rows.Select(r => (r.Id, unchecked((ulong)r.GuildId), unchecked((ulong)r.RoleId)))];
        }
        catch (SqliteException ex)
        {
            report.Problem("database", $"{path} cannot be opened for writing: SQLite error {ex.SqliteErrorCode} ({ex.Message})");
            return [];
        }
    }

    /// <summary>Which instance holds each once-only job, and whose guilds this instance works for.</summary>
    private static async Task CheckOnceOnlyJobsAsync(IServiceProvider services, CheckReport report, CancellationToken cancellationToken)
    {
        var shards = services.GetRequiredService<ScaleOut.ShardOwnership>();
        report.Ok("instance", $"this instance processes the grants, pending grants and member joins of the guilds of {shards}");
        var leader = services.GetRequiredService<ScaleOut.IJobLeader>();
        try
        {
            foreach (var holding in await leader.HoldersAsync(cancellationToken))
            {
                report.Ok("jobs", $"once-only job {holding.Job}: {(holding.Holder is null ? "no instance holds it now (the next instance to ask takes it)" : $"held by {holding.Holder}")}");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            report.Warn("jobs", $"cannot tell which instance holds the once-only jobs: {ex.Message}");
        }
    }

    /// <summary>PostgreSQL: the server answers, its version, the migration level, and that this session may write.</summary>
    private static async Task<IReadOnlyList<(string Id, ulong GuildId, ulong RoleId)>> CheckPostgresAsync(
        Database database, CheckReport report, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var server = await connection.ExecuteScalarAsync<string>("SHOW server_version");
            // A hot standby (or default_transaction_read_only) accepts connections but no webhook.
            var readOnly = await connection.ExecuteScalarAsync<string>("SHOW transaction_read_only");
            var version = await Migrations.CurrentVersionAsync(connection, cancellationToken);
            if (readOnly == "on")
            {
                report.Problem("database", $"PostgreSQL {server} at {database.DataSource} is read-only (a standby, or default_transaction_read_only); point ConnectionStrings:WalverBot at the primary");
                return [];
            }

            if (version == 0)
            {
                report.Warn("database", $"PostgreSQL {server} at {database.DataSource} answers; its schema is empty, the bot creates it at its first start (schema 0/{Migrations.LatestVersion})");
                return [];
            }

            var backlog = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'");
            var rows = (await connection.QueryAsync<(string Id, long GuildId, long RoleId)>(
                "SELECT id, guild_id, role_id FROM verifications WHERE enabled = 1 ORDER BY id")).ToList();
            if (version > Migrations.LatestVersion)
            {
                report.Problem("database", $"PostgreSQL at {database.DataSource} has schema version {version}, newer than this build ({Migrations.LatestVersion}); run a newer WalverBot");
            }
            else
            {
                report.Ok("database", $"PostgreSQL {server} at {database.DataSource} opens for writing (schema {version}/{Migrations.LatestVersion}, {rows.Count} enabled verification(s), {backlog} event(s) waiting)");
            }

            return [.. rows.Select(r => (r.Id, unchecked((ulong)r.GuildId), unchecked((ulong)r.RoleId)))];
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            report.Problem("database", $"PostgreSQL at {database.DataSource} cannot be used: {ex.Message}");
            return [];
        }
    }

    private static async Task CheckDiscordAsync(
        IServiceProvider services, CheckReport report, IReadOnlyList<(string Id, ulong GuildId, ulong RoleId)> stored, CancellationToken cancellationToken)
    {
        var discord = services.GetRequiredService<IDiscordRestClient>();
        DiscordUser me;
        IReadOnlyList<PartialGuild> guilds;
        try
        {
            me = await discord.GetCurrentUserAsync(cancellationToken);
            report.Ok("discord", $"the token belongs to bot {me.Username} ({me.Id})");
            guilds = await discord.GetCurrentUserGuildsAsync(cancellationToken);
            report.Ok("discord", guilds.Count == 0
                ? "the bot is in no server yet; invite it with the Manage Roles permission"
                : $"the bot is in {guilds.Count} server(s): {string.Join(", ", guilds.Take(10).Select(g => $"{g.Name} ({g.Id})"))}{(guilds.Count > 10 ? ", …" : "")}");
        }
        catch (DiscordRestException ex)
        {
            report.Problem("discord", ex.StatusCode == HttpStatusCode.Unauthorized
                ? "Discord refused the token (401 Unauthorized): copy it again from the developer portal (Bot → Reset Token) into Discord:Token"
                : $"Discord did not answer GET /users/@me as expected: {Describe(ex)}");
            return;
        }
        catch (HttpRequestException ex)
        {
            report.Problem("discord", $"cannot reach Discord at {services.GetRequiredService<IOptions<DiscordOptions>>().Value.ApiBaseUrl}: {ex.Message}");
            return;
        }

        await CheckVerificationsAsync(services, report, discord, guilds, stored, cancellationToken);
        await CheckIntentAsync(services, report, discord, cancellationToken);
    }

    private static async Task CheckVerificationsAsync(
        IServiceProvider services, CheckReport report, IDiscordRestClient discord, IReadOnlyList<PartialGuild> guilds,
        IReadOnlyList<(string Id, ulong GuildId, ulong RoleId)> stored, CancellationToken cancellationToken)
    {
        var declared = services.GetRequiredService<IOptions<DeclaredVerificationsOptions>>().Value.Items
            .Select(v => (v.Id, v.GuildId, v.RoleId));
        // Configuration wins over the database for a declared id (the bot syncs it at start).
        var all = declared.Concat(stored).DistinctBy(v => v.Id).OrderBy(v => v.Id, StringComparer.Ordinal).ToList();
        if (all.Count == 0)
        {
            report.Warn("verifications", "none declared in Verifications or stored; create one with /walver create or /walver link");
            return;
        }

        var allowPrivileged = services.GetRequiredService<IOptions<RoleOptions>>().Value.AllowPrivileged;
        var roleSource = services.GetRequiredService<IGuildRoleSource>();
        foreach (var (id, guildId, roleId) in all)
        {
            var area = $"verification {id}";
            var guild = guilds.FirstOrDefault(g => g.Id == guildId);
            if (guild is null)
            {
                report.Problem(area, $"the bot is not in server {guildId}; invite it there or fix the verification's GuildId");
                continue;
            }

            if (guild.Permissions is { } listed && !CanManageRoles(listed))
            {
                report.Problem(area, $"the bot lacks Manage Roles in {guild.Name} ({guildId}); give its role that permission");
                continue;
            }

            try
            {
                var view = await roleSource.GetAsync(guildId, cancellationToken);
                // An absent `permissions` field is unknown, not "none": work them out from the roles as Discord does
                // (https://discord.com/developers/docs/topics/permissions#permission-hierarchy: @everyone's, then the member's roles).
                if (guild.Permissions is null && !guild.Owner && !CanManageRoles(BasePermissions(guildId, view)))
                {
                    report.Problem(area, $"the bot lacks Manage Roles in {guild.Name} ({guildId}); give its role that permission");
                    continue;
                }

                var role = view.Roles.FirstOrDefault(r => r.Id == roleId);
                var unsafeReason = RoleSafety.Check(guildId, roleId, view.Roles, view.BotRoleIds, allowPrivileged);
                if (unsafeReason is null)
                {
                    report.Ok(area, $"role {role!.Name} ({roleId}) in {guild.Name} exists and sits below the bot's highest role");
                }
                else
                {
                    report.Problem(area, $"role {roleId} in {guild.Name}: {unsafeReason}");
                }
            }
            catch (DiscordRestException ex)
            {
                report.Problem(area, $"cannot read the roles of {guild.Name} ({guildId}): {Describe(ex)}");
            }
        }
    }

    private static async Task CheckIntentAsync(IServiceProvider services, CheckReport report, IDiscordRestClient discord, CancellationToken cancellationToken)
    {
        try
        {
            var gateway = await discord.GetGatewayBotAsync(cancellationToken);
            if (gateway.SessionStartLimit.Remaining < 10)
            {
                report.Warn("intent", $"not tested: only {gateway.SessionStartLimit.Remaining} gateway session start(s) left today, kept for the bot");
                return;
            }

            // One session with the bot's own intents (GUILDS | GUILD_MEMBERS): Discord answers READY, or closes it with
            // 4014 when the Server Members intent is off in the developer portal. REST cannot tell: the application's flags
            // say whether the intent is enabled, not whether the gateway accepts it for this bot.
            var result = await services.GetRequiredService<IGatewayProbe>().RunAsync(gateway, GatewayTimeout, cancellationToken);
            if (result.Ready)
            {
                report.Ok("intent", $"Server Members intent works ({result.Detail})");
            }
            else
            {
                report.Problem("intent", $"Server Members intent: {result.Detail}");
            }
        }
        catch (DiscordRestException ex)
        {
            report.Problem("intent", $"cannot get the gateway URL (GET /gateway/bot): {Describe(ex)}");
        }
    }

    private static void CheckWalver(IServiceProvider services, CheckReport report)
    {
        var walver = services.GetRequiredService<IOptions<WalverOptions>>().Value;
        if (string.IsNullOrWhiteSpace(walver.ApiKey))
        {
            report.Warn("walver", "Walver:ApiKey is not set: /walver create cannot create verifications (declared and linked ones still work)");
        }
        else
        {
            report.Ok("walver", "Walver:ApiKey is set");
        }

        var webhook = services.GetRequiredService<IOptions<WebhookOptions>>().Value;
        if (webhook.WebhookUrl is null)
        {
            report.Warn("walver", "Webhook:PublicBaseUrl is not set: /walver create cannot tell Walver where to send webhooks");
        }
        else
        {
            report.Ok("walver", $"webhooks are expected at {webhook.WebhookUrl}");
        }
    }

    private static bool IsWritable(string folder)
    {
        try
        {
            var probe = Path.Combine(folder, $".walverbot-check-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool CanManageRoles(DiscordPermissions permissions) =>
        (permissions & (DiscordPermissions.ManageRoles | DiscordPermissions.Administrator)) != 0;

    private static DiscordPermissions BasePermissions(ulong guildId, GuildRoleView view) =>
        view.Roles.Where(r => r.Id == guildId || view.BotRoleIds.Contains(r.Id)).Aggregate(DiscordPermissions.None, (all, r) => all | r.Permissions);

    private static string Describe(DiscordRestException ex) =>
        ex.StatusCode is { } status ? $"{(int)status} {ex.Message}{(ex.ErrorCode is { } code ? $" (code {code})" : "")}" : $"no answer ({ex.Message})";
}
