using Microsoft.Extensions.Options;

namespace WalverBot.Verifications;

/// <summary>The operator's <c>Verifications</c> list, bound from configuration.</summary>
public sealed class DeclaredVerificationsOptions
{
    public const string SectionName = "Verifications";

    public List<DeclaredVerification> Items { get; } = [];
}

public static class VerificationServiceCollectionExtensions
{
    public static IServiceCollection AddVerifications(this IServiceCollection services)
    {
        services.AddOptions<DeclaredVerificationsOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(DeclaredVerificationsOptions.SectionName).Bind(options.Items))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeclaredVerificationsOptions>, DeclaredVerificationsValidator>();
        services.AddSingleton<VerificationStore>();
        services.AddSingleton<DeclaredVerificationSync>();
        services.AddScoped<ReverifyExpiry>();
        services.AddHostedService<ReverifyWorker>();
        return services;
    }

    public static Task SyncDeclaredVerificationsAsync(this IServiceProvider services, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<DeclaredVerificationSync>()
            .SyncAsync(services.GetRequiredService<IOptions<DeclaredVerificationsOptions>>().Value.Items, cancellationToken);
}

internal sealed class DeclaredVerificationsValidator : IValidateOptions<DeclaredVerificationsOptions>
{
    public ValidateOptionsResult Validate(string? name, DeclaredVerificationsOptions options)
    {
        var failures = new List<string>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Items.Count; i++)
        {
            var item = options.Items[i];
            var key = $"{DeclaredVerificationsOptions.SectionName}:{i}";
            if (string.IsNullOrWhiteSpace(item.Id))
            {
                failures.Add($"{key}:Id is required");
            }
            else if (!ids.Add(item.Id))
            {
                failures.Add($"{key}:Id repeats the id of another declared verification");
            }

            if (item.GuildId == 0)
            {
                failures.Add($"{key}:GuildId is required (the server's id)");
            }

            if (item.RoleId == 0)
            {
                failures.Add($"{key}:RoleId is required (the role to grant)");
            }

            if (string.IsNullOrEmpty(item.Secret))
            {
                failures.Add($"{key}:Secret is required (the webhook secret set in Walver's dashboard)");
            }

            if (item.Chain is not null && !KnownChains.IsKnown(item.Chain))
            {
                failures.Add($"{key}:Chain must be one of {string.Join(", ", KnownChains.All)}");
            }

            if (!string.IsNullOrWhiteSpace(item.TokenAddress) && KnownChains.TryGetFamily(item.Chain, out var family) && !IsTokenAddress(family, item.TokenAddress.Trim()))
            {
                failures.Add(family == ChainFamily.Evm
                    ? $"{key}:TokenAddress must be a contract address on {item.Chain!.ToLowerInvariant()}: 0x followed by 40 hex digits"
                    : $"{key}:TokenAddress must be a mint address on {item.Chain!.ToLowerInvariant()}: 32 bytes in base58 (32 to 44 characters)");
            }

            if (item.Binding.ToLowerInvariant() is not (Bindings.Username or Bindings.Code))
            {
                failures.Add($"{key}:Binding must be {Bindings.Username} or {Bindings.Code}");
            }

            if (!string.IsNullOrWhiteSpace(item.Url) && (!Uri.TryCreate(item.Url.Trim(), UriKind.Absolute, out var link) || link.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{key}:Url must be the https:// link members open, as shown in Walver's dashboard");
            }

            if (item.MinAmount is < 0)
            {
                failures.Add($"{key}:MinAmount must not be negative");
            }

            failures.AddRange(GateProblems(item, key));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// The token standard, ERC-1155 token id, tiers and ReverifyAfter of one declared verification, each problem naming
    /// its key. Shared with <c>/walver tiers</c> through <see cref="GateRules"/>.
    /// </summary>
    private static IEnumerable<string> GateProblems(DeclaredVerification item, string key)
    {
        var chain = item.Chain?.Trim().ToLowerInvariant();
        var hasAddress = !string.IsNullOrWhiteSpace(item.TokenAddress);
        var standard = item.TokenStandard?.Trim().ToLowerInvariant();
        if (standard is { Length: 0 })
        {
            standard = null;
        }

        if (standard is not null)
        {
            if (!TokenStandards.IsKnown(standard))
            {
                yield return $"{key}:TokenStandard must be one of {string.Join(", ", TokenStandards.All)}";
                yield break;
            }

            if (GateRules.StandardProblem(standard, chain) is { } chainProblem)
            {
                yield return $"{key}:TokenStandard {chainProblem}";
            }

            if (standard == TokenStandards.Native)
            {
                if (hasAddress)
                {
                    yield return $"{key}:TokenStandard native is the chain's own coin: remove TokenAddress (it has no contract or mint)";
                }
                else if (item.MinAmount is not > 0)
                {
                    yield return $"{key}:TokenStandard native needs MinAmount, the least amount of the coin a wallet must hold (more than 0)";
                }
            }
            else if (!hasAddress)
            {
                yield return $"{key}:TokenStandard {standard} needs TokenAddress, the {(standard == TokenStandards.Spl ? "mint" : "contract")} address";
            }
        }

        var effective = standard ?? TokenStandards.DefaultFor(chain, isNft: false);
        if (!string.IsNullOrWhiteSpace(item.TokenId))
        {
            if (effective != TokenStandards.Erc1155)
            {
                yield return $"{key}:TokenId belongs to an ERC-1155 gate only: set TokenStandard to erc1155 or remove TokenId";
            }
            else if (!GateRules.IsTokenId(item.TokenId.Trim()))
            {
                yield return $"{key}:TokenId must be the ERC-1155 token id in decimal digits (a uint256, e.g. 1)";
            }
        }
        else if (effective == TokenStandards.Erc1155)
        {
            yield return $"{key}:TokenId is required for an erc1155 gate: the id of the token within the contract, in decimal digits";
        }

        var gated = hasAddress || effective == TokenStandards.Native && item.MinAmount is not null;
        if (item.Tiers.Count > 0 && !gated)
        {
            yield return $"{key}:Tiers need a token gate (TokenAddress, or TokenStandard native with MinAmount): tiers give roles by amount held";
        }
        else
        {
            for (var t = 0; t < item.Tiers.Count; t++)
            {
                var tier = item.Tiers[t];
                var tierKey = $"{key}:Tiers:{t}";
                if (GateRules.TierAmountProblem(tier.MinAmount, item.MinAmount, effective) is { } amountProblem)
                {
                    yield return $"{tierKey}:MinAmount {amountProblem}";
                }
                else if (item.Tiers.Take(t).Any(other => other.MinAmount == tier.MinAmount))
                {
                    yield return $"{tierKey}:MinAmount repeats the amount of another tier: each tier needs its own amount";
                }

                if (tier.RoleId == 0)
                {
                    yield return $"{tierKey}:RoleId is required (the role held from this amount on)";
                }
                else if (tier.RoleId == item.RoleId)
                {
                    yield return $"{tierKey}:RoleId is the verification's own RoleId: a tier gives a different role";
                }
                else if (tier.RoleId == item.GuildId)
                {
                    yield return $"{tierKey}:RoleId is the server's @everyone role, which cannot be assigned";
                }
                else if (item.Tiers.Take(t).Any(other => other.RoleId == tier.RoleId))
                {
                    yield return $"{tierKey}:RoleId repeats the role of another tier: each tier gives its own role";
                }
            }
        }

        if (item.ReverifyAfter is { } reverify)
        {
            if (reverify <= TimeSpan.Zero)
            {
                yield return $"{key}:ReverifyAfter must be more than 0, e.g. 90.00:00:00 for 90 days";
            }
            else if (gated)
            {
                yield return $"{key}:ReverifyAfter is only for verifications without a token gate: a token gate's roles follow holdings re-checks instead; remove ReverifyAfter or the gate";
            }
        }
    }

    /// <summary>EVM addresses are 20 bytes written 0x + 40 hex digits; Solana's are 32-byte Ed25519 keys in base58.</summary>
    private static bool IsTokenAddress(ChainFamily family, string address) => family == ChainFamily.Evm
        ? address.Length == 42 && address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !address.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF")
        : Security.SignatureEncodings.TryDecodeBase58(address)?.Length == 32;
}
