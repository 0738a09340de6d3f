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
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>EVM addresses are 20 bytes written 0x + 40 hex digits; Solana's are 32-byte Ed25519 keys in base58.</summary>
    private static bool IsTokenAddress(ChainFamily family, string address) => family == ChainFamily.Evm
        ? address.Length == 42 && address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !address.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF")
        : Security.SignatureEncodings.TryDecodeBase58(address)?.Length == 32;
}
