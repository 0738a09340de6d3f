using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using WalverBot.Operations;
using WalverBot.Testing.Net;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Operations;

/// <summary><c>Operations:Urls</c>: /metrics on an internal port only, the webhook port unchanged.</summary>
public sealed class OperationsListenerTests
{
    [Fact]
    public async Task With_Operations_Urls_metrics_are_served_there_and_not_on_the_webhook_port()
    {
        await using var bot = await BotScenario.StartAsync(startBot: false);
        var operations = await LoopbackPort.StartOnUnusedAsync(
            async port =>
            {
                bot.Settings["Operations:Urls"] = $"http://127.0.0.1:{port}";
                try
                {
                    await bot.StartBotAsync();
                }
                catch
                {
                    await bot.StopBotAsync();
                    throw;
                }

                return bot.Settings["Operations:Urls"]!;
            },
            LoopbackPort.IsAddressInUse);
        using var http = new HttpClient();
        Assert.NotEqual(operations, bot.BaseUrl);

        using var metrics = await http.GetAsync($"{operations}/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("walverbot_", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{bot.BaseUrl}/metrics")).StatusCode);

        // Health answers on both, so a probe of the webhook port keeps working.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{operations}/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{bot.BaseUrl}/healthz")).StatusCode);

        // The internal port never takes a webhook; the webhook port still does.
        using var body = new StringContent("{}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"{operations}/webhooks/walver", body)).StatusCode);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
    }

    [Fact]
    public async Task Without_Operations_Urls_metrics_stay_on_the_one_port()
    {
        await using var bot = await BotScenario.StartAsync();
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{bot.BaseUrl}/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "must use another port than Urls")]
    [InlineData("http://127.0.0.1:0", "needs a fixed port")]
    public void A_bad_Operations_Urls_stops_start_up_naming_the_key(string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            Program.BuildApp(["--Discord:Token=t", "--Urls=http://0.0.0.0:8080", $"--Operations:Urls={value}"]));

        Assert.Contains($"Operations:Urls {message}", error.Message, StringComparison.Ordinal);
    }
}
