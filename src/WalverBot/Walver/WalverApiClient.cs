using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace WalverBot.Walver;

/// <summary>Walver's API, as far as the bot uses it.</summary>
public interface IWalverApi
{
    /// <summary><c>POST /new</c>. Never throws for Walver's answers or its silence; only cancellation escapes.</summary>
    Task<WalverCreateResult> CreateVerificationAsync(WalverCreateRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Typed HttpClient for Walver. Timeouts and retries of 5xx/no answer come from the resilience handler
/// (see <see cref="WalverServiceCollectionExtensions"/>); this class turns answers into <see cref="WalverCreateResult"/>s
/// and keeps to Walver's rate limit (about 10 requests per minute) by not calling while its headers say to wait.
/// </summary>
public sealed class WalverApiClient(
    HttpClient http,
    WalverRateGate rateGate,
    IOptions<WalverOptions> options,
    TimeProvider time,
    ILogger<WalverApiClient> logger) : IWalverApi
{
    private const int MaxDetailLength = 300;

    public async Task<WalverCreateResult> CreateVerificationAsync(WalverCreateRequest request, CancellationToken cancellationToken)
    {
        if (rateGate.WaitRemaining(time.GetUtcNow()) is { } wait)
        {
            logger.LogInformation("Not calling Walver for verification {VerificationId}: its rate limit resets in {Wait}", request.Id, wait);
            return new WalverCreateResult.RateLimited(wait);
        }

        var attempts = WalverAttempts.Begin();
        using var message = new HttpRequestMessage(HttpMethod.Post, "new")
        {
            Content = JsonContent.Create(request, options: WalverJson.Options),
        };
        message.Headers.Add("X-API-Key", options.Value.ApiKey);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or System.Net.Sockets.SocketException or TimeoutRejectedException or TaskCanceledException)
        {
            var reason = ex is HttpRequestException or System.Net.Sockets.SocketException ? $"could not reach Walver ({ex.Message})" : $"Walver did not answer within {options.Value.AttemptTimeout.TotalSeconds:0.#} s";
            logger.LogWarning("Creating verification {VerificationId} at Walver failed after {Attempts} attempt(s): {Reason}", request.Id, attempts.Count, reason);
            return new WalverCreateResult.Unavailable(reason);
        }

        using (response)
        {
            var now = time.GetUtcNow();
            rateGate.Observe(response.StatusCode, response.Headers, now);
            var status = (int)response.StatusCode;
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK or HttpStatusCode.Created:
                    return await ReadCreatedAsync(request, response, cancellationToken);
                case HttpStatusCode.Conflict:
                    logger.LogWarning("Walver answered 409 for verification {VerificationId} (attempts: {Attempts})", request.Id, attempts.Count);
                    return new WalverCreateResult.AlreadyExists(attempts.Count > 1);
                case HttpStatusCode.TooManyRequests:
                    var retryAfter = WalverRateGate.RetryAfter(response.Headers, now);
                    logger.LogWarning("Walver rate-limited the request for verification {VerificationId}; retry after {RetryAfter}", request.Id, retryAfter);
                    return new WalverCreateResult.RateLimited(retryAfter);
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    logger.LogWarning("Walver refused the API key ({Status})", status);
                    return new WalverCreateResult.Unauthorized();
            }

            var detail = await ReadDetailAsync(response, cancellationToken);
            if (status is >= 400 and < 500)
            {
                logger.LogWarning("Walver refused verification {VerificationId} with {Status}: {Detail}", request.Id, status, detail);
                return new WalverCreateResult.Rejected(status, detail);
            }

            logger.LogWarning("Walver answered {Status} for verification {VerificationId} after {Attempts} attempt(s): {Detail}", status, request.Id, attempts.Count, detail);
            return new WalverCreateResult.Unavailable($"Walver answered {status}");
        }
    }

