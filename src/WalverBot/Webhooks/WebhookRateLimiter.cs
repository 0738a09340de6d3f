using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using WalverBot.Operations;

namespace WalverBot.Webhooks;

/// <summary>
/// The webhook route's per-IP limit (<c>Webhook:RateLimitPerMinute</c> in a fixed one-minute window), answered
/// <c>429</c> with <c>Retry-After</c> before the body is read. The container owns it, so its limiter and that limiter's
/// timer end with the host. ASP.NET Core's rate-limiting middleware builds a partitioned limiter it never disposes, whose
/// timer keeps a stopped host and everything the host holds alive for the rest of the process (dotnet/aspnetcore#69061).
/// </summary>
public sealed class WebhookRateLimiter : IAsyncDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly BotMetrics _metrics;

    public WebhookRateLimiter(IOptions<WebhookOptions> options, BotMetrics metrics)
    {
        var perMinute = options.Value.RateLimitPerMinute;
        _metrics = metrics;
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(
            address, _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// <summary>An endpoint filter: the handler runs only when the sender's address has a permit left this minute.</summary>
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        using var lease = _limiter.AttemptAcquire(http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (lease.IsAcquired)
        {
            return await next(context);
        }

        _metrics.WebhookRateLimited();
        if (lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Json(new ErrorBody("too many requests"), statusCode: StatusCodes.Status429TooManyRequests);
    }

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}
