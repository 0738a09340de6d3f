using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Discord.Tests.Fakes;

public sealed class FakeWalverTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private FakeWalverApi _walver = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _walver = await FakeWalverApi.StartAsync(new FakeWalverOptions { TimeProvider = _time });
        _http = new HttpClient { BaseAddress = new Uri(_walver.BaseUrl + "/") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _walver.DisposeAsync();
    }

    [Fact]
    public async Task New_ChecksKey_ThenBody_ThenCreates_AndRefusesDuplicates()
    {
        var body = new JsonObject
        {
            ["id"] = "wb-1",
            ["service_name"] = "Test guild",
            ["chain"] = "solana",
            ["webhook"] = "https://bot.example/webhooks/walver",
            ["secret"] = "s3cret",
            ["custom_fields"] = new JsonArray(new JsonObject { ["id"] = "discord", ["type"] = "discord", ["name"] = "Discord username", ["required"] = true }),
        };

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(body, key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(body, key: "wrong")).StatusCode);

        var missing = (JsonObject)body.DeepClone();
        missing.Remove("chain");
        using var invalid = await PostAsync(missing);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Equal("chain", (await invalid.Content.ReadFromJsonAsync<JsonNode>())!["detail"]![0]!["loc"]![1]!.GetValue<string>());

        var plainHttp = (JsonObject)body.DeepClone();
        plainHttp["webhook"] = "http://bot.example/webhooks/walver";
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(plainHttp)).StatusCode);

        using var created = await PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var answer = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal("https://walver.io/verify/wb-1", answer["verification_url"]!.GetValue<string>());
        Assert.Null(answer["secret"]);
        Assert.Equal("s3cret", _walver.Created.Single().Body["secret"]!.GetValue<string>());

        using var duplicate = await PostAsync(body);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.NotNull((await duplicate.Content.ReadFromJsonAsync<JsonNode>())!["detail"]);
    }

    [Fact]
    public async Task New_AllowsTenPerMinute_Then429WithRateLimitHeaders()
    {
        for (var i = 0; i < 10; i++)
        {
            using var ok = await PostAsync(Body($"wb-{i}"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal((9 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), ok.Headers.GetValues("X-RateLimit-Remaining").Single());
        }

        using var limited = await PostAsync(Body("wb-10"));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("10", limited.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("0", limited.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(_time.GetUtcNow().AddMinutes(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), limited.Headers.GetValues("X-RateLimit-Reset").Single());

        _time.Advance(TimeSpan.FromMinutes(1));
        using var later = await PostAsync(Body("wb-10"));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task SharedPipeline_RecordsArrivalAndStatus_EvenForFaultedRequests()
    {
        _walver.InjectFault("POST", "/new", WalverBot.Testing.Http.FakeFault.Abort());
        var two = _walver.Recorder.WaitForArrivalsAsync(r => r.Status is not null, 2, description: "answered requests");

        await Assert.ThrowsAsync<HttpRequestException>(() => _http.PostAsync("new", JsonContent.Create(new { id = "x" })));
        using (await _http.PostAsync("new", JsonContent.Create(new { id = "x" })))
        {
        }

        using (await _http.GetAsync("elsewhere"))
        {
        }

        var answered = await two;
        Assert.Equal([401, 404], answered.Select(r => r.Status)); // no X-API-Key, then an unknown path
        var aborted = _walver.Requests[0];
        Assert.Null(aborted.Status);
        Assert.Equal(("POST", "/new", _time.GetUtcNow()), (aborted.Method, aborted.Path, aborted.Timestamp));
        Assert.Equal("""{"id":"x"}""", aborted.Body);
    }

    [Fact]
    public async Task WebhookBody_HasWalverFields_AndSenderReportsTheAnswer()
    {
        var webhook = FakeWalverWebhook.For("wb-1")
            .WithDiscord("alice")
            .WithSecret("s3cret")
            .WithToken("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 10m, 12.5m)
            with { VerificationTime = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero) };

        var json = webhook.ToJson();
        Assert.Equal("wb-1", json["id"]!.GetValue<string>());
        Assert.Equal("2025-06-01T12:00:00.000000Z", json["verification_time"]!.GetValue<string>());
        Assert.Equal("alice", json["custom_fields"]!["discord"]!.GetValue<string>());
        Assert.True(json["token_verification"]!["passed"]!.GetValue<bool>());
        Assert.Equal(12.5m, json["token_verification"]!["actual_amount"]!.GetValue<decimal>());
        Assert.Equal("s3cret", json["secret"]!.GetValue<string>());
        Assert.Null(FakeWalverWebhook.For("wb-2").ToJson()["secret"]);

        using var sender = new FakeWalverWebhookSender();
        var answer = await sender.SendRawAsync(_walver.BaseUrl + "/new", "<xml/>", "application/xml");
        Assert.Equal(401, answer.Status);
        Assert.NotNull(answer.Json?["detail"]);
        Assert.Equal("application/xml", _walver.Requests.Single().Header("Content-Type"));
    }

    private static JsonObject Body(string id) => new()
    {
        ["id"] = id,
        ["service_name"] = "Test guild",
        ["chain"] = "ethereum",
        ["webhook"] = "https://bot.example/webhooks/walver",
    };

    private async Task<HttpResponseMessage> PostAsync(JsonObject body, string? key = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "new") { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key.Length == 0 ? _walver.ApiKey : key);
        }

        return await _http.SendAsync(request);
    }
}