    private async Task<WalverCreateResult> ReadCreatedAsync(WalverCreateRequest request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("verification_url", out var url) && url.ValueKind == JsonValueKind.String &&
                Uri.TryCreate(url.GetString(), UriKind.Absolute, out var link) && link.Scheme is "https" or "http")
            {
                return new WalverCreateResult.Created(link.ToString());
            }
        }
        catch (JsonException)
        {
        }

        logger.LogError("Walver accepted verification {VerificationId} but its answer holds no verification_url", request.Id);
        return new WalverCreateResult.Unavailable("Walver's answer had no verification link");
    }

    /// <summary>FastAPI-style errors: <c>{"detail": "text"}</c> or <c>{"detail": [{"loc": [...], "msg": "..."}]}</c>.</summary>
    internal static string Detail(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("detail", out var detail) || root.TryGetProperty("error", out detail)))
            {
                var text = detail.ValueKind switch
                {
                    JsonValueKind.String => detail.GetString() ?? "",
                    JsonValueKind.Array => string.Join("; ", detail.EnumerateArray().Select(Problem)),
                    _ => detail.GetRawText(),
                };
                return Shorten(text);
            }
        }
        catch (JsonException)
        {
        }

        return Shorten(body.Trim().Length == 0 ? "no explanation given" : "an answer that is not JSON");
    }

    private static string Problem(JsonElement problem)
    {
        if (problem.ValueKind != JsonValueKind.Object)
        {
            return problem.ToString();
        }

        var message = problem.TryGetProperty("msg", out var msg) ? msg.ToString() : problem.GetRawText();
        if (problem.TryGetProperty("loc", out var loc) && loc.ValueKind == JsonValueKind.Array)
        {
            var field = string.Join('.', loc.EnumerateArray().Select(p => p.ToString()).Where(p => p != "body"));
            return field.Length == 0 ? message : $"{field}: {message}";
        }

        return message;
    }

    private static async Task<string> ReadDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return Detail(body.Length > 16_384 ? body[..16_384] : body);
    }

    private static string Shorten(string text) => text.Length <= MaxDetailLength ? text : text[..(MaxDetailLength - 1)] + "…";
}

/// <summary>
/// Remembers when Walver said to wait (a 429, or X-RateLimit-Remaining 0), so the bot does not call it again
/// before then: the admin is told how long to wait instead, and Walver sees no request it would refuse.
/// </summary>
public sealed class WalverRateGate
{
    private long _blockedUntilTicks;

    public TimeSpan? WaitRemaining(DateTimeOffset now)
    {
        var until = Interlocked.Read(ref _blockedUntilTicks);
        return until > now.UtcTicks ? TimeSpan.FromTicks(until - now.UtcTicks) : null;
    }

    public void Observe(HttpStatusCode status, HttpResponseHeaders headers, DateTimeOffset now)
    {
        TimeSpan? wait = status == HttpStatusCode.TooManyRequests
            ? RetryAfter(headers, now) ?? TimeSpan.FromMinutes(1)
            : Header(headers, "X-RateLimit-Remaining") is "0" ? ResetAfter(headers, now) : null;
        if (wait is { } w && w > TimeSpan.Zero)
        {
            Interlocked.Exchange(ref _blockedUntilTicks, (now + w).UtcTicks);
        }
    }

    /// <summary>Walver's wait: <c>Retry-After</c> (seconds or a date), else <c>X-RateLimit-Reset</c> (epoch seconds or seconds to go).</summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.RetryAfter is { } retryAfter)
        {
            var wait = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - now : null);
            if (wait is { } w)
            {
                return w < TimeSpan.Zero ? TimeSpan.Zero : w;
            }
        }

        return ResetAfter(headers, now);
    }

    private static TimeSpan? ResetAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (!double.TryParse(Header(headers, "X-RateLimit-Reset"), NumberStyles.Float, CultureInfo.InvariantCulture, out var reset) || reset < 0)
        {
            return null;
        }

        // Large values are epoch seconds; small ones are seconds from now (both styles are in use).
        var wait = reset > 1_000_000_000 ? DateTimeOffset.FromUnixTimeMilliseconds((long)(reset * 1000)) - now : TimeSpan.FromSeconds(reset);
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;
}

/// <summary>
/// Counts the attempts of one call through the resilience pipeline, so a 409 that follows a lost answer can be
/// told apart from a genuine duplicate. The counter flows with the call (AsyncLocal) into <see cref="WalverAttemptHandler"/>.
/// </summary>
internal sealed class WalverAttempts
{
    private static readonly AsyncLocal<WalverAttempts?> CurrentCall = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public static WalverAttempts? Current => CurrentCall.Value;

    public static WalverAttempts Begin() => CurrentCall.Value = new WalverAttempts();

    public void Increment() => Interlocked.Increment(ref _count);
}

/// <summary>Sits inside the resilience handler, so it sees every attempt.</summary>
internal sealed class WalverAttemptHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        WalverAttempts.Current?.Increment();
        return base.SendAsync(request, cancellationToken);
    }
}
