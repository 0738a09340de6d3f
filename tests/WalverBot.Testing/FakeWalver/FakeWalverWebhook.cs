using System.Globalization;
using System.Text.Json.Nodes;

namespace WalverBot.Testing.FakeWalver;

/// <summary>token_verification as Walver sends it for token-gated verifications.</summary>
public sealed record FakeWalverTokenVerification(string TokenAddress, decimal RequiredAmount, decimal ActualAmount, bool Passed);

/// <summary>
/// The JSON body Walver POSTs to a verification's webhook on completion (Walver's webhook: id, wallet_address,
/// verification_time, custom_fields, token_verification, signature, message, chain, secret). Immutable; change it with the With… helpers or a `with` expression.
/// </summary>
public sealed record FakeWalverWebhook
{
    public required string Id { get; init; }

    public string WalletAddress { get; init; } = "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU";

    public DateTimeOffset VerificationTime { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Field id → value; "discord" holds the username the member typed.</summary>
    public IReadOnlyDictionary<string, string?> CustomFields { get; init; } = new Dictionary<string, string?>();

    public FakeWalverTokenVerification? TokenVerification { get; init; }

    public string Signature { get; init; } = "3yZe7d8Q2nR5kXv9hJ4mW1pL6tB8cF2sA7gD3eK9uN5qV1xM4rT6yH8jP2wC5bL7zS9fG3aE1dR4kU6nQ8mX2vY";

    public string Message { get; init; } = "Sign this message to verify you own this wallet for walver.io. Nonce: 5f1c2a9e";

    public string Chain { get; init; } = "solana";

    /// <summary>The verification's secret, which Walver puts in the body; null leaves the field out.</summary>
    public string? Secret { get; init; }

    public static FakeWalverWebhook For(string verificationId) => new() { Id = verificationId };

    public FakeWalverWebhook WithDiscord(string? username) => WithField("discord", username);

    public FakeWalverWebhook WithField(string id, string? value) =>
        this with { CustomFields = new Dictionary<string, string?>(CustomFields) { [id] = value } };

    public FakeWalverWebhook WithSecret(string? secret) => this with { Secret = secret };

    public FakeWalverWebhook WithWallet(string wallet) => this with { WalletAddress = wallet };

    public FakeWalverWebhook WithSignature(string signature) => this with { Signature = signature };

    public FakeWalverWebhook WithChain(string chain) => this with { Chain = chain };

    public FakeWalverWebhook WithToken(string tokenAddress, decimal required, decimal actual, bool? passed = null) =>
        this with { TokenVerification = new FakeWalverTokenVerification(tokenAddress, required, actual, passed ?? actual >= required) };

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["wallet_address"] = WalletAddress,
            ["verification_time"] = VerificationTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
            ["custom_fields"] = new JsonObject([.. CustomFields.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))]),
            ["signature"] = Signature,
            ["message"] = Message,
            ["chain"] = Chain,
        };
        if (TokenVerification is { } token)
        {
            json["token_verification"] = new JsonObject
            {
                ["token_address"] = token.TokenAddress,
                ["required_amount"] = token.RequiredAmount,
                ["actual_amount"] = token.ActualAmount,
                ["passed"] = token.Passed,
            };
        }

        if (Secret is not null)
        {
            json["secret"] = Secret;
        }

        return json;
    }

    public override string ToString() => ToJson().ToJsonString();
}
