using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;
using WalverBot.Verifications;

namespace WalverBot.Chains;

public static class ChainServiceCollectionExtensions
{
    public static string ClientName(string chain) => $"chain-rpc-{chain.ToLowerInvariant()}";

    /// <summary>
    /// The chain readers behind one <see cref="IChainReader"/>, with one HttpClient per chain: a timeout per attempt,
    /// retries with exponential backoff on 429/5xx/timeouts honouring Retry-After, and the endpoint's token bucket
    /// under the retries (each attempt takes a token).
    /// </summary>
    public static IServiceCollection AddChains(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ChainsOptions>()
            .Configure<IConfiguration>((options, configuration) => ChainsOptions.Read(configuration, options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChainsOptions>, ChainsOptionsValidator>();
        services.AddOptions<ChainReadTuning>();
        services.AddSingleton<RpcRateLimiters>();
        services.AddSingleton<RpcEndpointHealth>();
        services.AddSingleton<ChainReaders>();
        services.AddSingleton<IChainReader>(sp => sp.GetRequiredService<ChainReaders>());
        services.AddHostedService<ChainCoverageReporter>();

        // Chains are few and fixed: one client each, created only when that chain has an endpoint.
        foreach (var chain in KnownChains.All)
        {
            var name = ClientName(chain);
            var client = services.AddHttpClient(name, http =>
            {
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
                http.DefaultRequestHeaders.UserAgent.ParseAdd($"WalverBot/{typeof(ChainsOptions).Assembly.GetName().Version?.ToString(3) ?? "0"}");
            });
            // The default HttpClient logs name the request URL, which holds the provider's API key.
            client.RemoveAllLoggers();
            client.AddResilienceHandler(name, (pipeline, context) =>
            {
                var tuning = context.ServiceProvider.GetRequiredService<IOptions<ChainReadTuning>>().Value;
                pipeline
                    .AddTimeout(tuning.AttemptTimeout * (tuning.MaxRetries + 1) + tuning.MaxRetryDelay * tuning.MaxRetries)
                    .AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = Math.Max(1, tuning.MaxRetries),
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = tuning.RetryBaseDelay,
                        MaxDelay = tuning.MaxRetryDelay,
                        ShouldRetryAfterHeader = true,
                        ShouldHandle = args => ValueTask.FromResult(tuning.MaxRetries > 0 && IsTransient(args.Outcome)),
                    })
                    .AddTimeout(tuning.AttemptTimeout);
            });
            client.AddHttpMessageHandler(sp => new RpcRateLimitHandler(sp.GetRequiredService<RpcRateLimiters>(), chain));
        }

        return services;
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        // A bare SocketException is a connection reset as it opened (SocketsHttpHandler lets that one through unwrapped).
        { Exception: HttpRequestException or System.Net.Sockets.SocketException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout,
        _ => false,
    };
}
