using System.Net;
using System.Runtime.CompilerServices;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Operations;

/// <summary>
/// The webhook route's rate limit (its count in /metrics: MetricsTests), and what a stopped bot leaves behind: nothing
/// that keeps it alive. ASP.NET Core's rate-limiting middleware starts a timer it never stops (dotnet/aspnetcore#69061),
/// which kept every stopped bot of a process alive with its metrics (about 1 GB after a test run); a process hosts one
/// bot, but an embedding host or a test run starts many.
/// </summary>
public sealed class StoppedBotTests
{
    [Fact]
    public async Task A_sender_over_the_limit_gets_429_with_Retry_After_before_its_body_is_read()
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Webhook:RateLimitPerMinute"] = "2" });

        var first = await bot.SendAsync(bot.Webhook());
        var second = await bot.SendAsync(bot.Webhook());
        using var http = new HttpClient();
        // A body that would be answered 400: the limit comes first.
        using var third = await http.PostAsync(bot.WebhookUrl, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal((200, 200), (first.Status, second.Status));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("""{"error":"too many requests"}""", await third.Content.ReadAsStringAsync());
        var retryAfter = third.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter > TimeSpan.Zero && retryAfter <= TimeSpan.FromMinutes(1), $"Retry-After: {third.Headers.RetryAfter}");
    }

    [Fact]
    public async Task A_stopped_bot_that_rate_limited_a_sender_can_be_collected()
    {
        var services = await RunAndStopABotAsync();

        await Eventually.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !services.IsAlive;
        }, "the stopped bot's service provider to be collected");
    }

    /// <summary>Returns only a weak reference: no local of the test method may hold the bot.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> RunAndStopABotAsync()
    {
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?> { ["Webhook:RateLimitPerMinute"] = "1" });
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
        Assert.Equal(429, (await bot.SendAsync(bot.Webhook())).Status);
        await bot.WaitForRolePutsAsync(BotScenario.AliceId);
        return new WeakReference(bot.Services);
    }
}
