namespace WalverBot.Verifications;

/// <summary>A Walver verification the bot honours: which role it grants in which guild, and what it gates on.</summary>
public sealed record Verification
{
    public required string Id { get; init; }
    public required ulong GuildId { get; init; }
    public required ulong RoleId { get; init; }
    public required string SecretHash { get; init; }
    public string? Chain { get; init; }
    public string? TokenAddress { get; init; }

    /// <summary>The minimum token amount the member must hold; null when not token-gated.</summary>
    public decimal? MinAmount { get; init; }

    public bool IsNft { get; init; }
    public string? Name { get; init; }

    /// <summary><c>config</c> for verifications declared by the operator, <c>command</c> for ones made from Discord.</summary>
    public required string Source { get; init; }

    public bool Enabled { get; init; } = true;
    public string? VerificationUrl { get; init; }

    public bool IsTokenGated => !string.IsNullOrEmpty(TokenAddress);
}
