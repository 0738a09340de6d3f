using System.Net.Sockets;
using System.Text;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.EndToEnd;

/// <summary>The webhook listener against hostile peers: slow bodies, forged forwarded headers.</summary>
[LongRunning(6)]
public sealed class ListenerHardeningTests
{
    [Fact]
    public async Task A_body_trickled_under_the_minimum_data_rate_is_answered_408_with_one_log_line_and_stores_nothing()
    {
        await using var bot = await BotScenario.StartAsync();
        var uri = new Uri(bot.BaseUrl);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", uri.Port);
        var stream = client.GetStream();
        var head = $"POST /webhooks/walver HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{{\"id\":";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        // Kestrel's minimum body rate (240 B/s) is enforced after a 5 s grace; the answer is the fact we wait for.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = await ReadAnswerAsync(stream, cancel.Token);

        Assert.True(answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal) && answer.Contains("sent too slowly", StringComparison.Ordinal),
            $"the answer was:\n{answer}\nthe bot logged:\n{string.Join('\n', bot.Logs.Lines.TakeLast(10))}");
        var line = Assert.Single(bot.Logs.Lines, l => l.Contains("Refused a webhook from \"127.0.0.1\"", StringComparison.Ordinal));
        Assert.Contains("too slowly", line, StringComparison.Ordinal);
        Assert.DoesNotContain(bot.Logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal));
        Assert.Equal(0, await Inbox.CountEventsAsync(bot));
    }

    [Theory]
    [InlineData("10.0.0.0/8", "127.0.0.1")] // the peer is not a trusted proxy: its X-Forwarded-For is ignored
    [InlineData("127.0.0.1", "203.0.113.")] // the peer is the trusted proxy: the client it names is believed
    [InlineData("", "203.0.113.")] // none named: loopback, ASP.NET's default
    public async Task Forwarded_headers_are_believed_only_from_a_trusted_proxy(string trustedProxies, string loggedAs)
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Webhook:TrustForwardedHeaders"] = "true",
            ["Webhook:TrustedProxies"] = trustedProxies,
            ["Webhook:RateLimitPerMinute"] = "3",
        });
        using var http = new HttpClient();

        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            // Each request claims another client address: an untrusted peer must not escape its rate limit this way.
            using var request = new HttpRequestMessage(HttpMethod.Post, bot.WebhookUrl) { Content = new StringContent("{not json", Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            statuses.Add((int)(await http.SendAsync(request)).StatusCode);
        }

        Assert.All(bot.Logs.Lines.Where(l => l.Contains("Refused a malformed webhook from", StringComparison.Ordinal)),
            l => Assert.Contains($"from \"{loggedAs}", l, StringComparison.Ordinal));
        Assert.Equal(loggedAs == "127.0.0.1" ? [400, 400, 400, 429, 429] : [400, 400, 400, 400, 400], statuses);
    }

    [Fact]
    public async Task An_invalid_trusted_proxy_stops_start_up_naming_the_key()
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Webhook:TrustedProxies"] = "10.0.0.0/8,proxy.internal" }, startBot: false);

        var error = await Assert.ThrowsAnyAsync<Exception>(bot.StartBotAsync);

        Assert.Contains("Webhook:TrustedProxies must be IP addresses or networks", error.Message, StringComparison.Ordinal);
    }

    internal static async Task<string> ReadAnswerAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var answer = new StringBuilder();
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            if (answer.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && answer.ToString().Contains('}', StringComparison.Ordinal))
            {
                break;
            }
        }

        return answer.ToString();
    }
}
