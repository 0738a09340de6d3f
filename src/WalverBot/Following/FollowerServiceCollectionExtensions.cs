using Microsoft.Extensions.Options;

namespace WalverBot.Following;

public static class FollowerServiceCollectionExtensions
{
    /// <summary>The EVM transfer followers: one loop per EVM chain with <c>Chains:{chain}:RpcUrl</c>.</summary>
    public static IServiceCollection AddFollowers(this IServiceCollection services)
    {
        services.AddOptions<FollowerOptions>()
            .Configure<IConfiguration>((options, configuration) => FollowerOptions.Read(configuration, options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<FollowerOptions>, FollowerOptionsValidator>();
        services.AddOptions<FollowerTuning>();
        services.AddSingleton<FollowerStore>();
        services.AddSingleton<FollowerStates>();
        services.AddSingleton<IFollowerEffects, RecheckEffects>();
        services.AddHostedService<FollowerWorker>();
        return services;
    }
}
