using System.Text.Json;
using System.Text.Json.Serialization;

namespace WalverBot.Walver;

/// <summary>A custom field Walver asks the member to fill in; <c>type</c> <c>discord</c> holds a Discord username.</summary>
public sealed record WalverCustomField(string Id, string Type, string Name, bool Required, string? Description = null);

/// <summary>The body of <c>POST {Walver:BaseUrl}/new</c> (Walver's API: create a verification; <c>409</c> when the id exists). Null fields are left out.</summary>
public sealed record WalverCreateRequest
{
    public required string Id { get; init; }
    public required string ServiceName { get; init; }
    public required string Chain { get; init; }
    public string? Webhook { get; init; }
    public string? Secret { get; init; }
    public string? RedirectUrl { get; init; }
    public bool? OneTime { get; init; }

    /// <summary>ISO 8601.</summary>
    public string? Expiration { get; init; }

    public IReadOnlyList<WalverCustomField>? CustomFields { get; init; }
    public bool? TokenGate { get; init; }
    public string? TokenAddress { get; init; }
    public decimal? TokenAmount { get; init; }
    public bool? IsNft { get; init; }
    public bool? ForceDiscordVerification { get; init; }

    /// <summary>Keeps the secret out of logs and exception messages.</summary>
    public override string ToString() => $"WalverCreateRequest {{ Id = {Id}, Chain = {Chain}, TokenGate = {TokenGate} }}";
}

/// <summary>What became of a create request, each case a message the admin can act on.</summary>
public abstract record WalverCreateResult
{
    private WalverCreateResult()
    {
    }

    /// <summary>Walver created the verification; members open <paramref name="VerificationUrl"/>.</summary>
    public sealed record Created(string VerificationUrl) : WalverCreateResult;

    /// <summary>409. <paramref name="AfterRetry"/>: an earlier attempt that got no answer probably created it.</summary>
    public sealed record AlreadyExists(bool AfterRetry) : WalverCreateResult;

    /// <summary>429; <paramref name="RetryAfter"/> from Walver's headers when it said.</summary>
    public sealed record RateLimited(TimeSpan? RetryAfter) : WalverCreateResult;

    /// <summary>401/403: the API key was refused.</summary>
    public sealed record Unauthorized : WalverCreateResult;

    /// <summary>Another 4xx: Walver refused the request; <paramref name="Detail"/> is its explanation.</summary>
    public sealed record Rejected(int Status, string Detail) : WalverCreateResult;

    /// <summary>5xx after retries, no answer in time, or an unreadable answer.</summary>
    public sealed record Unavailable(string Reason) : WalverCreateResult;
}

internal static class WalverJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
