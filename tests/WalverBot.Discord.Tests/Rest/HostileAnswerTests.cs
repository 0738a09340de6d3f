using System.Net;
using System.Text;
using WalverBot.Discord.Rest;
using WalverBot.Discord.Tests.Rest.Fakes;

namespace WalverBot.Discord.Tests.Rest;

/// <summary>
/// Answers that are not what Discord documents — from a proxy, a CDN, a truncated transfer or a
/// broken header — must end as a clear, retryable failure, never as a crash or a permanent refusal.
/// </summary>
public sealed class HostileAnswerTests : IDisposable
{
    private const string RolesJson = "[]";

    private readonly RestHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private IDiscordRestClient Client => _harness.Client;

    private ScriptedHttpHandler Http => _harness.Http;

    [Theory]
    [InlineData("1e12")]
    [InlineData("1e400")]
    [InlineData("9223372036854775807")]
    public async Task AbsurdRetryAfter_IsClampedToAnHour_InsteadOfOverflowing(string retryAfter)
    {
        Http.Enqueue(Responses.Json(HttpStatusCode.TooManyRequests,
            $$"""{"message":"You are being rate limited.","retry_after":{{retryAfter}},"global":false}""",
            ("X-RateLimit-Scope", "shared"), ("X-RateLimit-Bucket", "roles-hash"), ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset-After", retryAfter), ("Retry-After", "99999999999")));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.GetGuildRolesAsync(1, CancellationToken.None).Within());

        Assert.True(error.IsTransient);
        Assert.Equal(DiscordRestException.MaxServerDelay, error.RetryAfter);
        // The bucket is paused for that hour, not for ever: a later call goes out once it is over.
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        var later = Client.GetGuildRolesAsync(1, CancellationToken.None);
        _harness.Time.Advance(DiscordRestException.MaxServerDelay - TimeSpan.FromSeconds(1));
        Assert.Equal(1, Http.Count);
        _harness.Time.Advance(TimeSpan.FromSeconds(1));
        await later.Within();
        Assert.Equal(2, Http.Count);
    }

    [Theory]
    [InlineData("1e12")]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    public async Task AbsurdResetAfter_OnASuccess_IsClamped_AndTheAnswerStillArrives(string resetAfter)
    {
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson,
            ("X-RateLimit-Bucket", "roles-hash"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset-After", resetAfter)));

        var roles = await Client.GetGuildRolesAsync(1, CancellationToken.None).Within();

        Assert.Empty(roles);
        Http.Enqueue(Responses.Json(HttpStatusCode.OK, RolesJson));
        var later = Client.GetGuildRolesAsync(1, CancellationToken.None);
        _harness.Time.Advance(DiscordRestException.MaxServerDelay);
        await later.Within();
        Assert.Equal(2, Http.Count);
    }

    [Theory]
    [InlineData("<html><body>502 Bad Gateway</body></html>", "text/html")]
    [InlineData("""[{"id":"1","name":"Hold""", "application/json")]
    [InlineData("", "application/json")]
    public async Task A_success_whose_body_is_not_the_expected_json_is_transient(string body, string mediaType)
    {
        Http.Enqueue(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, mediaType) });

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.GetGuildRolesAsync(1, CancellationToken.None).Within());

        Assert.Equal(HttpStatusCode.OK, error.StatusCode);
        Assert.True(error.IsTransient);
        Assert.Contains("not the expected JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_success_with_an_unknown_charset_is_transient_too()
    {
        var content = new StringContent(RolesJson, Encoding.UTF8, "application/json");
        content.Headers.ContentType!.CharSet = "x-no-such-charset";
        Http.Enqueue(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.GetGuildRolesAsync(1, CancellationToken.None).Within());

        Assert.True(error.IsTransient);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "<html>400 Bad Request</html>", true)]
    [InlineData(HttpStatusCode.NotFound, "<html>not found</html>", true)]
    [InlineData(HttpStatusCode.Forbidden, "", true)]
    [InlineData(HttpStatusCode.Forbidden, """{"message":"Missing Permissions","code":50013}""", false)]
    [InlineData(HttpStatusCode.NotFound, """{"message":"Unknown Role","code":10011}""", false)]
    [InlineData(HttpStatusCode.BadRequest, """{"message":"Invalid Form Body","code":50035}""", false)]
    public async Task A_4xx_is_permanent_only_when_Discord_names_the_error(HttpStatusCode status, string body, bool transient)
    {
        Http.Enqueue(Responses.Json(status, body));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.AddGuildMemberRoleAsync(1, 2, 3, null, CancellationToken.None).Within());

        Assert.Equal(transient, error.IsTransient);
    }

    [Fact]
    public async Task A_connection_failure_names_the_host_that_was_tried()
    {
        Http.Enqueue((_, _) => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.GetGuildRolesAsync(1, CancellationToken.None).Within());

        Assert.True(error.IsTransient);
        Assert.Contains("discord.test", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionError", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RestHarness.Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_reset_as_it_opens_is_a_connection_failure_too()
    {
        // What HttpClient lets through bare when the server resets a connection the moment it is made.
        Http.Enqueue((_, _) => throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NotConnected));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => Client.AddGuildMemberRoleAsync(1, 2, 3, null, CancellationToken.None).Within());

        Assert.True(error.IsTransient);
        Assert.Contains("discord.test", error.Message, StringComparison.Ordinal);
        Assert.Contains("NotConnected", error.Message, StringComparison.Ordinal);
    }
}
