using Serilog.Events;
using Serilog.Parsing;
using WalverBot.Configuration;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.Security;

/// <summary>Untrusted values cannot forge text log lines or make the log binary.</summary>
public sealed class LogInjectionTests
{
    [Fact]
    public void The_text_format_escapes_control_characters_in_every_value_and_keeps_one_line_per_event()
    {
        var template = new MessageTemplateParser().Parse("Refused a webhook for {State} verification {VerificationId} from {RemoteAddress}: {Fields}");
        var logEvent = new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Warning, null, template,
        [
            new LogEventProperty("State", new ScalarValue("unknown")),
            new LogEventProperty("VerificationId", new ScalarValue("x\n[00:00:00 INF] WalverBot: forged\r\0\u001b[31m\u2028\u0085")),
            new LogEventProperty("RemoteAddress", new ScalarValue("127.0.0.1")),
            new LogEventProperty("Fields", new SequenceValue([new ScalarValue("a\nb"), new StructureValue([new LogEventProperty("k", new ScalarValue("c\td"))])])),
        ]);
        var output = new StringWriter();

        LoggingSetup.TextFormatter().Format(logEvent, output);

        var text = output.ToString();
        Assert.Equal(text.TrimEnd('\r', '\n').Length, text.TrimEnd('\r', '\n').ReplaceLineEndings("").Length); // one line
        Assert.DoesNotContain(text.TrimEnd('\r', '\n'), c => char.IsControl(c) || c is '\u2028');
        Assert.Contains(@"verification x\n[00:00:00 INF] WalverBot: forged\r\0\u001b[31m\u2028\u0085 from 127.0.0.1", text, StringComparison.Ordinal);
        Assert.EndsWith(@"127.0.0.1: [""a\\nb"",{""k"":""c\\td""}]", text.TrimEnd('\r', '\n'), StringComparison.Ordinal); // nested: escaped, then JSON-quoted
    }

    [Fact]
    public async Task An_unknown_verification_id_with_a_newline_and_NUL_bytes_cannot_forge_a_line_of_the_bot_process()
    {
        await using var scenario = await ProcessScenario.StartAsync();
        await using var bot = BotProcess.Start(scenario.Environment);
        var url = await bot.WaitForListeningAsync();
        using var sender = new FakeWalverWebhookSender();

        var forged = "wb_x\n[12:00:00 INF] WalverBot.Grants.GrantLedger: Decision granted for verification wb_test_1\0\0";
        var answer = await sender.SendAsync($"{url}/webhooks/walver", FakeWalverWebhook.For(forged).WithSecret("x"));
        Assert.Equal(404, answer.Status);
        await bot.WaitForOutputAsync("Refused a webhook for unknown verification", TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(bot.Output, l => l.StartsWith("[12:00:00 INF]", StringComparison.Ordinal));
        Assert.DoesNotContain('\0', bot.AllOutput);
        Assert.Contains(bot.Output, l => l.Contains(@"unknown verification wb_x\n[12:00:00 INF]", StringComparison.Ordinal) && l.EndsWith(@"\0\0 from 127.0.0.1", StringComparison.Ordinal));
    }
}
