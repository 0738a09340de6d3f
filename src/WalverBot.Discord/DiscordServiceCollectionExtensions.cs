using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WalverBot.Discord;

/// <summary>Registers the whole Discord client: REST and gateway.</summary>
public static class DiscordServiceCollectionExtensions
{
    /// <summary>
    /// Adds the REST client (<see cref="DiscordRestServiceCollectionExtensions.AddDiscordRest"/>) and the gateway
    /// (<see cref="DiscordGatewayServiceCollectionExtensions.AddDiscordGateway"/>), with the gateway's intents and
    /// IDENTIFY properties set by <paramref name="configureGateway"/>. <see cref="DiscordOptions"/> are bound by the host
    /// (e.g. <c>AddOptions&lt;DiscordOptions&gt;().BindConfiguration(DiscordOptions.SectionName)</c>); both options
    /// classes are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddDiscord(this IServiceCollection services, Action<DiscordGatewayOptions> configureGateway)
    {
        services.AddOptions<DiscordGatewayOptions>().Configure(configureGateway);
        services.AddDiscordRest();
        services.AddDiscordGateway();
        return services;
    }

    /// <summary>The client validates its own options, once, however many of the Add… methods the host calls.</summary>
    internal static void AddDiscordOptionsValidation(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DiscordOptions>, DiscordOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DiscordGatewayOptions>, DiscordGatewayOptionsValidator>());
        services.AddOptions<DiscordOptions>().ValidateOnStart();
        services.AddOptions<DiscordGatewayOptions>().ValidateOnStart();
    }
}
