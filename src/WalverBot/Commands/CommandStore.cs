using Dapper;
using WalverBot.Storage;

namespace WalverBot.Commands;

/// <summary>The command registrations made with Discord and the per-guild settings admins change from Discord.</summary>
public sealed class CommandStore(Database database, TimeProvider time)
{
    /// <summary>Registered scopes (<c>global</c> or <c>guild:&lt;id&gt;</c>) of an application, with the hash of the definitions sent.</summary>
    public async Task<IReadOnlyDictionary<string, string>> RegistrationsAsync(ulong applicationId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Scope, string Hash)>(new CommandDefinition(
            "SELECT scope, definitions_hash FROM command_registrations WHERE application_id = @applicationId",
            new { applicationId }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Scope, r => r.Hash);
    }

    public async Task SaveRegistrationAsync(ulong applicationId, string scope, string hash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO command_registrations (application_id, scope, definitions_hash, registered_at)
            VALUES (@applicationId, @scope, @hash, @now)
            ON CONFLICT (application_id, scope) DO UPDATE SET definitions_hash = excluded.definitions_hash, registered_at = excluded.registered_at
            """, new { applicationId, scope, hash, now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
    }

    public async Task DeleteRegistrationAsync(ulong applicationId, string scope, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM command_registrations WHERE application_id = @applicationId AND scope = @scope",
            new { applicationId, scope }, cancellationToken: cancellationToken));
    }

    public async Task<ulong?> LogChannelAsync(ulong guildId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<ulong?>(new CommandDefinition(
            "SELECT log_channel_id FROM guild_settings WHERE guild_id = @guildId", new { guildId }, cancellationToken: cancellationToken));
    }

    /// <summary>Sets the guild's log channel; null turns notices off.</summary>
    public async Task SetLogChannelAsync(ulong guildId, ulong? channelId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO guild_settings (guild_id, log_channel_id, updated_at) VALUES (@guildId, @channelId, @now)
            ON CONFLICT (guild_id) DO UPDATE SET log_channel_id = excluded.log_channel_id, updated_at = excluded.updated_at
            """, new { guildId, channelId, now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
    }
}
