using System.Text;
using System.Text.Json;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Webhooks;

public class WalverWebhookParserTests
{
    private const string Valid = """
        {"id":"wb_1","wallet_address":"0xAbC0000000000000000000000000000000000001","verification_time":"2026-11-25T10:00:00Z",
         "custom_fields":{"discord":"alice","age":42},"token_verification":{"token_address":"0xT","required_amount":10,"actual_amount":12.5,"passed":true},
         "signature":"0x01","message":"hello","chain":"ethereum","secret":"s3cret"}
        """;

    private static (bool Ok, WalverWebhook? Webhook, string Error) Parse(string json)
    {
        var ok = WalverWebhookParser.TryParse(Encoding.UTF8.GetBytes(json), out var webhook, out var error);
        return (ok, webhook, error);
    }

    [Fact]
    public void A_complete_delivery_is_read_into_typed_fields()
    {
        var (ok, webhook, _) = Parse(Valid);

        Assert.True(ok);
        Assert.Equal("wb_1", webhook!.VerificationId);
        Assert.Equal("alice", webhook.DiscordName);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero), webhook.VerificationTime);
        Assert.Equal(new TokenVerification("0xT", 10m, 12.5m, true), webhook.TokenVerification);
        Assert.Equal("s3cret", webhook.Secret);
        Assert.False(webhook.CustomFields.ContainsKey("age"));
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("\"text\"", "JSON object")]
    [InlineData("""{"wallet_address":"0x1"}""", "id is required")]
    [InlineData("""{"id":5,"wallet_address":"0x1"}""", "id is required")]
    [InlineData("""{"id":"  ","wallet_address":"0x1"}""", "id is required")]
    [InlineData("""{"id":"a"}""", "wallet_address is required")]
    [InlineData("""{"id":"a","wallet_address":["0x1"]}""", "wallet_address is required")]
    [InlineData("""{"id":"a","wallet_address":"0x1","custom_fields":"alice"}""", "custom_fields must be an object")]
    [InlineData("""{"id":"a","wallet_address":"0x1","custom_fields":{"discord":12}}""", "custom_fields.discord must be a string")]
    [InlineData("""{"id":"a","wallet_address":"0x1","token_verification":{"token_address":"t","required_amount":"10","actual_amount":1,"passed":true}}""", "required_amount must be a non-negative number")]
    [InlineData("""{"id":"a","wallet_address":"0x1","token_verification":{"token_address":"t","required_amount":-1,"actual_amount":1,"passed":true}}""", "required_amount must be a non-negative number")]
    [InlineData("""{"id":"a","wallet_address":"0x1","token_verification":{"token_address":"t","required_amount":1,"actual_amount":"NaN","passed":true}}""", "actual_amount must be a non-negative number")]
    [InlineData("""{"id":"a","wallet_address":"0x1","token_verification":{"token_address":"t","required_amount":1e400,"actual_amount":1,"passed":true}}""", "required_amount must be a non-negative number")]
    [InlineData("""{"id":"a","wallet_address":"0x1","token_verification":{"token_address":"t","required_amount":1,"actual_amount":1,"passed":"true"}}""", "passed must be true or false")]
    [InlineData("""{"id":"a","wallet_address":"0x1","verification_time":"yesterday"}""", "verification_time")]
    [InlineData("""{"id":"a","id":"b","wallet_address":"0x1"}""", "not valid JSON")]
    [InlineData("""{"id":"a","wallet_address":"0x1","secret":1}""", "secret must be a string")]
    public void Malformed_bodies_are_refused_with_a_reason(string json, string expectedError)
    {
        var (ok, webhook, error) = Parse(json);

        Assert.False(ok);
        Assert.Null(webhook);
        Assert.Contains(expectedError, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_refused_not_thrown()
    {
        var json = "{\"id\":\"a\",\"wallet_address\":\"0x1\",\"x\":" + new string('[', 500) + new string(']', 500) + "}";

        Assert.False(Parse(json).Ok);
    }

    [Fact]
    public void Invalid_utf8_is_refused_not_thrown()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"id":"a","wallet_address":"0x1","custom_fields":{"discord":"__"}}""");
        bytes[^5] = 0xC3; // a lone lead byte
        Assert.False(WalverWebhookParser.TryParse(bytes, out _, out _));
    }

    [Fact]
    public void Stored_payload_keeps_everything_but_the_secret()
    {
        var stored = Encoding.UTF8.GetString(WalverWebhookParser.WithoutSecret(Encoding.UTF8.GetBytes(Valid)));

        using var document = JsonDocument.Parse(stored);
        Assert.False(document.RootElement.TryGetProperty("secret", out _));
        Assert.DoesNotContain("s3cret", stored, StringComparison.Ordinal);
        Assert.Equal("alice", document.RootElement.GetProperty("custom_fields").GetProperty("discord").GetString());
        Assert.True(WalverWebhookParser.TryParse(Encoding.UTF8.GetBytes(stored), out var reparsed, out _));
        Assert.Null(reparsed!.Secret);

        // The receiver's one-parse path gives the same stored copy and still sees the secret for the check.
        Assert.True(WalverWebhookParser.TryParseForStorage(Encoding.UTF8.GetBytes(Valid), out var received, out var storedOnce, out _));
        Assert.Equal("s3cret", received!.Secret);
        Assert.Equal(stored, storedOnce);
    }
}
