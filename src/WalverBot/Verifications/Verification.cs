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

    /// <summary>How the member's Discord account is identified: the typed username, or a one-time code from /verify.</summary>
    public string Binding { get; init; } = Bindings.Username;

    /// <summary>
    /// What kind of asset is read on chain: one of <see cref="TokenStandards"/>. Null means the chain family's default
    /// (<see cref="TokenStandards.DefaultFor"/>).
    /// </summary>
    public string? TokenStandard { get; init; }

    /// <summary>The ERC-1155 token id (decimal digits); null for every other standard.</summary>
    public string? TokenId { get; init; }

    /// <summary>Extra roles by amount held, on top of <see cref="RoleId"/> at <see cref="MinAmount"/> (e.g. Whale ≥ 100).</summary>
    public IReadOnlyList<RoleTier> Tiers { get; init; } = [];

    /// <summary>For verifications without a token gate: the role is removed this long after the member's last verification.</summary>
    public TimeSpan? ReverifyAfter { get; init; }

    /// <summary>
    /// Token-gated: a native coin gate has no token address but a minimum amount, so either makes a gate.
    /// </summary>
    public bool IsTokenGated => !string.IsNullOrEmpty(TokenAddress) || EffectiveTokenStandard == TokenStandards.Native && MinAmount is not null;

    /// <summary>The standard to read with: the declared one, or the default for the chain and the NFT flag.</summary>
    public string EffectiveTokenStandard => TokenStandard ?? TokenStandards.DefaultFor(Chain, IsNft);

    /// <summary>Every role this verification gives with the amount each needs: the base role first, then the tiers.</summary>
    public IReadOnlyList<RoleTier> AllTiers => [new RoleTier(MinAmount ?? 0m, RoleId), .. Tiers];
}

/// <summary>A role held while the member's amount (whole tokens, or a count of NFTs) is at least <paramref name="MinAmount"/>.</summary>
public sealed record RoleTier(decimal MinAmount, ulong RoleId);

/// <summary>The asset kinds the chain readers understand, by the names used in configuration and commands.</summary>
public static class TokenStandards
{
    public const string Erc20 = "erc20";
    public const string Erc721 = "erc721";
    public const string Erc1155 = "erc1155";
    public const string Spl = "spl";

    /// <summary>The chain's own coin (ETH, MATIC, SOL…): no token address.</summary>
    public const string Native = "native";

    public static IReadOnlyList<string> All { get; } = [Erc20, Erc721, Erc1155, Spl, Native];

    public static bool IsKnown(string? standard) => standard is not null && All.Contains(standard, StringComparer.OrdinalIgnoreCase);

    /// <summary><c>spl</c> on Solana, <c>erc721</c> for an EVM NFT gate, <c>erc20</c> otherwise.</summary>
    public static string DefaultFor(string? chain, bool isNft) =>
        string.Equals(chain, KnownChains.Solana, StringComparison.OrdinalIgnoreCase) ? Spl : isNft ? Erc721 : Erc20;
}

/// <summary>Ways a verification binds a wallet to a Discord account.</summary>
public static class Bindings
{
    /// <summary>Trust the username the member typed in Walver's <c>discord</c> field (exact match only).</summary>
    public const string Username = "username";

    /// <summary>Require the one-time code that /verify gave the member, in the <c>walverbot_code</c> field.</summary>
    public const string Code = "code";

    /// <summary>The Walver custom field id that carries the code.</summary>
    public const string CodeField = "walverbot_code";
}
