using System.Globalization;
using Dapper;
using WalverBot.Storage;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeWalver;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Webhooks;

/// <summary>One signed proof is one delivery, however its signature is spelled; and its signed time must fit the delivery.</summary>
public sealed class DeliveryKeyTests : IAsyncLifetime
{
    private BotScenario _bot = null!;

    public async Task InitializeAsync() => _bot = await BotScenario.StartAsync(new Dictionary<string, string?>
    {
        ["Grants:OneMemberPerWallet"] = "false",
    });

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    /// <summary>Spellings of one EVM signature that the verifier accepts (see SignatureEncodings and the v = 0/1 rule).</summary>
    private static IEnumerable<string> Respellings(string signature)
    {
        var hex = signature[2..];
        var bytes = Convert.FromHexString(hex);
        yield return "0x" + hex.ToUpperInvariant();
        yield return hex;
        yield return signature + "  ";
        yield return Convert.ToBase64String(bytes);
        var bareRecoveryId = (byte[])bytes.Clone();
        bareRecoveryId[64] -= 27;
        yield return "0x" + Convert.ToHexStringLower(bareRecoveryId);
    }

    [Fact]
    public void The_key_follows_the_signed_message_not_the_spelling_of_the_signature()
    {
        var webhook = FakeWalverWebhook.For("wb_1").Signed();
        var key = WebhookInbox.DeliveryKey(webhook.Id, webhook.WalletAddress, webhook.Signature, webhook.Message);

        Assert.All(Respellings(webhook.Signature), s => Assert.Equal(key, WebhookInbox.DeliveryKey(webhook.Id, webhook.WalletAddress, s, webhook.Message)));
        Assert.Equal(key, WebhookInbox.DeliveryKey(webhook.Id, webhook.WalletAddress.ToLowerInvariant(), webhook.Signature, webhook.Message));
        Assert.NotEqual(key, WebhookInbox.DeliveryKey(webhook.Id, webhook.WalletAddress, webhook.Signature, webhook.Message + " "));
        Assert.NotEqual(key, WebhookInbox.DeliveryKey("wb_2", webhook.WalletAddress, webhook.Signature, webhook.Message));
    }

    [Fact]
    public async Task A_respelled_signature_is_a_duplicate_and_grants_no_second_member()
    {
        var webhook = _bot.Webhook("alice");

        var first = await _bot.SendAsync(webhook);
        var repeats = new List<FakeWebhookResponse>();
        foreach (var signature in Respellings(webhook.Signature))
        {
            repeats.Add(await _bot.SendAsync(webhook.WithSignature(signature).WithDiscord("bob")));
        }

        Assert.Equal("accepted", first.Json!["status"]!.GetValue<string>());
        Assert.All(repeats, r => Assert.Equal("duplicate", r.Json!["status"]!.GetValue<string>()));
        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Equal(1, await Inbox.CountEventsAsync(_bot));
        Assert.Equal(0, _bot.RolePuts(BotScenario.BobId));
    }

