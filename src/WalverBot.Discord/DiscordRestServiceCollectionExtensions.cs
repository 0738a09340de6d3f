using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Rest;
using WalverBot.Discord.Rest.RateLimits;

namespace WalverBot.Discord;

/// <summary>Registers the Discord REST client.</summary>
public static class DiscordRestServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IDiscordRestClient"/> as a typed HttpClient with Discord's headers, rate limits,
    /// a 15 s per-attempt timeout and metrics (meter <see cref="DiscordMetrics.MeterName"/>).
    /// Expects <see cref="DiscordOptions"/> to be bound by the host and validates them when the host starts; adds
    /// <see cref="TimeProvider.System"/> when no <see cref="TimeProvider"/> is registered.
    /// </summary>
    public static IServiceCollection AddDiscordRest(this IServiceCollection services)
    {
        if (services.Any(descriptor => descriptor.ServiceType == typeof(DiscordRateLimiter)))
        {
            return services;
        }

        services.AddDiscordOptionsValidation();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        // Discord:GlobalRateLimit is the operator's share of the token's global limit (50/s over all its processes).
        services.TryAddSingleton(provider => new DiscordRestSettings
        {
            GlobalRequestsPerSecond = provider.GetRequiredService<IOptions<DiscordOptions>>().Value.GlobalRateLimit,
        });
        services.AddSingleton<DiscordRateLimiter>();
        services.TryAddSingleton<InvalidRequestMonitor>();
        services.TryAddSingleton<DiscordRestMetrics>();
        services.TryAddTransient<DiscordRateLimitHandler>();
        services.TryAddTransient<DiscordAuthenticationHandler>();
        services.TryAddTransient<DiscordTimeoutHandler>();

        services.AddHttpClient<IDiscordRestClient, DiscordRestClient>(DiscordRestClient.HttpClientName, (provider, http) =>
            {
                var options = provider.GetRequiredService<IOptions<DiscordOptions>>().Value;
                // The trailing slash keeps "/api/v10" when relative paths are resolved against it.
                http.BaseAddress = new Uri(options.ApiBaseUrl.TrimEnd('/') + "/");
                // DiscordTimeoutHandler bounds each attempt on the TimeProvider; rate-limit waits must not count.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            // Outermost first: every 429 retry passes again through authentication and the timeout.
            .AddHttpMessageHandler<DiscordRateLimitHandler>()
            .AddHttpMessageHandler<DiscordAuthenticationHandler>()
            .AddHttpMessageHandler<DiscordTimeoutHandler>()
            // The factory's default loggers write request URIs, and interaction URIs hold tokens.
            .RemoveAllLoggers();
        return services;
    }
}
