using System.Security.Cryptography;
using System.Text;
using Dapper;
using WalverBot.Storage;

namespace WalverBot.Binding;

/// <summary>What a code presented in a webhook turned out to be.</summary>
public abstract record CodeCheck
{
    private CodeCheck() { }

    public sealed record Valid(ulong UserId) : CodeCheck;

    public sealed record Rejected(string Reason) : CodeCheck;
}

/// <summary>
/// One-time codes that bind a wallet verification to the Discord account that asked for the code in /verify,
/// so a typed username is never trusted. Codes are 8 characters from an alphabet without look-alikes
/// (no 0/O, 1/I/L), valid 30 minutes, for one member of one guild, used once, and stored only as hashes.
/// </summary>
public sealed class IdentityCodes(Database database, TimeProvider time)
{
    public const int Length = 8;
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);
    private const string Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    /// <summary>Issues a fresh code for the member; earlier unused codes of the member in that guild stop working.</summary>
    public async Task<(string Code, DateTimeOffset ExpiresAt)> IssueAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        var code = RandomNumberGenerator.GetString(Alphabet, Length);
        var now = time.GetUtcNow();
        var expiresAt = now + Lifetime;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM identity_codes WHERE guild_id = @guildId AND user_id = @userId AND used_at IS NULL",
            new { guildId, userId }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO identity_codes (code_hash, guild_id, user_id, created_at, expires_at)
            VALUES (@hash, @guildId, @userId, @now, @expiresAt)
            """,
            new { hash = Hash(code), guildId, userId, now = Database.Format(now), expiresAt = Database.Format(expiresAt) },
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return (code, expiresAt);
    }

    /// <summary>
    /// Checks a code from a webhook for the guild and marks it used by the event. Using it again from the
    /// same event (a retry after a crash) is allowed; from any other event it is not.
    /// </summary>
    public async Task<CodeCheck> RedeemAsync(string? typed, ulong guildId, long eventId, CancellationToken cancellationToken)
    {
        var code = Normalize(typed);
        if (code is null)
        {
            return new CodeCheck.Rejected($"no valid {Length}-character code in the walverbot_code field; the member must run /verify for a code");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<CodeRow>(new CommandDefinition(
            "SELECT guild_id AS GuildId, user_id AS UserId, expires_at AS ExpiresAt, used_by_event AS UsedByEvent FROM identity_codes WHERE code_hash = @hash",
            new { hash = Hash(code) }, cancellationToken: cancellationToken));
        if (row is null || (ulong)row.GuildId != guildId)
        {
            return new CodeCheck.Rejected("the code is unknown in this server");
        }

        if (row.UsedByEvent is { } usedBy && usedBy != eventId)
        {
            return new CodeCheck.Rejected("the code was already used");
        }

        if (row.UsedByEvent is null && DateTimeOffset.Parse(row.ExpiresAt, System.Globalization.CultureInfo.InvariantCulture) < time.GetUtcNow())
        {
            return new CodeCheck.Rejected("the code expired; the member must run /verify for a new one");
        }

        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE identity_codes SET used_at = COALESCE(used_at, @now), used_by_event = @eventId WHERE code_hash = @hash AND (used_by_event IS NULL OR used_by_event = @eventId)",
            new { hash = Hash(code), eventId, now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
        return claimed == 1 ? new CodeCheck.Valid((ulong)row.UserId) : new CodeCheck.Rejected("the code was already used");
    }

    /// <summary>Upper-cases and strips spaces and dashes a member may type; null when it cannot be a code.</summary>
    private static string? Normalize(string? typed)
    {
        if (typed is null || typed.Length > 32)
        {
            return null;
        }

        var code = typed.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        return code.Length == Length && code.All(c => Alphabet.Contains(c, StringComparison.Ordinal)) ? code : null;
    }

    private static string Hash(string code) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    private sealed record CodeRow(long GuildId, long UserId, string ExpiresAt, long? UsedByEvent);
}
