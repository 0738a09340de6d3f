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

    public bool IsTokenGated => !string.IsNullOrEmpty(TokenAddress);
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
