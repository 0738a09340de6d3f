using System.Diagnostics;

namespace WalverBot.Tests.EndToEnd;

/// <summary>The bot as an operator starts it: a real process, configured by environment variables.</summary>
public sealed class StartupTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunBotAsync(IDictionary<string, string> environment)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "WalverBot.dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory.CreateTempSubdirectory("walverbot-start").FullName,
        };
        start.Environment.Remove("Discord__Token");
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Without_a_token_the_bot_names_the_key_in_one_line_and_exits_non_zero()
    {
        var (exitCode, output, error) = await RunBotAsync(new Dictionary<string, string> { ["Urls"] = "http://127.0.0.1:0" });

        Assert.Equal(2, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Discord:Token", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_value_is_named_without_echoing_secrets()
    {
        var (exitCode, _, error) = await RunBotAsync(new Dictionary<string, string>
        {
            ["Discord__Token"] = "test-token-value-not-real",
            ["Webhook__PublicBaseUrl"] = "http://insecure.example",
            ["Verifications__0__Id"] = "wb_1",
            ["Verifications__0__Secret"] = "very-secret-value",
            ["Urls"] = "http://127.0.0.1:0",
        });

        Assert.Equal(2, exitCode);
        Assert.Contains("Webhook:PublicBaseUrl", error, StringComparison.Ordinal);
        Assert.Contains("Verifications:0:GuildId", error, StringComparison.Ordinal);
        Assert.DoesNotContain("test-token-value-not-real", error, StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-value", error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error, StringComparison.Ordinal);
    }
}
