using Microsoft.Extensions.Options;

namespace WalverBot.SolanaRealTime;

public static class SolanaRealTimeServiceCollectionExtensions
{
    /// <summary>Solana real time (<c>Chains:solana:WsUrl</c>); without that key the worker ends at once and nothing else changes.</summary>
    public static IServiceCollection AddSolanaRealTime(this IServiceCollection services)
    {
        services.AddOptions<SolanaSubscriptionOptions>()
            .Configure<IConfiguration>((options, configuration) => SolanaSubscriptionOptions.Read(configuration, options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SolanaSubscriptionOptions>, SolanaSubscriptionOptionsValidator>();
        services.AddOptions<SolanaSubscriptionTuning>();
        services.AddSingleton<SolanaSubscriptionStatus>();
        services.AddSingleton<SolanaWatchlist>();
        services.AddSingleton<SolanaSubscriber>();
        services.AddHostedService<SolanaSubscriberWorker>();
        return services;
    }
}
