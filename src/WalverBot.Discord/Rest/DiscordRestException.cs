using System.Net;

namespace WalverBot.Discord.Rest;

/// <summary>Discord answered a REST call with an error, or did not answer in time.</summary>
public sealed class DiscordRestException : Exception
{
    /// <summary>Creates the exception from Discord's answer.</summary>
    public DiscordRestException(string route, HttpStatusCode? statusCode, int? errorCode, string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Route = route;
        StatusCode = statusCode;
        ErrorCode = errorCode;
        RetryAfter = retryAfter is { } wait ? ClampServerDelay(wait) : null;
    }

    /// <summary>The route template, e.g. <c>PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}</c>; never holds tokens.</summary>
    public string Route { get; }

    /// <summary>The HTTP status, or null when no answer came (timeout, connection failure).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Discord's JSON error code (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json), e.g. 50013.</summary>
    public int? ErrorCode { get; }

    /// <summary>
    /// The longest wait taken from an answer (<c>retry_after</c>, <c>Retry-After</c>, <c>X-RateLimit-Reset-After</c>).
    /// Discord's own waits are seconds long; an hour bounds whatever else arrives (a proxy's header, a garbled
    /// number) so it can neither overflow a clock nor park work for ever.
    /// </summary>
    public static readonly TimeSpan MaxServerDelay = TimeSpan.FromHours(1);

    /// <summary>How long Discord asked us to wait (429 <c>retry_after</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when an answer came but its body could not be read as what the route returns (a proxy's page, a truncated body).</summary>
    public bool IsUnreadableAnswer { get; init; }

    /// <summary>
    /// True when trying again later may succeed: no answer, an unreadable answer, 429, a 5xx, or a 4xx other than 401
    /// that carries no Discord error code. Discord names every refusal it makes with a JSON code
    /// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json), so a bare 4xx came from something in
    /// between (a proxy or CDN). A 401 stays permanent: the token is wrong until the operator changes it.
    /// </summary>
    public bool IsTransient =>
        StatusCode is null || IsUnreadableAnswer || StatusCode == HttpStatusCode.TooManyRequests || (int)StatusCode >= 500
        || (ErrorCode is null && StatusCode != HttpStatusCode.Unauthorized && (int)StatusCode >= 400);

    /// <summary>A wait given by an answer, made safe to add to a clock: never negative, at most <see cref="MaxServerDelay"/>.</summary>
    public static TimeSpan ClampServerDelay(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxServerDelay ? MaxServerDelay : wait;

    /// <summary>A wait in seconds as an answer gives it (any double, NaN and infinities included), clamped; null for NaN.</summary>
    public static TimeSpan? ServerDelayFromSeconds(double seconds) =>
        double.IsNaN(seconds) ? null
        : seconds <= 0 ? TimeSpan.Zero
        : seconds >= MaxServerDelay.TotalSeconds ? MaxServerDelay
        : TimeSpan.FromSeconds(seconds);
}

/// <summary>Discord JSON error codes the bot reacts to.</summary>
public static class DiscordErrorCodes
{
    /// <summary>Unknown Guild.</summary>
    public const int UnknownGuild = 10004;
    /// <summary>Unknown Member.</summary>
    public const int UnknownMember = 10007;
    /// <summary>Unknown Role.</summary>
    public const int UnknownRole = 10011;
    /// <summary>Unknown User.</summary>
    public const int UnknownUser = 10013;
    /// <summary>Unknown Interaction (the 3 s window or the 15 min token expired).</summary>
    public const int UnknownInteraction = 10062;
    /// <summary>Missing Access.</summary>
    public const int MissingAccess = 50001;
    /// <summary>Missing Permissions (role hierarchy or Manage Roles).</summary>
    public const int MissingPermissions = 50013;
}
