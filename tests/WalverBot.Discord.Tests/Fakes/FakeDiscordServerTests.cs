using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.Http;

namespace WalverBot.Discord.Tests.Fakes;

public sealed class FakeDiscordServerTests : IAsyncLifetime
{
    private const string Guild = "2200000000000000001";
    private const string BotRole = "2200000000000000010";
    private const string Verified = "2200000000000000011";
    private const string AboveBot = "2200000000000000012";
    private const string Booster = "2200000000000000013";
    private const string Alice = "2200000000000000100";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private FakeDiscordServer _discord = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _discord = await FakeDiscordServer.StartAsync(new FakeDiscordOptions { TimeProvider = _time });
        _discord.AddGuild(Guild, "Test guild");
        _discord.AddRole(Guild, new FakeRole(BotRole, "WalverBot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
        _discord.AddRole(Guild, new FakeRole(Verified, "Verified", 2));
        _discord.AddRole(Guild, new FakeRole(AboveBot, "Moderators", 9));
        _discord.AddRole(Guild, new FakeRole(Booster, "Server Booster", 1, Managed: true));
        _discord.SetBotRoles(Guild, BotRole);
        _discord.AddMember(Guild, new FakeMember(Alice, "alice") { Nick = "Ally" });
        _discord.AddMember(Guild, new FakeMember("2200000000000000101", "alicia"));
        _discord.AddMember(Guild, new FakeMember("2200000000000000102", "bob") { Nick = "ALbert" });

        _http = new HttpClient { BaseAddress = new Uri(_discord.ApiBaseUrl + "/") };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bot", _discord.Token);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("DiscordBot (https://example.test, 0.1)");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _discord.DisposeAsync();
    }

    [Fact]
    public async Task RoleRoutes_ShareABucket_AnswerRateLimitHeaders_And429PastTheLimit()
    {
        _discord.SetRateLimit(FakeDiscordBuckets.MemberRoles, 2, TimeSpan.FromSeconds(10));
        var hash = FakeDiscordServer.BucketHash(FakeDiscordBuckets.MemberRoles);

        using var first = await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/{Verified}", null);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal("2", Header(first, "X-RateLimit-Limit"));
        Assert.Equal("1", Header(first, "X-RateLimit-Remaining"));
        Assert.Equal("10.000", Header(first, "X-RateLimit-Reset-After"));
        Assert.Equal(hash, Header(first, "X-RateLimit-Bucket"));
        var resetEpoch = double.Parse(Header(first, "X-RateLimit-Reset")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(_time.GetUtcNow().AddSeconds(10).ToUnixTimeMilliseconds() / 1000.0, resetEpoch, 3);

        _time.Advance(TimeSpan.FromSeconds(4));
        using var second = await _http.DeleteAsync($"guilds/{Guild}/members/{Alice}/roles/{Verified}");
        Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
        Assert.Equal("0", Header(second, "X-RateLimit-Remaining"));
        Assert.Equal(hash, Header(second, "X-RateLimit-Bucket"));

        using var limited = await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/{Verified}", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var body = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!;
        Assert.Equal("You are being rate limited.", body["message"]!.GetValue<string>());
        Assert.Equal(6.0, body["retry_after"]!.GetValue<double>(), 3);
        Assert.False(body["global"]!.GetValue<bool>());
        Assert.Equal("6", Header(limited, "Retry-After"));
        Assert.Equal("user", Header(limited, "X-RateLimit-Scope"));
        Assert.Null(Header(limited, "X-RateLimit-Global"));

        // The window opened at the first request; 10 s later the bucket is full again.
        _time.Advance(TimeSpan.FromSeconds(6));
        using var afterReset = await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/{Verified}", null);
        Assert.Equal(HttpStatusCode.NoContent, afterReset.StatusCode);

        var stats = _discord.StatsFor(FakeDiscordBuckets.MemberRoles);
        Assert.Equal((4, 1), (stats.Requests, stats.TooManyRequests));
        Assert.Equal(["PUT", "DELETE", "PUT"], _discord.RoleChanges.Select(c => c.Method));
    }

    [Fact]
    public async Task GlobalLimit_Answers429WithGlobalScope()
    {
        _discord.GlobalRateLimitPerSecond = 2;
        for (var i = 0; i < 2; i++)
        {
            using var ok = await _http.GetAsync("users/@me");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await _http.GetAsync($"guilds/{Guild}");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("global", Header(limited, "X-RateLimit-Scope"));
        Assert.Equal("true", Header(limited, "X-RateLimit-Global"));
        Assert.True(JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["global"]!.GetValue<bool>());

        _time.Advance(TimeSpan.FromSeconds(1));
        using var next = await _http.GetAsync($"guilds/{Guild}");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task RolePut_ChecksInDiscordsOrder()
    {
        var path = $"guilds/{Guild}/members/{Alice}/roles/{Verified}";
        using (var anonymous = new HttpRequestMessage(HttpMethod.Put, path))
        {
            anonymous.Headers.Authorization = null;
            anonymous.Headers.TryAddWithoutValidation("Authorization", _discord.Token); // no "Bot " prefix
            await AssertErrorAsync(await _http.SendAsync(anonymous), 401, 0, "401: Unauthorized");
        }

        await AssertErrorAsync(await _http.PutAsync($"guilds/999/members/1/roles/1", null), 404, 10004, "Unknown Guild");
        await AssertErrorAsync(await _http.PutAsync($"guilds/{Guild}/members/1/roles/1", null), 404, 10007, "Unknown Member");
        await AssertErrorAsync(await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/1", null), 404, 10011, "Unknown Role");
        await AssertErrorAsync(await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/{AboveBot}", null), 403, 50013, "Missing Permissions");
        await AssertErrorAsync(await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/{BotRole}", null), 403, 50013, "Missing Permissions");
        await AssertErrorAsync(await _http.PutAsync($"guilds/{Guild}/members/{Alice}/roles/{Booster}", null), 403, 50013, "Missing Permissions");

        using var granted = new HttpRequestMessage(HttpMethod.Put, path);
        granted.Headers.Add("X-Audit-Log-Reason", Uri.EscapeDataString("Walver verification v1 (7xKX…gAsU)"));
        using var ok = await _http.SendAsync(granted);
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        Assert.Equal([Verified], _discord.GetMemberRoles(Guild, Alice));
        Assert.Equal("Walver verification v1 (7xKX…gAsU)", _discord.RoleChanges.Single().AuditLogReason);

        _discord.SetBotRoles(Guild); // loses MANAGE_ROLES
        await AssertErrorAsync(await _http.PutAsync(path, null), 403, 50013, "Missing Permissions");

        var stats = _discord.StatsFor(FakeDiscordBuckets.MemberRoles);
        Assert.Equal((1, 4), (stats.Unauthorized, stats.Forbidden));
        Assert.Equal(5, _discord.InvalidRequestCount);
        Assert.All(_discord.Requests, r => Assert.StartsWith("DiscordBot (", r.Header("User-Agent")));
    }

    [Fact]
    public async Task MemberSearch_MatchesUsernameOrNickPrefix_CaseInsensitive_WithDiscordsLimits()
    {
        var one = JsonNode.Parse(await _http.GetStringAsync($"guilds/{Guild}/members/search?query=AL"))!.AsArray();
        Assert.Single(one); // limit defaults to 1

        var all = JsonNode.Parse(await _http.GetStringAsync($"guilds/{Guild}/members/search?query=AL&limit=10"))!.AsArray();
        Assert.Equal(["alice", "alicia", "bob"], all.Select(m => m!["user"]!["username"]!.GetValue<string>()));
        Assert.All(all, m => Assert.Equal("0", m!["user"]!["discriminator"]!.GetValue<string>()));

        using var tooMany = await _http.GetAsync($"guilds/{Guild}/members/search?query=al&limit=1001");
        var error = await AssertErrorAsync(tooMany, 400, 50035, "Invalid Form Body");
        Assert.Equal("NUMBER_TYPE_MAX", error["errors"]!["limit"]!["_errors"]![0]!["code"]!.GetValue<string>());
        await AssertErrorAsync(await _http.GetAsync($"guilds/{Guild}/members/search?query=al&limit=0"), 400, 50035, "Invalid Form Body");
    }

    [Fact]
    public async Task InteractionCallback_OnlyOnce_AndWithinThreeSeconds()
    {
        var channel = "2200000000000000200";
        _discord.AddChannel(new FakeChannel(channel, Guild, "general"));
        var data = new JsonObject { ["name"] = "verify", ["type"] = 1 };
        var interaction = _discord.CreateCommandInteraction(Guild, channel, Alice, data);
        Assert.Equal(interaction.Token, interaction.Payload["token"]!.GetValue<string>());

        using var anonymous = new HttpClient { BaseAddress = _http.BaseAddress };
        var callback = $"interactions/{interaction.Id}/{interaction.Token}/callback";
        using var deferred = await anonymous.PostAsync(callback, Json("""{"type":5,"data":{"flags":64}}"""));
        Assert.Equal(HttpStatusCode.NoContent, deferred.StatusCode);
        await AssertErrorAsync(await anonymous.PostAsync(callback, Json("""{"type":4,"data":{"content":"hi"}}""")), 400, 40060, "Interaction has already been acknowledged.");

        using var edit = await anonymous.PatchAsync($"webhooks/{_discord.ApplicationId}/{interaction.Token}/messages/@original", Json("""{"content":"done"}"""));
        Assert.Equal(HttpStatusCode.OK, edit.StatusCode);
        Assert.Equal("done", _discord.EditsOfOriginal(interaction.Id).Single().Body["content"]!.GetValue<string>());
        Assert.Equal(5, _discord.CallbackFor(interaction.Id)!.Type);

        var late = _discord.CreateCommandInteraction(Guild, channel, Alice, data);
        _time.Advance(TimeSpan.FromSeconds(3.5));
        await AssertErrorAsync(await anonymous.PostAsync($"interactions/{late.Id}/{late.Token}/callback", Json("""{"type":5}""")), 404, 10062, "Unknown interaction");
        await AssertErrorAsync(await anonymous.PatchAsync($"webhooks/{_discord.ApplicationId}/{late.Token}/messages/@original", Json("""{"content":"x"}""")), 401, 50027, "Invalid Webhook Token");
    }

    [Fact]
    public async Task FollowupAndOriginal_TakeMultipartFiles_AndRecordTheirBytes()
    {
        var channel = "2200000000000000200";
        _discord.AddChannel(new FakeChannel(channel, Guild, "general"));
        var interaction = _discord.CreateCommandInteraction(Guild, channel, Alice, new JsonObject { ["name"] = "walver", ["type"] = 1 });
        using var anonymous = new HttpClient { BaseAddress = _http.BaseAddress };
        using (var deferred = await anonymous.PostAsync($"interactions/{interaction.Id}/{interaction.Token}/callback", Json("""{"type":5}""")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deferred.StatusCode);
        }

        const string Csv = "wallet,user\n0xabc,alice\n";
        using (var original = await anonymous.PatchAsync($"webhooks/{_discord.ApplicationId}/{interaction.Token}/messages/@original", Multipart("""{"content":"export","attachments":[{"id":0,"filename":"grants.csv"}]}""", ("files[0]", "grants.csv", Csv))))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
            var message = JsonNode.Parse(await original.Content.ReadAsStringAsync())!;
            Assert.Equal("grants.csv", message["attachments"]![0]!["filename"]!.GetValue<string>());
            Assert.Equal(Encoding.UTF8.GetByteCount(Csv), message["attachments"]![0]!["size"]!.GetValue<int>());
        }

        var edit = _discord.EditsOfOriginal(interaction.Id).Single();
        Assert.Equal("export", edit.Body["content"]!.GetValue<string>());
        Assert.Equal(("0", "grants.csv", Csv), (edit.Attachments.Single().Id, edit.Attachments.Single().FileName, edit.Attachments.Single().Text));

        // A follow-up with only a file (no payload_json) is not an empty message.
        using (var followup = await anonymous.PostAsync($"webhooks/{_discord.ApplicationId}/{interaction.Token}", Multipart(null, ("files[0]", "a.csv", "x\n"), ("files[1]", "b.csv", "y\n"))))
        {
            Assert.Equal(HttpStatusCode.OK, followup.StatusCode);
        }

        Assert.Equal(["a.csv", "b.csv"], _discord.Followups(interaction.Id).Single().Attachments.Select(a => a.FileName));
        await AssertErrorAsync(await anonymous.PostAsync($"webhooks/{_discord.ApplicationId}/{interaction.Token}", Multipart("{not json", ("files[0]", "a.csv", "x"))), 400, 50109, "The request body contains invalid JSON.");
        Assert.Single(_discord.Followups(interaction.Id));
    }

    [Fact]
    public async Task Recorder_WaitsForArrivals_AndNamesWhatArrivedOnTimeout()
    {
        var two = _discord.Recorder.WaitForArrivalsAsync(r => r.Path.EndsWith("/users/@me", StringComparison.Ordinal), 2);
        using (await _http.GetAsync("users/@me"))
        {
        }

        Assert.False(two.IsCompleted);
        using (await _http.GetAsync("users/@me"))
        {
        }

        var arrived = await two;
        Assert.Equal(2, arrived.Count);
        Assert.True(arrived[1].ArrivedAfter >= arrived[0].ArrivedAfter);
        Assert.Equal(_time.GetUtcNow(), arrived[0].Timestamp);

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => _discord.Recorder.WaitForArrivalAsync(r => r.Method == "DELETE", TimeSpan.FromMilliseconds(50), "a DELETE"));
        Assert.Contains("a DELETE", timeout.Message);
        Assert.Contains("2 arrived", timeout.Message);
        Assert.Contains("GET /api/v10/users/@me -> 200", timeout.Message);
    }

    [Fact]
    public async Task Faults_AnswerNonJson502_Abort_Delay_ThenRecover_AndDownUntilBack()
    {
        _discord.InjectFault("GET", "/users/@me", FakeFault.BadGateway());
        _discord.InjectFault("GET", "/users/{id}", FakeFault.Abort());
        _discord.InjectFault("*", "/users/**", FakeFault.RateLimited(1.5, "shared"));

        using var badGateway = await _http.GetAsync("users/@me");
        Assert.Equal(HttpStatusCode.BadGateway, badGateway.StatusCode);
        Assert.Equal("text/html", badGateway.Content.Headers.ContentType?.MediaType);

        await Assert.ThrowsAsync<HttpRequestException>(() => _http.GetAsync("users/@me"));

        using var shared = await _http.GetAsync("users/@me");
        Assert.Equal(HttpStatusCode.TooManyRequests, shared.StatusCode);
        Assert.Equal("shared", Header(shared, "X-RateLimit-Scope"));
        Assert.Equal("2", Header(shared, "Retry-After"));

        using var ok = await _http.GetAsync("users/@me");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(_discord.BotUserId, JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());

        _discord.GoDown();
        using var down = await _http.GetAsync($"guilds/{Guild}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        _discord.ComeBackUp();
        using var up = await _http.GetAsync($"guilds/{Guild}");
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);

        Assert.Equal([502, null, 429, 200, 503, 200], _discord.RequestsTo("GET", "/**").Select(r => r.Status));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static MultipartFormDataContent Multipart(string? payloadJson, params (string Name, string FileName, string Text)[] files)
    {
        var content = new MultipartFormDataContent();
        if (payloadJson is not null)
        {
            content.Add(new StringContent(payloadJson, Encoding.UTF8, "application/json"), "payload_json");
        }

        foreach (var (name, fileName, text) in files)
        {
            content.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(text)) { Headers = { ContentType = new MediaTypeHeaderValue("text/csv") } }, name, fileName);
        }

        return content;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static async Task<JsonNode> AssertErrorAsync(HttpResponseMessage response, int status, int code, string message)
    {
        using (response)
        {
            Assert.Equal(status, (int)response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(code, body["code"]!.GetValue<int>());
            Assert.Equal(message, body["message"]!.GetValue<string>());
            return body;
        }
    }
}
