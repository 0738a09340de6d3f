namespace WalverBot.Webhooks;

/// <summary>A Walver webhook delivery, typed at the edge: the JSON Walver POSTs to the verification's webhook when a member completes it.</summary>
public sealed record WalverWebhook
{
    public required string VerificationId { get; init; }
    public required string WalletAddress { get; init; }
    public DateTimeOffset? VerificationTime { get; init; }

    /// <summary>String-valued custom fields by field id; <c>discord</c> holds the username the member typed.</summary>
    public IReadOnlyDictionary<string, string> CustomFields { get; init; } = new Dictionary<string, string>();

    public TokenVerification? TokenVerification { get; init; }
    public string? Signature { get; init; }
    public string? Message { get; init; }
    public string? Chain { get; init; }

    /// <summary>The verification's secret, as Walver puts it in the body. Never stored or logged.</summary>
    public string? Secret { get; init; }

    public string? DiscordName => CustomFields.GetValueOrDefault("discord");
}

/// <summary>Walver's token-gate result for the wallet.</summary>
public sealed record TokenVerification(string? TokenAddress, decimal RequiredAmount, decimal ActualAmount, bool Passed);
