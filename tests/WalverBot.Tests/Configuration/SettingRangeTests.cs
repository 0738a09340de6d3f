using Microsoft.Extensions.Options;

namespace WalverBot.Tests.Configuration;

/// <summary>Values of the right type but outside what the bot can use, refused by the options validators at start.</summary>
public sealed class SettingRangeTests
{
    private static IReadOnlyList<string> FailuresOf(params string[] settings)
    {
        var database = Path.Combine(Path.GetTempPath(), $"walverbot-ranges-{Guid.NewGuid():N}", "bot.db");
        try
        {
            // Building the pipeline may already read the database options; Main reports both the same way.
            using var app = Program.BuildApp(
                ["--Discord:Token=range-test-token", "--Discord:ApiBaseUrl=http://127.0.0.1:1/api/v10", $"--ConnectionStrings:WalverBot=Data Source={database}", .. settings.Select(s => "--" + s)]);
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
        catch (AggregateException ex)
        {
            return [.. ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)];
        }
    }

    [Theory]
    [InlineData("Grants:PendingTtl=10675199.00:00:00", "Grants:PendingTtl must be a positive time span of at most 3650.00:00:00")] // now + span: past year 9999
    [InlineData("Grants:RetryFor=3651.00:00:00", "Grants:RetryFor must be a positive time span of at most 3650.00:00:00")]
    [InlineData("Storage:EventRetentionDays=2147483647", "Storage:EventRetentionDays must be at most 36500")] // TimeSpan.FromDays overflows
    [InlineData("Storage:BusyTimeout=-00:00:01", "Storage:BusyTimeout must be more than 0 and at most 00:00:04")]
    [InlineData("Storage:StartupWait=01:00:01", "Storage:StartupWait must be between 00:00:00 (give up at once) and 01:00:00")]
    [InlineData("Walver:ApiKey=key-with-a-line-break\n", "Walver:ApiKey is malformed")] // an HTTP header value cannot hold one
    [InlineData("Discord:CommandGuildIds:0=0", "Discord:CommandGuildIds:0 must be a Discord id")]
    [InlineData("Walver:BaseUrl=ftp://walver.io", "Walver:BaseUrl must be an absolute http(s) URL")]
    [InlineData("Rechecks:MaxRemovalFraction=0", "Rechecks:MaxRemovalFraction must be a number above 0 and at most 1")]
    [InlineData("Rechecks:MaxRemovalFraction=1.5", "Rechecks:MaxRemovalFraction must be a number above 0 and at most 1")]
    [InlineData("Rechecks:Interval=00:00:10", "Rechecks:Interval must be a time span of at least one minute")]
    [InlineData("Rechecks:Grace=-01:00:00", "Rechecks:Grace must be a time span of at least zero")]
    public void An_unusable_value_is_named(string setting, string expected)
    {
        var failure = Assert.Single(FailuresOf(setting));

        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_solana_token_address_must_be_a_32_byte_base58_key()
    {
        string[] declared = ["Verifications:0:Id=wb_sol", "Verifications:0:GuildId=1100000000000000001", "Verifications:0:RoleId=1100000000000000002", "Verifications:0:Secret=s", "Verifications:0:Chain=solana"];

        Assert.Empty(FailuresOf([.. declared, "Verifications:0:TokenAddress=EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"])); // USDC's mint
        var failure = Assert.Single(FailuresOf([.. declared, "Verifications:0:TokenAddress=0x1111111111111111111111111111111111111111"]));
        Assert.StartsWith("Verifications:0:TokenAddress must be a mint address on solana", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blank_Walver_key_is_unset_not_malformed() => Assert.Empty(FailuresOf("Walver:ApiKey= "));
}
