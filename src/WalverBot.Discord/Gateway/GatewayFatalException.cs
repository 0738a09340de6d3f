namespace WalverBot.Discord.Gateway;

/// <summary>
/// The gateway refused the bot in a way that retrying cannot fix (a fatal close code, or a token that
/// <c>GET /gateway/bot</c> rejects). The message names what the operator has to change; it never holds the token.
/// </summary>
public sealed class GatewayFatalException : Exception
{
    /// <summary>Creates the exception for a close code received by a shard.</summary>
    public GatewayFatalException(int shardId, int closeCode)
        : this($"Discord closed the gateway connection of shard {shardId} with {GatewayCloseCodes.Describe(closeCode)}", GatewayCloseCodes.Advice(closeCode))
    {
        ShardId = shardId;
        CloseCode = closeCode;
    }

    /// <summary>Creates the exception for a fatal condition found before connecting (no close code).</summary>
    public GatewayFatalException(string reason, string advice, Exception? innerException = null)
        : base($"{reason}: {advice}", innerException)
    {
        Reason = reason;
        Advice = advice;
    }

    /// <summary>The shard that received the close, when one did.</summary>
    public int? ShardId { get; }

    /// <summary>The gateway close code, when the gateway sent one.</summary>
    public int? CloseCode { get; }

    /// <summary>What happened, without the advice.</summary>
    public string Reason { get; }

    /// <summary>What the operator has to change.</summary>
    public string Advice { get; }

    /// <summary>The stop this exception reports, for <see cref="IGatewayStatus.Stopped"/>.</summary>
    public GatewayStop ToStop(DateTimeOffset at) => new(Reason, Advice, at, CloseCode, ShardId);
}
