using WalverBot.Commands;
using WalverBot.Walver;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Commands;

public sealed class CreateVerificationTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_request_carries_our_id_secret_webhook_Discord_field_and_gate()
    {
        var command = new CreateVerificationCommand(5, "solana", new TokenGate("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 3, true), null, true, 10);

        var request = CreateVerificationHandler.BuildRequest(command, "wb_1_ab", "s3cret", new Uri("https://bot.example/webhooks/walver"), "Guild", Now);

        Assert.Equal("wb_1_ab", request.Id);
        Assert.Equal("Guild", request.ServiceName);
        Assert.Equal("solana", request.Chain);
        Assert.Equal("https://bot.example/webhooks/walver", request.Webhook);
        Assert.Equal("s3cret", request.Secret);
        Assert.Equal("2025-03-11T12:00:00Z", request.Expiration);
        Assert.True(request.OneTime);
        Assert.True(request.ForceDiscordVerification);
        Assert.Equal([new WalverCustomField("discord", "discord", "Discord username", true, CreateVerificationHandler.DiscordField.Description)], request.CustomFields);
        Assert.True(request.TokenGate);
        Assert.Equal(3m, request.TokenAmount);
        Assert.True(request.IsNft);
        Assert.DoesNotContain("s3cret", request.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_gate_the_request_says_so_and_leaves_gate_fields_out()
    {
        var request = CreateVerificationHandler.BuildRequest(new CreateVerificationCommand(5, "base", null, "N", false, null), "id", "s", new Uri("https://b/webhooks/walver"), "N", Now);
        var json = System.Text.Json.JsonSerializer.Serialize(request, new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });

        Assert.False(request.TokenGate);
        Assert.Contains("\"token_gate\":false", json, StringComparison.Ordinal);
        Assert.DoesNotContain("token_address", json, StringComparison.Ordinal);
        Assert.DoesNotContain("expiration", json, StringComparison.Ordinal);
    }

    [Fact]
    public void New_ids_name_the_guild_and_do_not_repeat()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => CreateVerificationHandler.NewVerificationId(1200000000000000001)).ToHashSet();

        Assert.Equal(200, ids.Count);
        Assert.All(ids, id => Assert.Matches("^wb_1200000000000000001_[0-9a-f]{10}$", id));
    }

    [Theory]
    [InlineData(null, "https://b", "Walver:ApiKey")]
    [InlineData("key", null, "Webhook:PublicBaseUrl")]
    [InlineData(" ", "", "Walver:ApiKey` (environment variable `Walver__ApiKey`): the Walver API key and `Webhook:PublicBaseUrl")]
    public void Missing_settings_are_named(string? apiKey, string? publicBaseUrl, string expected)
    {
        var message = CreateVerificationHandler.MissingSettings(new WalverOptions { ApiKey = apiKey }, new WebhookOptions { PublicBaseUrl = publicBaseUrl });

        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_is_missing_when_both_settings_are_there() =>
        Assert.Null(CreateVerificationHandler.MissingSettings(new WalverOptions { ApiKey = "k" }, new WebhookOptions { PublicBaseUrl = "https://b" }));

    [Fact]
    public void Each_Walver_outcome_has_its_own_advice()
    {
        Assert.Contains("Try again in 13 seconds", CreateVerificationHandler.Explain(new WalverCreateResult.RateLimited(TimeSpan.FromSeconds(12.2)), "x"), StringComparison.Ordinal);
        Assert.Contains("Try again in a minute", CreateVerificationHandler.Explain(new WalverCreateResult.RateLimited(null), "x"), StringComparison.Ordinal);
        Assert.Contains("delete `x` in Walver's dashboard", CreateVerificationHandler.Explain(new WalverCreateResult.AlreadyExists(true), "x"), StringComparison.Ordinal);
        Assert.Contains("each run uses a new id", CreateVerificationHandler.Explain(new WalverCreateResult.AlreadyExists(false), "x"), StringComparison.Ordinal);
        Assert.Contains("Walver:ApiKey", CreateVerificationHandler.Explain(new WalverCreateResult.Unauthorized(), "x"), StringComparison.Ordinal);
        Assert.Contains("(422): chain: Field required. Nothing was created", CreateVerificationHandler.Explain(new WalverCreateResult.Rejected(422, "chain: Field required"), "x"), StringComparison.Ordinal);
        Assert.Contains("(400): bad name.", CreateVerificationHandler.Explain(new WalverCreateResult.Rejected(400, "bad `name`"), "x"), StringComparison.Ordinal);
        Assert.Contains("Walver answered 503", CreateVerificationHandler.Explain(new WalverCreateResult.Unavailable("Walver answered 503"), "x"), StringComparison.Ordinal);
    }
}
