using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace WalverBot.Walver;

public static class WalverServiceCollectionExtensions
{
    /// <summary>The longest wait between two attempts.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(4);

    public static IServiceCollection AddWalver(this IServiceCollection services)
    {
        services.AddOptions<WalverOptions>().BindConfiguration(WalverOptions.SectionName)
            .Validate(o => Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http", "Walver:BaseUrl must be an absolute http(s) URL such as https://walver.io")
            // The key travels in the X-API-Key header, whose value cannot hold line breaks (RFC 9110, 5.5); spaces are copy-paste slips. Blank means unset, as /walver create reads it.
            .Validate(o => string.IsNullOrWhiteSpace(o.ApiKey) || !o.ApiKey.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)), "Walver:ApiKey is malformed: give the key alone, without spaces or line breaks")
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero && o.AttemptTimeout <= TimeSpan.FromMinutes(2), "Walver:AttemptTimeout must be a positive time span of at most 00:02:00")
            .Validate(o => o.MaxRetries is >= 0 and <= 5, "Walver:MaxRetries must be between 0 and 5")
            .ValidateOnStart();

        services.AddSingleton<WalverRateGate>();
        services.AddTransient<WalverAttemptHandler>();
        var client = services.AddHttpClient<IWalverApi, WalverApiClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<WalverOptions>>().Value;
            http.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
            http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
            http.DefaultRequestHeaders.UserAgent.ParseAdd($"WalverBot/{typeof(WalverOptions).Assembly.GetName().Version?.ToString(3) ?? "0"}");
        });

        // Handlers run outermost first: the pipeline, then the attempt counter, which sees every retry.
        client.AddResilienceHandler("walver", (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<WalverOptions>>().Value;
            pipeline
                // Total: every attempt and every wait between them.
                .AddTimeout(options.AttemptTimeout * (options.MaxRetries + 1) + MaxBackoff * options.MaxRetries)
                .AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(500),
                    MaxDelay = MaxBackoff,
                    // 429 is not retried: Walver allows ~10 requests a minute, the admin is told how long to wait.
                    // 409 and other 4xx are answers, not failures.
                    ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && IsTransient(args.Outcome)),
                    ShouldRetryAfterHeader = false,
                })
                .AddTimeout(options.AttemptTimeout);
        });
        client.AddHttpMessageHandler<WalverAttemptHandler>();
        return services;
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        // A bare SocketException is a connection reset as it opened (SocketsHttpHandler lets that one through unwrapped).
        { Exception: HttpRequestException or System.Net.Sockets.SocketException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout,
        _ => false,
    };
}
