using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Storage;
using WalverBot.Testing.Http;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Operations;

public sealed class MetricsTests
{
    [Fact]
    public async Task Each_bot_in_a_process_exports_only_its_own_series()
    {
        await using var first = await BotScenario.StartAsync();
        await using var second = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Webhook:RateLimitPerMinute"] = "1" });

        Assert.Equal(200, (await first.SendAsync(first.Webhook())).Status);
        Assert.Equal(400, (await second.Sender.SendRawAsync(second.WebhookUrl, "{")).Status);
        Assert.Equal(429, (await second.Sender.SendRawAsync(second.WebhookUrl, "{")).Status);

        var firsts = await WaitForMetricsAsync(first, Series("walverbot_webhooks_total", "outcome=\"accepted\"", "1"));
        // ASP.NET Core records a request's duration once the response has ended, which can be after the client has
        // read it: wait for that series too.
        var seconds = await WaitForMetricsAsync(second,
            Series("walverbot_webhooks_total", "outcome=\"malformed\"", "1"), Series("walverbot_webhooks_total", "outcome=\"rate_limited\"", "1"),
            Series("http_server_request_duration_seconds_count", "http_response_status_code=\"429\"", "1"));
        Assert.DoesNotMatch(Series("walverbot_webhooks_total", "outcome=\"malformed\"", @"\d+"), firsts);
        Assert.DoesNotMatch(Series("walverbot_webhooks_total", "outcome=\"rate_limited\"", @"\d+"), firsts);
        Assert.DoesNotMatch(Series("walverbot_webhooks_total", "outcome=\"accepted\"", @"\d+"), seconds);
        Assert.DoesNotMatch(Series("http_server_request_duration_seconds_count", "http_response_status_code=\"429\"", @"\d+"), firsts);
    }

    [Fact]
    public async Task Metrics_export_webhooks_grants_decisions_inbox_gauges_and_Discord_requests_with_429s_by_bucket()
    {
        await using var bot = await BotScenario.StartAsync();
        bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.RateLimited(0.05), times: 1);

        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
        Assert.Equal(400, (await bot.Sender.SendRawAsync(bot.WebhookUrl, "{")).Status);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook("nobody-here"))).Status);

        // Gauges are read at scrape time: wait until the worker has settled both events. The decision counters and the
        // latency are added after the decision's commit, one after the other (grants, latency, decisions), so a scrape
        // can fall between them: wait for each of them too, not only for the first.
        var text = await WaitForMetricsAsync(bot,
            Series("walverbot_grants_total", "outcome=\"granted\"", "1"),
            Series("walverbot_grants_pending", "", "1"),
            Series("walverbot_inbox_backlog", "", "0"),
            Series("walverbot_decisions_total", "outcome=\"granted\"", "1"),
            Series("walverbot_decisions_total", "outcome=\"pending_member\"", "1"),
            Series("walverbot_grant_latency_seconds_count", "", "1"));
        Assert.Matches(Series("walverbot_webhooks_total", "outcome=\"accepted\"", "2"), text);
        Assert.Matches(Series("walverbot_webhooks_total", "outcome=\"malformed\"", "1"), text);
        Assert.Matches(Series("walverbot_inbox_oldest_age_seconds", "", "0"), text);
        Assert.Matches(Series("walverbot_gateway_ready", "", "1"), text);
        Assert.Matches(Series("walverbot_discord_gateway_sessions_total", "kind=\"ready\"", "1"), text);
        Assert.Matches(Series("walverbot_discord_rest_request_duration_seconds_bucket", "status=\"204\"", @"\d+"), text);
        Assert.Matches(Series("walverbot_discord_rest_rate_limited_total", "bucket=", "1"), text);
        Assert.Matches(Series("http_server_request_duration_seconds_count", "http_route=\"/webhooks/walver\"", @"\d+"), text);
    }

    [Fact]
    public async Task Inbox_gauges_show_the_backlog_and_the_age_of_its_oldest_event_while_Discord_is_down()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Grants:RetryFor"] = "01:00:00" }, time: time);
        bot.Discord.GoDown(503);

        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
        var database = bot.Services.GetRequiredService<Database>();
        await Eventually.UntilAsync(
            async () =>
            {
                await using var connection = await database.OpenAsync();
                return await connection.ExecuteScalarAsync<int>("SELECT attempts FROM webhook_events");
            },
            attempts => attempts >= 1, "the first failed attempt to be stored");

        // Past the gauges' refresh (every 2 s of the bot's clock): they now read the event as it waits for Discord.
        time.Advance(TimeSpan.FromSeconds(5));

        var text = await WaitForMetricsAsync(bot, Series("walverbot_inbox_retrying", "", "1"), Series("walverbot_inbox_backlog", "", "1"));
        var age = double.Parse(Series("walverbot_inbox_oldest_age_seconds", "", @"(?<v>[\d.]+)").Match(text).Groups["v"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(age, 5, 5.01); // the clock moved by exactly 5 s since the event arrived
    }

    internal static Regex Series(string name, string label, string value) =>
        // Label values may hold braces (routes such as /guilds/{guild_id}/roles): match within the line.
        new($@"(?m)^{name}(\{{[^\n]*{Regex.Escape(label)}[^\n]*\}})? {value}( |$)");

    internal static async Task<string> WaitForMetricsAsync(BotScenario bot, params Regex[] patterns)
    {
        using var http = new HttpClient();
        return await Eventually.UntilAsync(
            () => http.GetStringAsync($"{bot.BaseUrl}/metrics"), text => patterns.All(p => p.IsMatch(text)),
            $"/metrics to match {string.Join(" and ", patterns.AsEnumerable())}", TimeSpan.FromSeconds(30), // generous: the suite shares two cores
            text => $"unmatched {string.Join(" and ", patterns.Where(p => !p.IsMatch(text)))} in:\n{text}");
    }
}
