using System.Text;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.EndToEnd;

/// <summary>Every answer of POST /webhooks/walver over real HTTP, and that refused deliveries change nothing.</summary>
public sealed class WebhookAnswerTests : IAsyncLifetime
{
    private BotScenario _bot = null!;

    public async Task InitializeAsync() => _bot = await BotScenario.StartAsync(new Dictionary<string, string?>
    {
        ["Verifications:1:Id"] = "wb_disabled",
        ["Verifications:1:GuildId"] = BotScenario.GuildId,
        ["Verifications:1:RoleId"] = BotScenario.HolderRoleId,
        ["Verifications:1:Secret"] = "other-secret",
    });

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    [Fact]
    public async Task A_valid_delivery_is_accepted_and_a_repeat_is_a_duplicate()
    {
        var webhook = _bot.Webhook();

        var first = await _bot.SendAsync(webhook);
        var second = await _bot.SendAsync(webhook);

        Assert.Equal(200, first.Status);
        Assert.Equal("accepted", first.Json!["status"]!.GetValue<string>());
        Assert.Equal(200, second.Status);
        Assert.Equal("duplicate", second.Json!["status"]!.GetValue<string>());
    }

    public static TheoryData<string, string?, int, string> BadRequests => new()
    {
        { "{not json", "application/json", 400, "not valid JSON" },
        { "[]", "application/json", 400, "JSON object" },
        { "null", "application/json", 400, "JSON object" },
        { """{"wallet_address":"0x1","secret":"x"}""", "application/json", 400, "id is required" },
        { """{"id":42,"wallet_address":"0x1"}""", "application/json", 400, "id is required" },
        { """{"id":"wb_test_1","wallet_address":7}""", "application/json", 400, "wallet_address is required" },
        { """{"id":"wb_test_1","wallet_address":"0x1","custom_fields":[]}""", "application/json", 400, "custom_fields must be an object" },
        { """{"id":"wb_test_1","wallet_address":"0x1"}""", "text/plain", 415, "application/json" },
        { """{"id":"wb_test_1","wallet_address":"0x1"}""", null, 415, "application/json" },
        { """{"id":"wb_unknown","wallet_address":"0x1","secret":"x"}""", "application/json", 404, "unknown or disabled" },
        { """{"id":"wb_test_1","wallet_address":"0x1"}""", "application/json", 401, "secret" },
        { """{"id":"wb_test_1","wallet_address":"0x1","secret":"wrong"}""", "application/json", 401, "secret" },
        { """{"id":"wb_test_1","wallet_address":"0x1","secret":"S3CRET-FOR-TESTS-0123456789ABCDEF"}""", "application/json", 401, "secret" },
        { """{"id":"wb_test_1","wallet_address":"0x1","secret":null}""", "application/json", 401, "secret" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_deliveries_get_a_small_json_error_and_store_nothing(string body, string? contentType, int status, string error)
    {
        var response = await _bot.Sender.SendRawAsync(_bot.WebhookUrl, body, contentType);

        Assert.Equal(status, response.Status);
        Assert.Equal("application/json", response.ContentType);
        Assert.Contains(error, response.Json!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
        Assert.Equal(0, await Inbox.CountEventsAsync(_bot));
    }

    [Fact]
    public async Task A_disabled_verification_is_not_found()
    {
        var store = _bot.Services.GetRequiredService<WalverBot.Verifications.VerificationStore>();
        await store.SetEnabledAsync("wb_disabled", false);

        var response = await _bot.SendAsync(FakeWalverWebhook.For("wb_disabled").WithDiscord("alice").WithSecret("other-secret").Signed());

        Assert.Equal(404, response.Status);
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_too_large()
    {
        var padding = new string('x', 65 * 1024);
        var body = $$"""{"id":"wb_test_1","wallet_address":"0x1","secret":"{{BotScenario.Secret}}","pad":"{{padding}}"}""";

        var response = await _bot.Sender.SendRawAsync(_bot.WebhookUrl, body);

        Assert.Equal(413, response.Status);
        Assert.Equal(0, await Inbox.CountEventsAsync(_bot));
    }

    [Fact]
    public async Task A_chunked_body_over_64_KiB_is_too_large_even_without_content_length()
    {
        using var http = new HttpClient();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"id\":\"" + new string('a', 70_000) + "\"}")));
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentLength = null; // chunked only: the size is learnt by reading
        using var request = new HttpRequestMessage(HttpMethod.Post, _bot.WebhookUrl) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await http.SendAsync(request);

        Assert.True(413 == (int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Old_and_future_verification_times_are_refused()
    {
        var old = await _bot.SendAsync(_bot.Webhook() with { VerificationTime = DateTimeOffset.UtcNow.AddDays(-2) });
        var future = await _bot.SendAsync(_bot.Webhook() with { VerificationTime = DateTimeOffset.UtcNow.AddHours(1) });

        Assert.Equal(400, old.Status);
        Assert.Equal(400, future.Status);
        Assert.Equal(0, await Inbox.CountEventsAsync(_bot));
    }

    [Fact]
    public async Task Unknown_routes_answer_json_not_html()
    {
        var response = await _bot.Sender.SendRawAsync($"{_bot.BaseUrl}/webhooks/other", "{}");

        Assert.Equal(404, response.Status);
        Assert.Equal("application/json", response.ContentType);
    }

    [Fact]
    public async Task Health_answers_while_the_process_runs()
    {
        using var http = new HttpClient();
        Assert.Equal(200, (int)(await http.GetAsync($"{_bot.BaseUrl}/healthz")).StatusCode);
    }
}

/// <summary>Rate limiting gets its own bot, with a small limit.</summary>
public sealed class WebhookRateLimitTests
{
    [Fact]
    public async Task Past_the_limit_the_webhook_answers_429_with_retry_after()
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Webhook:RateLimitPerMinute"] = "3" });

        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await bot.SendAsync(bot.Webhook())).Status);
        }

        Assert.Equal([200, 200, 200, 429, 429], statuses);
        using var http = new HttpClient();
        using var response = await http.PostAsync(bot.WebhookUrl, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(429, (int)response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("too many requests", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
