using System.Globalization;
using Dapper;
using WalverBot.Storage;

namespace WalverBot.Verifications;

/// <summary>
/// Reads and writes the verifications table. Every webhook looks its verification up, so found rows are kept in
/// memory. On SQLite this class is the table's only writer (one process per database file) and drops its copy on every
/// write. On PostgreSQL other instances write the table too (their admins' /walver commands), so a copy is read again
/// once it is <see cref="SharedStoreCacheLifetime"/> old: a verification disabled or re-keyed on one instance is refused
/// by the others within that time. Unknown ids are not cached, so random ids sent by a stranger cannot grow the cache.
/// </summary>
public sealed class VerificationStore(Database database, TimeProvider time)
{
    /// <summary>How long a copy read from a store that other instances write (PostgreSQL) is trusted.</summary>
    public static readonly TimeSpan SharedStoreCacheLifetime = TimeSpan.FromSeconds(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Verification Verification, long ReadAt)> _cache = new(StringComparer.Ordinal);
    private long _writes; // a read that raced a write does not cache what it read

    private const string SelectColumns = """
        SELECT id, guild_id AS GuildId, role_id AS RoleId, secret_hash AS SecretHash, chain, token_address AS TokenAddress,
               min_amount AS MinAmount, is_nft AS IsNft, name, source, enabled, verification_url AS VerificationUrl, binding,
               token_standard AS TokenStandard, token_id AS TokenId, tiers, reverify_after AS ReverifyAfter
        FROM verifications
        """;

    public async Task<Verification?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGetValue(id, out var cached)
            && (!database.IsPostgres || time.GetElapsedTime(cached.ReadAt) < SharedStoreCacheLifetime))
        {
            return cached.Verification;
        }

        var writesBefore = Interlocked.Read(ref _writes);
        var readAt = time.GetTimestamp();
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            new CommandDefinition($"{SelectColumns} WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        var verification = row?.ToVerification();
        if (verification is not null && Interlocked.Read(ref _writes) == writesBefore)
        {
            _cache[id] = (verification, readAt);
        }
        else if (verification is null)
        {
            _cache.TryRemove(id, out _); // deleted by another instance since it was cached
        }

        return verification;
    }

    public async Task<IReadOnlyList<Verification>> ListForGuildAsync(ulong guildId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(
            new CommandDefinition($"{SelectColumns} WHERE guild_id = @guildId ORDER BY created_at", new { guildId }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToVerification()).ToList();
    }

    /// <summary>Inserts the verification, or replaces every field of an existing one with the same id.</summary>
    public async Task UpsertAsync(Verification verification, CancellationToken cancellationToken = default)
    {
        var now = Database.Format(time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO verifications (id, guild_id, role_id, secret_hash, chain, token_address, min_amount, is_nft, name, source, enabled, verification_url, binding,
                                       token_standard, token_id, tiers, reverify_after, created_at, updated_at)
            VALUES (@Id, @GuildId, @RoleId, @SecretHash, @Chain, @TokenAddress, @MinAmount, @IsNft, @Name, @Source, @Enabled, @VerificationUrl, @Binding,
                    @TokenStandard, @TokenId, @Tiers, @ReverifyAfter, @now, @now)
            ON CONFLICT (id) DO UPDATE SET
                guild_id = excluded.guild_id, role_id = excluded.role_id, secret_hash = excluded.secret_hash,
                chain = excluded.chain, token_address = excluded.token_address, min_amount = excluded.min_amount,
                is_nft = excluded.is_nft, name = excluded.name, source = excluded.source, enabled = excluded.enabled,
                verification_url = excluded.verification_url, binding = excluded.binding,
                token_standard = excluded.token_standard, token_id = excluded.token_id, tiers = excluded.tiers,
                reverify_after = excluded.reverify_after, updated_at = excluded.updated_at
            """,
            new
            {
                verification.Id, verification.GuildId, verification.RoleId, verification.SecretHash, verification.Chain,
                verification.TokenAddress, MinAmount = verification.MinAmount?.ToString(CultureInfo.InvariantCulture),
                // Flags are stored as 0/1 integers on both providers (PostgreSQL does not cast a boolean into an integer column).
                IsNft = verification.IsNft ? 1 : 0, verification.Name, verification.Source, Enabled = verification.Enabled ? 1 : 0, verification.VerificationUrl, verification.Binding,
                verification.TokenStandard, verification.TokenId, Tiers = TierJson.Write(verification.Tiers),
                ReverifyAfter = verification.ReverifyAfter?.ToString("c", CultureInfo.InvariantCulture), now,
            },
            cancellationToken: cancellationToken));
        Interlocked.Increment(ref _writes);
        _cache.TryRemove(verification.Id, out _);
    }

    public async Task<bool> SetEnabledAsync(string id, bool enabled, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE verifications SET enabled = @enabled, updated_at = @now WHERE id = @id",
            new { id, enabled = enabled ? 1 : 0, now = Database.Format(time.GetUtcNow()) }, cancellationToken: cancellationToken));
        Interlocked.Increment(ref _writes);
        _cache.TryRemove(id, out _);
        return changed > 0;
    }

    private sealed record Row(
        string Id, long GuildId, long RoleId, string SecretHash, string? Chain, string? TokenAddress,
        string? MinAmount, long IsNft, string? Name, string Source, long Enabled, string? VerificationUrl, string Binding,
        string? TokenStandard, string? TokenId, string? Tiers, string? ReverifyAfter)
    {
        public Verification ToVerification() => new()
        {
            Id = Id,
            GuildId = (ulong)GuildId,
            RoleId = (ulong)RoleId,
            SecretHash = SecretHash,
            Chain = Chain,
            TokenAddress = TokenAddress,
            MinAmount = MinAmount is null ? null : decimal.Parse(MinAmount, CultureInfo.InvariantCulture),
            IsNft = IsNft != 0,
            Name = Name,
            Source = Source,
            Enabled = Enabled != 0,
            VerificationUrl = VerificationUrl,
            Binding = Binding,
            TokenStandard = TokenStandard,
            TokenId = TokenId,
            Tiers = TierJson.Read(Tiers),
            ReverifyAfter = ReverifyAfter is null ? null : TimeSpan.ParseExact(ReverifyAfter, "c", CultureInfo.InvariantCulture),
        };
    }
}

/// <summary>Tiers stored as JSON with amounts and ids as strings, so no precision is lost to doubles.</summary>
internal static class TierJson
{
    private sealed record Item(string MinAmount, string RoleId);

    public static string? Write(IReadOnlyList<RoleTier> tiers) => tiers.Count == 0
        ? null
        : System.Text.Json.JsonSerializer.Serialize(tiers.Select(t => new Item(
            t.MinAmount.ToString(CultureInfo.InvariantCulture), t.RoleId.ToString(CultureInfo.InvariantCulture))).ToList());

    public static IReadOnlyList<RoleTier> Read(string? json) => json is null
        ? []
        : System.Text.Json.JsonSerializer.Deserialize<List<Item>>(json)!
            .Select(i => new RoleTier(decimal.Parse(i.MinAmount, CultureInfo.InvariantCulture), ulong.Parse(i.RoleId, CultureInfo.InvariantCulture)))
            .ToList();
}
