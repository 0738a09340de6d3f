using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WalverBot.Discord.Gateway;

namespace WalverBot.Discord;

/// <summary>Registers the Discord gateway client.</summary>
public static class DiscordGatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway: a hosted service running every shard of the process, <see cref="IGatewayStatus"/>,
    /// <see cref="IGuildCache"/>, <see cref="IGuildMemberRequests"/>, <see cref="IGatewayProbe"/> and the dispatch of events to <see cref="IGatewayEventHandler{TEvent}"/>s.
    /// Expects <c>IOptions&lt;DiscordOptions&gt;</c> and <see cref="Rest.IDiscordRestClient"/> to be registered by the host;
    /// intents and IDENTIFY properties come from <see cref="DiscordGatewayOptions"/> (see <see cref="DiscordServiceCollectionExtensions.AddDiscord"/>).
    /// Both options classes are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddDiscordGateway(this IServiceCollection services)
    {
        services.AddDiscordOptionsValidation();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IGatewayTransportFactory, ClientWebSocketTransportFactory>();
        services.TryAddSingleton<IReconnectStrategy>(_ => new ExponentialBackoffReconnectStrategy());
        services.TryAddSingleton<GatewayStatus>();
        services.TryAddSingleton<IGatewayStatus>(sp => sp.GetRequiredService<GatewayStatus>());
        services.TryAddSingleton<GuildCache>();
        services.TryAddSingleton<IGuildCache>(sp => sp.GetRequiredService<GuildCache>());
        services.TryAddSingleton<MemberDirectory>();
        services.TryAddSingleton<IMemberDirectory>(sp => sp.GetRequiredService<MemberDirectory>());
        services.TryAddSingleton<GatewayEventDispatcher>();
        services.AddMetrics();
        services.TryAddSingleton<GatewayShardMetrics>();
        services.TryAddSingleton<DiscordGatewayClient>();
        services.TryAddSingleton<GuildMemberRequests>();
        services.TryAddSingleton<IGuildMemberRequests>(sp => sp.GetRequiredService<GuildMemberRequests>());
        services.TryAddSingleton<IGatewayProbe, GatewayProbe>();
        services.AddGatewayEventHandler<GuildMembersChunkHandler>();
        services.AddHostedService<GatewayHostedService>();
        services.AddHostedService<MemberDirectoryFiller>();
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> (scoped) for every <see cref="IGatewayEventHandler{TEvent}"/> it implements.
    /// </summary>
    public static IServiceCollection AddGatewayEventHandler<THandler>(this IServiceCollection services)
        where THandler : class
    {
        var handled = typeof(THandler).GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IGatewayEventHandler<>))
            .ToList();
        if (handled.Count == 0)
        {
            throw new ArgumentException($"{typeof(THandler).Name} implements no IGatewayEventHandler<TEvent>.", nameof(THandler));
        }

        foreach (var handlerInterface in handled)
        {
            services.AddScoped(handlerInterface, typeof(THandler));
        }

        return services;
    }
}
