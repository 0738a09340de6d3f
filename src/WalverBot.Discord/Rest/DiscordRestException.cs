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
        RetryAfter = retryAfter;
    }

    /// <summary>The route template, e.g. <c>PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}</c>; never holds tokens.</summary>
    public string Route { get; }

    /// <summary>The HTTP status, or null when no answer came (timeout, connection failure).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Discord's JSON error code (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json), e.g. 50013.</summary>
    public int? ErrorCode { get; }

    /// <summary>How long Discord asked us to wait (429 <c>retry_after</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when trying again later may succeed: no answer, 429, or a 5xx.</summary>
    public bool IsTransient => StatusCode is null || StatusCode == HttpStatusCode.TooManyRequests || (int)StatusCode >= 500;
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
