using System.Diagnostics;
using System.Net.Sockets;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>
/// Many TCP connections that never send a byte (no secret needed). Bounded: 600 connections to 127.0.0.1, at most
/// 60 s. Kestrel's defaults (no connection limit, 130 s keep-alive for a silent connection) kept every one open.
/// The limits are the bot's own listener's, so the test runs beside others.
/// </summary>
[LongRunning(4)]
public sealed class IdleConnectionFloodTests
{
    private const int Connections = 600;
    private const int Limit = 100;

    [Fact]
    public async Task Silent_connections_are_capped_and_closed_and_the_webhook_path_answers_within_seconds_after()
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Webhook:MaxConnections"] = $"{Limit}",
            ["Webhook:IdleTimeout"] = "00:00:02",
        });
        var port = new Uri(bot.BaseUrl).Port;
        using var drill = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var sockets = new List<Socket>(Connections);
        try
        {
            var started = Stopwatch.StartNew();
            for (var i = 0; i < Connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync("127.0.0.1", port, drill.Token);
            }

            // Every connection ends from the server's side: refused at once past the limit, or closed when idle.
            var closed = sockets.Select(s => ClosedByServerAsync(s, drill.Token)).ToList();
            await Task.WhenAll(closed);
            var allClosedAfter = started.Elapsed;

            var back = Stopwatch.StartNew();
            var answer = await bot.SendAsync(bot.Webhook());
            Assert.Equal(200, answer.Status);
            using var http = new HttpClient();
            Assert.Equal(200, (int)(await http.GetAsync($"{bot.BaseUrl}/healthz", drill.Token)).StatusCode);
            Assert.True(back.Elapsed < TimeSpan.FromSeconds(5), $"the webhook path took {back.Elapsed} to answer after the flood");
            Assert.True(allClosedAfter < TimeSpan.FromSeconds(30), $"the silent connections were closed only after {allClosedAfter}");

            // Not one warning per refused connection (a log flood), but one line with the count, at the latest when the bot stops.
            await bot.StopBotAsync();
            Assert.DoesNotContain(bot.Logs.Lines, l => l.Contains("maximum number of concurrent connections", StringComparison.Ordinal));
            var summary = Assert.Single(bot.Logs.Lines, l => l.Contains("connection(s) since the last such line", StringComparison.Ordinal));
            var refused = int.Parse(System.Text.RegularExpressions.Regex.Match(summary, @"Refused (\d+) connection").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(refused, 1, Connections);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    /// <summary>Completes when the server closes (FIN) or resets the connection; the client never sends anything.</summary>
    private static async Task ClosedByServerAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }
}
