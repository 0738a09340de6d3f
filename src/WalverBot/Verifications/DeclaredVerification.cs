namespace WalverBot.Verifications;

/// <summary>
/// A verification the operator declares in configuration (<c>Verifications</c> list), typically one made in
/// Walver's dashboard. These are synced into the database at start.
/// </summary>
public sealed class DeclaredVerification
{
    public string Id { get; set; } = "";
    public ulong GuildId { get; set; }
    public ulong RoleId { get; set; }
    public string Secret { get; set; } = "";
    public string? Chain { get; set; }
    public string? TokenAddress { get; set; }
    public decimal? MinAmount { get; set; }

    /// <summary>The https link members open (from Walver's dashboard), so <c>/verify</c> and <c>/walver post</c> can offer it.</summary>
    public string? Url { get; set; }

    /// <summary><c>username</c> (default) or <c>code</c>: require the one-time code from /verify in the <c>walverbot_code</c> field.</summary>
    public string Binding { get; set; } = Bindings.Username;

    /// <summary>One of <see cref="TokenStandards"/>; unset means the chain's default (<see cref="TokenStandards.DefaultFor"/>).</summary>
    public string? TokenStandard { get; set; }

    /// <summary>The ERC-1155 token id, in decimal digits (a uint256).</summary>
    public string? TokenId { get; set; }

    /// <summary>Extra roles by amount held, on top of <see cref="RoleId"/> at <see cref="MinAmount"/>.</summary>
    public List<DeclaredTier> Tiers { get; } = [];

    /// <summary>Without a token gate only: the role is removed this long after the member's last verification.</summary>
    public TimeSpan? ReverifyAfter { get; set; }
}

/// <summary>One item of <c>Verifications:{i}:Tiers</c>: the role held while the amount is at least <see cref="MinAmount"/>.</summary>
public sealed class DeclaredTier
{
    public decimal MinAmount { get; set; }
    public ulong RoleId { get; set; }
}
