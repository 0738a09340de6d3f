using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WalverBot.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IWalletSignatureVerifier"/> (stateless, one instance). Options are bound by the host.</summary>
    public static IServiceCollection AddWalletSignatureVerification(this IServiceCollection services)
    {
        services.TryAddSingleton<IWalletSignatureVerifier, WalletSignatureVerifier>();
        return services;
    }
}
