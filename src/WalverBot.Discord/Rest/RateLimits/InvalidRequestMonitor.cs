using System.Net;
using Microsoft.Extensions.Logging;

namespace WalverBot.Discord.Rest.RateLimits;

/// <summary>
/// Counts invalid requests — 401, 403 and 429 except <c>X-RateLimit-Scope: shared</c> — because Discord
/// bans clients that make 10,000 in 10 minutes (https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans).
/// Warns when the count in the window passes a threshold, and stops all requests after a 401,
/// as the docs advise: a rejected token stays rejected until the operator fixes it and restarts.
/// </summary>
internal sealed partial class InvalidRequestMonitor(TimeProvider timeProvider, DiscordRestSettings settings, ILogger<InvalidRequestMonitor> logger)
{
    private readonly Lock _lock = new();
    private readonly Queue<DateTimeOffset> _recent = new();
    private bool _warned;

    /// <summary>True once Discord answered 401: the token is wrong or was reset.</summary>
    public bool TokenRejected { get; private set; }

    /// <summary>Invalid requests in the current window.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                Trim(timeProvider.GetUtcNow());
                return _recent.Count;
            }
        }
    }

    public void Observe(DiscordRoute route, HttpStatusCode status, string? scope)
    {
        if (status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests))
        {
            return;
        }

        if (status == HttpStatusCode.TooManyRequests && scope == "shared")
        {
            // "429 errors returned with X-RateLimit-Scope: shared are not counted against you."
            return;
        }

        if (status == HttpStatusCode.Unauthorized && !TokenRejected)
        {
            TokenRejected = true;
            LogTokenRejected(route.Name);
        }

        int count;
        lock (_lock)
        {
            var now = timeProvider.GetUtcNow();
            _recent.Enqueue(now);
            Trim(now);
            count = _recent.Count;
            if (count < settings.InvalidRequestWarningThreshold)
            {
                _warned = false;
                return;
            }

            if (_warned)
            {
                return;
            }

            _warned = true;
        }

        LogTooManyInvalid(count, settings.InvalidRequestWindow.TotalMinutes, route.Name, (int)status);
    }

    private void Trim(DateTimeOffset now)
    {
        while (_recent.Count > 0 && now - _recent.Peek() >= settings.InvalidRequestWindow)
        {
            _recent.Dequeue();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Discord rejected the bot token (401 on {Route}); no further REST requests are sent. Check Discord:Token and restart")]
    private partial void LogTokenRejected(string route);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} invalid Discord requests (401/403/429) in the last {WindowMinutes} minutes, latest {Status} on {Route}; Discord bans clients at 10,000")]
    private partial void LogTooManyInvalid(int count, double windowMinutes, string route, int status);
}
