using Microsoft.Extensions.Time.Testing;
using WalverBot.Binding;
using WalverBot.Tests.Storage;
using WalverBot.Storage;

namespace WalverBot.Tests.Binding;

public class IdentityCodesTests
{
    /// <summary>Which store the tests run against (PostgreSQL in <see cref="PostgresIdentityCodesTests"/>).</summary>
    protected virtual string Provider => StorageProviders.Sqlite;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [SkippableFact]
    public async Task A_code_binds_to_the_member_who_asked_once()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var codes = new IdentityCodes(db.Database, _time);
        var (code, expiresAt) = await codes.IssueAsync(1, 42, CancellationToken.None);

        Assert.Matches("^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$", code);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(30), expiresAt);
        Assert.Equal(new CodeCheck.Valid(42), await codes.RedeemAsync($" {code[..4].ToLowerInvariant()}-{code[4..]} ", 1, eventId: 7, CancellationToken.None));
        Assert.Equal(new CodeCheck.Valid(42), await codes.RedeemAsync(code, 1, eventId: 7, CancellationToken.None)); // the same event, retried
        Assert.IsType<CodeCheck.Rejected>(await codes.RedeemAsync(code, 1, eventId: 8, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Codes_expire_belong_to_one_guild_and_are_stored_hashed()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var codes = new IdentityCodes(db.Database, _time);
        var (code, _) = await codes.IssueAsync(1, 42, CancellationToken.None);

        Assert.Contains("unknown", ((CodeCheck.Rejected)await codes.RedeemAsync(code, 2, 1, CancellationToken.None)).Reason, StringComparison.Ordinal);
        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.Contains("expired", ((CodeCheck.Rejected)await codes.RedeemAsync(code, 1, 1, CancellationToken.None)).Reason, StringComparison.Ordinal);

        await using var connection = await db.Database.OpenAsync();
        var stored = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "SELECT code_hash FROM identity_codes");
        Assert.NotEqual(code, stored);
        Assert.DoesNotContain(code, stored!, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_new_code_replaces_the_members_unused_one()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        var codes = new IdentityCodes(db.Database, _time);
        var (first, _) = await codes.IssueAsync(1, 42, CancellationToken.None);
        var (second, _) = await codes.IssueAsync(1, 42, CancellationToken.None);

        Assert.IsType<CodeCheck.Rejected>(await codes.RedeemAsync(first, 1, 1, CancellationToken.None));
        Assert.Equal(new CodeCheck.Valid(42), await codes.RedeemAsync(second, 1, 1, CancellationToken.None));
    }

    [SkippableTheory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ABCD")]
    [InlineData("ABCDEFG0")] // 0 is not in the alphabet
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")]
    public async Task Text_that_cannot_be_a_code_is_rejected(string? typed)
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        Assert.IsType<CodeCheck.Rejected>(await new IdentityCodes(db.Database, _time).RedeemAsync(typed, 1, 1, CancellationToken.None));
    }
}

/// <summary>The same tests on a real PostgreSQL server.</summary>
[Trait("Needs", "postgres")]
public sealed class PostgresIdentityCodesTests : IdentityCodesTests
{
    protected override string Provider => StorageProviders.Postgres;
}
