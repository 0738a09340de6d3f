using System.Text;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.EndToEnd;

/// <summary>
/// Thousands of malformed and hostile bodies over real HTTP: never a 5xx, never a grant, memory stays flat.
/// Each body comes from its own seed (the batch's seed plus its index; the two batches' seeds lie apart), so a failure
/// replays exactly however the sends interleave. It runs alone: the memory it measures is the process's.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class HostileWebhookFuzzTests
{
    private const int Bodies = 3000;

    /// <summary>What the batch records for an oversized body whose connection closed before its 413 was read.</summary>
    private const int ClosedWhileUploading = 0;

    [Fact]
    public async Task Hostile_bodies_get_4xx_or_200_and_grant_nothing()
    {
        // Several hundred accepted look-alike names each cost a member search: the test waits for every decision, and
        // Discord's limits would stretch that over minutes (10 searches per 10 s per guild in the fake) or seconds (the
        // bot's share of the global limit, 50 requests/s); they are not the subject.
        await using var bot = await BotScenario.StartAsync(new Dictionary<string, string?>
        {
            ["Webhook:RateLimitPerMinute"] = "1000000",
            ["Discord:GlobalRateLimit"] = "1000",
        });
        bot.Discord.SetRateLimit(WalverBot.Testing.FakeDiscord.FakeDiscordBuckets.MemberSearch, 1000, TimeSpan.FromSeconds(1));
        bot.Discord.GlobalRateLimitPerSecond = 1000;
        using var http = FakeWalverWebhookSender.CreateClient();

        await SendBatchAsync(bot, http, seed: 202_611_250, 300); // warm-up: JIT, pools, caches
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var statuses = await SendBatchAsync(bot, http, seed: 202_621_250, Bodies);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.DoesNotContain(statuses, s => s >= 500);
        Assert.Contains(400, statuses);
        Assert.Contains(401, statuses);
        Assert.Contains(413, statuses);
        Assert.Contains(415, statuses);
        Assert.Contains(200, statuses);
        // Every answer is in, so every accepted event is stored: once the worker has decided each one, no PUT can follow.
        await Inbox.WaitUntilDrainedAsync(bot, atLeast: 1);
        Assert.Empty(bot.Discord.RequestsTo("PUT", "/guilds/*/members/*/roles/*"));
        Assert.True(growth < 32 * 1024 * 1024, $"managed memory grew by {growth / 1024} KiB over {Bodies} hostile bodies");
    }

    /// <summary>
    /// Sends <paramref name="count"/> bodies, four at a time: the test runs alone, and one request at a time left a core
    /// idle while signing and answering kept the other busy.
    /// </summary>
    private static async Task<int[]> SendBatchAsync(BotScenario bot, HttpClient http, int seed, int count)
    {
        var statuses = new int[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var (body, contentType) = Generate(new Random(seed + i));
            using var content = new ByteArrayContent(body);
            if (contentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            try
            {
                using var response = await http.PostAsync(bot.WebhookUrl, content);
                statuses[i] = (int)response.StatusCode;
            }
            catch (HttpRequestException) when (body.Length > WalverBot.Webhooks.WebhookOptions.MaxBodyBytes)
            {
                // The bot answers 413 from Content-Length without reading the body, and Kestrel then closes the
                // connection; a client still uploading may lose that answer to the reset, which HTTP allows
                // ("the server MAY close the connection to prevent the client from continuing the request",
                // RFC 9110, 15.5.14). Only an oversized body may end so: any other failure fails the test.
                statuses[i] = ClosedWhileUploading;
            }
            catch (HttpRequestException ex)
            {
                // Seen once in a loaded run ("The response ended prematurely", in the warm-up batch): say which body.
                var start = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 120));
                throw new InvalidOperationException(
                    $"body {i}, made by new Random({seed + i}) ({body.Length} bytes, Content-Type {contentType ?? "(none)"}, starting {start}) got no answer: "
                    + $"{ex.Message} ({ex.InnerException?.Message})\nbot's last log lines:\n{string.Join('\n', bot.Logs.Lines.TakeLast(20))}", ex);
            }
        });

        return statuses;
    }

    private static readonly string[] LookAlikes = ["\u0430lice", "al\u0456ce", "ａｌｉｃｅ", "alice\u200b", "ALİCE", "a\u0301lice", "alic\u0435#0001", "<@!0>", "@everyone", "<@&1300000000000000010>"];

    private static (byte[] Body, string? ContentType) Generate(Random random)
    {
        var kind = random.Next(14);
        string text = kind switch
        {
            0 => new string('[', random.Next(20, 5000)) + new string(']', random.Next(0, 10)),
            1 => $$$"""{"id":"{{{BotScenario.VerificationId}}}","wallet_address":"0x1","secret":"{{{BotScenario.Secret}}}","token_verification":{"token_address":"t","required_amount":1e{{{random.Next(300, 100000)}}},"actual_amount":1,"passed":true}}""",
            2 => """{"id":"a","id":"b","wallet_address":"0x1","secret":"x"}""",
            3 => $$$"""{"id":{{{random.Next()}}},"wallet_address":{"x":1}}""",
            4 => $$"""{"id":"{{new string('x', random.Next(129, 60000))}}","wallet_address":"0x1"}""",
            5 => $$"""{"id":"{{BotScenario.VerificationId}}","wallet_address":"0x1","secret":"{{BotScenario.Secret.ToUpperInvariant()}}"}""",
            6 => $$"""{"id":"{{BotScenario.VerificationId}}","wallet_address":"0x1","secret":"{{BotScenario.Secret}}","custom_fields":{{(random.Next(2) == 0 ? "[]" : "\"alice\"")}}}""",
            7 => $$"""{"id":"{{BotScenario.VerificationId}}","wallet_address":"0x1","secret":"{{BotScenario.Secret}}","verification_time":"{{(random.Next(2) == 0 ? "not a time" : "1999-01-01T00:00:00Z")}}"}""",
            8 => "null",
            9 => new string('{', 1) + new string(' ', random.Next(0, 100)),
            10 => "\"" + new string('a', random.Next(0, 70000)) + "\"",
            // A wallet of its own for each: the bot runs one wallet's events one after another, and 350 events of one
            // wallet made the wait for their decisions most of this test's time.
            _ => FakeWalverWebhook.For(BotScenario.VerificationId).WithDiscord(LookAlikes[random.Next(LookAlikes.Length)]).WithSecret(BotScenario.Secret)
                .SignedBy(TestWallets.EvmWallet(random.Next())).ToJson().ToJsonString(),
        };
        var body = Encoding.UTF8.GetBytes(text);
        if (kind == 12 && body.Length > 10)
        {
            body[random.Next(body.Length)] = (byte)random.Next(0x80, 0x100); // invalid UTF-8 somewhere
        }

        var contentType = (kind, random.Next(20)) switch
        {
            (_, 0) => "text/plain",
            (_, 1) => null,
            (_, 2) => "application/json; charset=utf-8",
            (_, 3) => "application/x-www-form-urlencoded",
            _ => "application/json",
        };
        return (body, contentType);
    }
}
