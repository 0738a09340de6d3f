using Microsoft.Extensions.Configuration;
using WalverBot.Configuration;

namespace WalverBot.Tests.Configuration;

/// <summary>The form of settings, checked on the raw configuration: what passes and what is named.</summary>
public sealed class SettingsCheckTests
{
    private static IReadOnlyList<string> ProblemsOf(params (string Key, string? Value)[] settings) =>
        SettingsCheck.Problems(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void The_shipped_appsettings_json_passes()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json");
        Assert.True(File.Exists(file), file);

        var problems = SettingsCheck.Problems(new ConfigurationBuilder().AddJsonFile(file).Build());

        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Webhook:TrustForwardedHeaders", "True")]
    [InlineData("Security:Signatures", "warn")]
    [InlineData("Discord:ShardCount", "")] // empty leaves a nullable setting unset
    [InlineData("Discord:CommandGuildIds", "")] // an empty JSON array
    [InlineData("Discord:CommandGuildIds:0", "1100000000000000001")]
    [InlineData("Verifications:0:MinAmount", "1.5")]
    [InlineData("Grants:PendingTtl", "7")] // seven days, as .NET reads a time span
    [InlineData("Logging:Format", "JSON")]
    [InlineData("Serilog:MinimumLevel:Default", "warning")]
    [InlineData("Urls", "http://+:8080;https://*:8443")]
    [InlineData("Urls", "http://[::]:8080")]
    [InlineData("Urls", "http://localhost:5000/")]
    [InlineData("Kestrel:Certificates:Default:Path", "config/appsettings.json")] // relative to the working directory, as Kestrel reads it
    public void A_well_formed_value_passes(string key, string value) => Assert.Empty(ProblemsOf((key, value)));

    [Theory]
    [InlineData("Verifications:0:MinAmount", "1,5", "Verifications:0:MinAmount must be a number with a dot for decimals")] // the binder reads 15
    [InlineData("Verifications:0:MinAmount", "1e3", "Verifications:0:MinAmount must be a number with a dot for decimals")]
    [InlineData("Discord:CommandGuildIds:0", "-1", "Discord:CommandGuildIds:0 must be a Discord id")]
    [InlineData("Webhook:RateLimitPerMinute", "", "Webhook:RateLimitPerMinute must be a whole number, e.g. 600")]
    [InlineData("Webhook:RateLimitPerMinute", "0x10", "Webhook:RateLimitPerMinute must be a whole number, e.g. 600")]
    [InlineData("Security:Signatures", "Enforce,Warn", "Security:Signatures must be one of Enforce, Warn, Off")]
    [InlineData("Urls", "http://0.0.0.0:8080/bot", "Urls (ASPNETCORE_URLS) must be")]
    [InlineData("Urls", "ftp://0.0.0.0:21", "Urls (ASPNETCORE_URLS) must be")]
    [InlineData("Verifications:0", "wb_1", "Verifications:0 is a group of settings (Verifications:0:Id,")]
    public void A_malformed_value_is_named_with_what_the_key_accepts(string key, string value, string expected)
    {
        var problem = Assert.Single(ProblemsOf((key, value)));

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
        if (value.Length > 3)
        {
            Assert.DoesNotContain(value, problem, StringComparison.Ordinal); // values are never echoed: some keys are secrets
        }
    }

    [Fact]
    public void Every_malformed_key_is_named_at_once()
    {
        var problems = ProblemsOf(("Webhook:RateLimitPerMinute", "abc"), ("Grants:PendingTtl", "7days"), ("Discord:ShardIds:1", "x"));

        Assert.Equal(["Discord:ShardIds:1", "Webhook:RateLimitPerMinute", "Grants:PendingTtl"], problems.Select(p => p.Split(' ')[0]));
    }

    [Fact]
    public void The_binders_own_failure_names_the_key_without_the_value()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Future:Count", "secret-looking-value")])
            .Build();
        var failure = Assert.Throws<InvalidOperationException>(() => configuration.GetSection("Future").Get<FutureOptions>());

        Assert.True(StartupErrors.IsBinderFailure(failure));
        Assert.Equal("Future:Count must be a value of type Int32", StartupErrors.BinderFailure(failure.Message));
    }

    [Fact]
    public void The_storage_path_the_connection_string_fills_is_not_a_key_of_its_own()
    {
        Assert.DoesNotContain("Storage:ConnectionString", SettingsCheck.Keys);
        Assert.Contains("ConnectionStrings:WalverBot", SettingsCheck.Keys);
    }

    [Fact]
    public void A_dictionary_of_settings_is_walked_entry_by_entry()
    {
        Assert.Equal(
            ["Limits:PerChain:solana must be a whole number"],
            SettingsCheck.ProblemsOf<DictionaryOptions>("Limits", new ConfigurationBuilder()
                .AddInMemoryCollection([new("Limits:PerChain:ethereum", "10"), new("Limits:PerChain:solana", "ten")])
                .Build()));
    }

    private sealed class DictionaryOptions
    {
        public Dictionary<string, int> PerChain { get; } = [];
    }

    private sealed class FutureOptions
    {
        public int Count { get; set; }
    }
}
