using System.Net;
using Microsoft.Extensions.Logging;

namespace WalverBot.Discord.Rest.RateLimits;

/// <summary>
/// Sends each request when <see cref="DiscordRateLimiter"/> allows it, feeds the answer's headers back,
/// and on 429 pauses the bucket (scope user/shared) or everything (global) for <c>retry_after</c>
/// and tries again, a bounded number of times. Also times every attempt for the metrics.
/// </summary>
internal sealed partial class DiscordRateLimitHandler(
    DiscordRateLimiter limiter,
    InvalidRequestMonitor invalidRequests,
    DiscordRestMetrics metrics,
    DiscordRestSettings settings,
    TimeProvider timeProvider,
    ILogger<DiscordRateLimitHandler> logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(DiscordRoute.OptionsKey, out var route))
        {
            throw new InvalidOperationException("Discord requests must carry their DiscordRoute.");
        }

        for (var attempt = 1; ; attempt++)
        {
            if (invalidRequests.TokenRejected)
            {
                throw new DiscordRestException(route.Name, HttpStatusCode.Unauthorized, null,
                    $"Not sending {route.Name}: Discord rejected the bot token earlier (401). Check Discord:Token and restart.");
            }

            using var lease = await limiter.AcquireAsync(route, cancellationToken).ConfigureAwait(false);
            var started = timeProvider.GetTimestamp();
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                metrics.RecordRequest(route, null, timeProvider.GetElapsedTime(started));
                throw;
            }

            metrics.RecordRequest(route, (int)response.StatusCode, timeProvider.GetElapsedTime(started));
            var bucket = limiter.Update(route, lease, response.Headers);
            var scope = response.Headers.TryGetValues("X-RateLimit-Scope", out var scopes) ? scopes.FirstOrDefault() : null;
            invalidRequests.Observe(route, response.StatusCode, scope);
            if (response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                return response;
            }

            var body = await DiscordErrorBody.ReadAsync(response, cancellationToken).ConfigureAwait(false);
            // Discord: "rely on the Retry-After header or retry_after field"; a 429 without either gets a second.
            var retryAfter = DiscordErrorBody.RetryAfterOf(body, response) ?? TimeSpan.FromSeconds(1);
            var global = body.Global || scope == "global"
                || (response.Headers.TryGetValues("X-RateLimit-Global", out var flags) && flags.Contains("true", StringComparer.OrdinalIgnoreCase));
            if (global)
            {
                limiter.PauseGlobal(retryAfter);
            }

            if (!global || route.IsInteraction)
            {
                // Interaction routes skip the global pause, so their own retry must still wait.
                limiter.PauseBucket(bucket, retryAfter);
            }

            metrics.RecordRateLimited(bucket.Hash, global ? "global" : scope);
            if (attempt >= settings.MaxAttempts || retryAfter > settings.MaxRetryWait)
            {
                LogGivingUp(route.Name, bucket.Hash, global ? "global" : scope, retryAfter.TotalSeconds, attempt);
                return response;
            }

            LogRetrying(route.Name, bucket.Hash, global ? "global" : scope, retryAfter.TotalSeconds, attempt);
            response.Dispose();
            // Leaving the using block releases the bucket; the next AcquireAsync waits out the pause.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord rate limited {Route} (bucket {Bucket}, scope {Scope}); retrying after {RetryAfterSeconds} s (attempt {Attempt})")]
    private partial void LogRetrying(string route, string? bucket, string? scope, double retryAfterSeconds, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord rate limited {Route} (bucket {Bucket}, scope {Scope}); giving up after attempt {Attempt}, retry after {RetryAfterSeconds} s")]
    private partial void LogGivingUp(string route, string? bucket, string? scope, double retryAfterSeconds, int attempt);
}