    [Fact]
    public async Task A_delivery_stored_under_the_old_key_is_still_a_duplicate_after_the_upgrade()
    {
        var webhook = _bot.Webhook("alice");
        Assert.Equal("accepted", (await _bot.SendAsync(webhook)).Json!["status"]!.GetValue<string>());
        await _bot.WaitForRolePutsAsync(BotScenario.AliceId);
        await Inbox.WaitForDecisionAsync(_bot, WalverBot.Grants.Outcomes.Granted);

        // Put the database back as version 4 left it: the key hashed the signature's text, no internal_errors or claimed_by column.
        await _bot.StopBotAsync();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_bot.DatabasePath}"))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync("UPDATE webhook_events SET delivery_key = @key",
                new { key = WebhookInbox.DeliveryKey(webhook.Id, webhook.WalletAddress, webhook.Signature) });
            await connection.ExecuteAsync("ALTER TABLE webhook_events DROP COLUMN internal_errors; ALTER TABLE webhook_events DROP COLUMN claimed_by; ALTER TABLE verifications DROP COLUMN token_standard; ALTER TABLE verifications DROP COLUMN token_id; ALTER TABLE verifications DROP COLUMN tiers; ALTER TABLE verifications DROP COLUMN reverify_after; PRAGMA user_version = 4;");
            await connection.ExecuteAsync("DROP TABLE holdings_wallets; DROP TABLE holdings_members; DROP TABLE holdings_verifications; DROP TABLE holdings_removals;");
            await connection.ExecuteAsync("ALTER TABLE webhook_events DROP COLUMN claimed_until;"); // step 9
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await _bot.StartBotAsync();

        Assert.Equal("duplicate", (await _bot.SendAsync(webhook)).Json!["status"]!.GetValue<string>());
        Assert.Equal("duplicate", (await _bot.SendAsync(webhook.WithSignature(webhook.Signature[2..]).WithDiscord("bob"))).Json!["status"]!.GetValue<string>());
        Assert.Equal(1, await Inbox.CountEventsAsync(_bot));
        _bot.AssertOneRolePut(BotScenario.AliceId);
        await using var check = await _bot.Services.GetRequiredService<Database>().OpenAsync();
        Assert.Equal(Migrations.LatestVersion, await check.ExecuteScalarAsync<int>("PRAGMA user_version"));
    }

    [Theory]
    [InlineData(-2 * 24 * 60, "more than 24 h before verification_time")]
    [InlineData(60, "later than verification_time")]
    public async Task A_signed_time_that_does_not_fit_verification_time_is_refused_and_nothing_is_stored(int signedMinutesAfter, string error)
    {
        var at = DateTimeOffset.UtcNow;
        var webhook = _bot.Webhook() with { VerificationTime = at };
        webhook = webhook with { Message = $"{webhook.Message}\nIssued At: {at.AddMinutes(signedMinutesAfter):yyyy-MM-ddTHH:mm:ssZ}" };

        var answer = await _bot.SendAsync(webhook);

        Assert.Equal(400, answer.Status);
        Assert.Contains(error, answer.Json!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await Inbox.CountEventsAsync(_bot));
    }

    [Fact]
    public async Task A_signed_time_shortly_before_verification_time_is_accepted()
    {
        var at = DateTimeOffset.UtcNow;
        var webhook = _bot.Webhook() with { VerificationTime = at };
        webhook = webhook with { Message = $"{webhook.Message}\nTimestamp: {at.AddMinutes(-3).ToUnixTimeSeconds()}" };

        Assert.Equal("accepted", (await _bot.SendAsync(webhook)).Json!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_delivery_without_verification_time_is_refused()
    {
        var json = _bot.Webhook().ToJson();
        json.Remove("verification_time");

        var answer = await _bot.Sender.SendRawAsync(_bot.WebhookUrl, json.ToJsonString());

        Assert.Equal(400, answer.Status);
        Assert.Contains("verification_time is required", answer.Json!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await Inbox.CountEventsAsync(_bot));
    }

    [Theory]
    [InlineData("Wallet: 0xabc\nIssued At: 2025-06-01T12:00:00Z\nNonce: 1", "2025-06-01T12:00:00+00:00")]
    [InlineData("verification_id=wb_1 timestamp=1748779200 session=abc", "2025-06-01T12:00:00+00:00")]
    [InlineData("Time: 1748779200000", "2025-06-01T12:00:00+00:00")]
    [InlineData("Signed at: 2025-06-01T14:00:00+02:00", "2025-06-01T12:00:00+00:00")]
    public void SignedMessageTime_reads_a_labelled_time(string message, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), SignedMessageTime.Find(message));

    [Theory]
    [InlineData("Sign this message to verify you own this wallet. Nonce: 5f1c2a9e")]
    [InlineData("Time: soon")]
    [InlineData("")]
    [InlineData(null)]
    public void SignedMessageTime_is_null_when_the_message_names_no_time(string? message) =>
        Assert.Null(SignedMessageTime.Find(message));
}
