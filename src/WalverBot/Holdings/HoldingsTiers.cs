using WalverBot.Chains;
using WalverBot.Verifications;

namespace WalverBot.Holdings;

/// <summary>Which roles an amount earns, and what to read on chain for a verification.</summary>
public static class HoldingsTiers
{
    /// <summary>
    /// The roles of <see cref="Verification.AllTiers"/> the amount earns. Nothing is earned with nothing held, even by a
    /// tier without a minimum: a token gate is about holding the token.
    /// </summary>
    public static IReadOnlySet<ulong> Earned(Verification verification, decimal amount) =>
        amount <= 0
            ? new HashSet<ulong>()
            : verification.AllTiers.Where(t => amount >= t.MinAmount).Select(t => t.RoleId).ToHashSet();

    /// <summary>Every role a verification gives, base role first.</summary>
    public static IReadOnlySet<ulong> Roles(Verification verification) => verification.AllTiers.Select(t => t.RoleId).ToHashSet();

    /// <summary>The least amount a role needs.</summary>
    public static decimal MinimumFor(Verification verification, ulong roleId) =>
        verification.AllTiers.Where(t => t.RoleId == roleId).Select(t => t.MinAmount).DefaultIfEmpty(0m).Min();

    public static TokenSpec Token(Verification verification) =>
        new(verification.Chain ?? "", verification.EffectiveTokenStandard,
            string.IsNullOrEmpty(verification.TokenAddress) ? null : verification.TokenAddress, verification.TokenId);

    /// <summary>A verification whose roles follow holdings: token-gated on a chain the bot can read.</summary>
    public static bool IsRechecked(Verification verification, IChainReader reader) =>
        verification.Enabled && verification.IsTokenGated && verification.Chain is { } chain && reader.CanRead(chain);

    public static string Format(decimal amount) => amount.ToString("0.############################", System.Globalization.CultureInfo.InvariantCulture);
}
