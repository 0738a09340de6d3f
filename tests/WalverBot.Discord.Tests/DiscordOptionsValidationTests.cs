using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Gateway;

namespace WalverBot.Discord.Tests;

/// <summary>The client validates its own options when the host starts (<c>ValidateOnStart</c> inside <c>AddDiscord</c>).</summary>
public class DiscordOptionsValidationTests
{
    private static IReadOnlyList<string> StartupFailures(Action<DiscordOptions> discord, Action<DiscordGatewayOptions>? gateway = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<DiscordOptions>().Configure(discord);
        services.AddDiscord(gateway ?? (_ => { }));
        using var provider = services.BuildServiceProvider();
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
        catch (AggregateException ex)
        {
            return [.. ex.InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures)];
        }
    }

    [Fact]
    public void Valid_options_pass_and_the_defaults_name_the_library_not_an_application()
    {
        Assert.Empty(StartupFailures(o => o.Token = "MTE2.token.xyz"));

        var defaults = new DiscordGatewayOptions();
        Assert.Equal(GatewayIntents.Guilds, defaults.Intents);
        Assert.Equal("WalverBot.Discord", defaults.Browser);
        Assert.Equal("WalverBot.Discord", defaults.Device);
        Assert.False(string.IsNullOrEmpty(defaults.Os));
    }

    [Theory]
    [InlineData("", null, null, "Discord:Token is required: set the environment variable Discord__Token")]
    [InlineData("Bot MTE2.token.xyz", null, null, "Discord:Token is malformed")]
    [InlineData("MTE2.token.xyz", "discord.com/api", null, "Discord:ApiBaseUrl must be an absolute URL")]
    [InlineData("MTE2.token.xyz", null, 0, "Discord:ShardCount must be at least 1 when set")]
    public void A_bad_client_setting_fails_the_start_with_a_line_naming_the_key(string token, string? apiBaseUrl, int? shardCount, string expected)
    {
        var failures = StartupFailures(o =>
        {
            o.Token = token;
            o.ApiBaseUrl = apiBaseUrl ?? o.ApiBaseUrl;
            o.ShardCount = shardCount;
        });

        Assert.Contains(failures, f => f.StartsWith(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("MTE2.token.xyz", StringComparison.Ordinal));
    }

    [Fact]
    public void Shard_ids_outside_the_shard_count_fail_the_start()
    {
        var failures = StartupFailures(o => { o.Token = "MTE2.token.xyz"; o.ShardCount = 2; o.ShardIds = [2]; });

        Assert.Equal(["Discord:ShardIds must be between 0 and Discord:ShardCount - 1"], failures);
    }

    [Fact]
    public void Undefined_intent_bits_and_empty_identify_properties_fail_the_start()
    {
        var failures = StartupFailures(o => o.Token = "MTE2.token.xyz", g =>
        {
            g.Intents = (GatewayIntents)(1 << 30);
            g.Browser = " ";
        });

        Assert.Contains(failures, f => f.Contains("intents", StringComparison.Ordinal) && f.Contains("4013", StringComparison.Ordinal));
        Assert.Contains("Discord gateway IDENTIFY property browser must not be empty", failures);
    }
}
