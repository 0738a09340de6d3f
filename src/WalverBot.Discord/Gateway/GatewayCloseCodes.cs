namespace WalverBot.Discord.Gateway;

/// <summary>What a shard does after the gateway closed its connection.</summary>
internal enum CloseAction
{
    /// <summary>Reconnect and RESUME the session.</summary>
    Resume,

    /// <summary>Reconnect and IDENTIFY a new session.</summary>
    Reidentify,

    /// <summary>Stop: retrying cannot succeed until the operator changes something.</summary>
    Fatal,
}

/// <summary>
/// Discord's gateway close event codes and what to do about each
/// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes).
/// </summary>
public static class GatewayCloseCodes
{
    /// <summary>Unknown error; reconnect.</summary>
    public const int UnknownError = 4000;
    /// <summary>Authentication failed: the token is wrong.</summary>
    public const int AuthenticationFailed = 4004;
    /// <summary>Invalid seq when resuming: start a new session.</summary>
    public const int InvalidSeq = 4007;
    /// <summary>Session timed out: start a new session.</summary>
    public const int SessionTimedOut = 4009;
    /// <summary>Invalid shard.</summary>
    public const int InvalidShard = 4010;
    /// <summary>Sharding required.</summary>
    public const int ShardingRequired = 4011;
    /// <summary>Invalid API version.</summary>
    public const int InvalidApiVersion = 4012;
    /// <summary>Invalid intent(s).</summary>
    public const int InvalidIntents = 4013;
    /// <summary>Disallowed intent(s): a privileged intent is not enabled for the application.</summary>
    public const int DisallowedIntents = 4014;

    /// <summary>
    /// The close codes after which reconnecting cannot help: Discord's table marks them "reconnect: false", and
    /// retrying them in a loop only burns identifies. <see cref="Classify"/> reads this list; it is the only one.
    /// </summary>
    public static IReadOnlyList<int> Fatal { get; } =
        [AuthenticationFailed, InvalidShard, ShardingRequired, InvalidApiVersion, InvalidIntents, DisallowedIntents];

    /// <summary>True for a close code after which the gateway must not reconnect (see <see cref="Fatal"/>).</summary>
    public static bool IsFatal(int? closeStatus) => closeStatus is { } code && Fatal.Contains(code);

    internal static CloseAction Classify(int? closeStatus) => closeStatus switch
    {
        _ when IsFatal(closeStatus) => CloseAction.Fatal,
        // The table says "reconnect and start a new session" for these two.
        InvalidSeq or SessionTimedOut => CloseAction.Reidentify,
        // 4000–4003, 4005, 4008, unknown codes, 1xxx closes and lost connections: reconnect and try to resume;
        // if the session is gone Discord answers the RESUME with op 9 and we identify then.
        _ => CloseAction.Resume,
    };

    /// <summary>Discord's short name for a close code, for logs.</summary>
    public static string Describe(int? closeStatus) => closeStatus switch
    {
        null => "connection lost without a close frame",
        4000 => "4000 Unknown error",
        4001 => "4001 Unknown opcode",
        4002 => "4002 Decode error",
        4003 => "4003 Not authenticated",
        4004 => "4004 Authentication failed",
        4005 => "4005 Already authenticated",
        4007 => "4007 Invalid seq",
        4008 => "4008 Rate limited",
        4009 => "4009 Session timed out",
        4010 => "4010 Invalid shard",
        4011 => "4011 Sharding required",
        4012 => "4012 Invalid API version",
        4013 => "4013 Invalid intent(s)",
        4014 => "4014 Disallowed intent(s)",
        { } code => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>What the operator has to change after a fatal close; never contains the token.</summary>
    public static string Advice(int closeStatus) => closeStatus switch
    {
        AuthenticationFailed =>
            "Discord:Token is wrong or was reset: copy the bot token from the Discord developer portal (Bot → Reset Token) into Discord:Token.",
        InvalidShard =>
            "Discord:ShardIds or Discord:ShardCount names a shard that does not exist: every shard id must be below the shard count.",
        ShardingRequired =>
            "the bot is in too many guilds for the configured shard count: raise Discord:ShardCount, or leave it empty to use Discord's recommendation.",
        InvalidApiVersion =>
            "Discord no longer accepts gateway v10 from this build: update WalverBot.",
        InvalidIntents =>
            "Discord rejected the intents this build sends: update WalverBot.",
        DisallowedIntents =>
            "enable the Server Members intent in the Discord developer portal (Bot → Privileged Gateway Intents), then restart the bot.",
        _ => "check the Discord settings of the bot.",
    };
}
