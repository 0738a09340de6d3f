using System.Text.RegularExpressions;
using WalverBot.Configuration;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;

namespace WalverBot.Tests.Configuration;

/// <summary>
/// Every documented key given a bad value: one line naming the key and what it accepts, no secret. Each case goes
/// through the start's checks in this process (the bot built and its settings validated, as <c>Main</c> does before
/// it opens the database; milliseconds each); the cases those checks leave to later steps, and one case of each kind
/// besides, go through the whole start (WalverBot.dll as a process, configured by environment variables as an
/// operator's container is; about a second each): exit code 2, that one line, no stack trace.
/// </summary>
[LongRunning(25)]
public sealed partial class BadSettingsTests
{
    private const string Token = "test-token-not-real-123";
    private const string Secret = "declared-secret-value-456";

    /// <summary>(environment variable, bad value, the key the line must name, a fragment of what the key accepts).</summary>
    public static TheoryData<string, string, string, string> BadValues { get; } = new()
    {
        { "Discord__Token", "Bot not-a-real-token", "Discord:Token", "without spaces" },
        { "Discord__ApiBaseUrl", "discord.com/api/v10", "Discord:ApiBaseUrl", "absolute URL" },
        { "Discord__ShardCount", "x", "Discord:ShardCount", "whole number" },
        { "Discord__ShardIds__0", "x", "Discord:ShardIds:0", "whole number" },
        { "Discord__ShardIds", "1", "Discord:ShardIds", "Discord:ShardIds:0" },
        { "Discord__ShardIds__0", "1", "Discord:ShardCount", "must be set when Discord:ShardIds is" },
        { "Discord__CommandGuildIds__0", "notanid", "Discord:CommandGuildIds:0", "Discord id" },
        { "Discord__GlobalRateLimit", "0", "Discord:GlobalRateLimit", "at least 1" },
        { "Discord__MemberDirectory", "yes", "Discord:MemberDirectory", "true or false" },
        { "Walver__ApiKey", "key with spaces", "Walver:ApiKey", "without spaces" },
        { "Walver__BaseUrl", "walver.io", "Walver:BaseUrl", "absolute http(s) URL" },
        { "Walver__AttemptTimeout", "10s", "Walver:AttemptTimeout", "e.g. 00:00:10" },
        { "Walver__MaxRetries", "two", "Walver:MaxRetries", "whole number" },
        { "Webhook__PublicBaseUrl", "http://bot.example.test", "Webhook:PublicBaseUrl", "https://" },
        { "Webhook__RateLimitPerMinute", "abc", "Webhook:RateLimitPerMinute", "whole number, e.g. 600" },
        { "Webhook__MaxEventAge", "1day", "Webhook:MaxEventAge", "e.g. 1.00:00:00" },
        { "Webhook__TrustForwardedHeaders", "yes", "Webhook:TrustForwardedHeaders", "true or false" },
        { "Webhook__TrustedProxies", "proxy.example", "Webhook:TrustedProxies", "IP addresses or networks" },
        { "Webhook__MaxConnections", "many", "Webhook:MaxConnections", "whole number" },
        { "Webhook__IdleTimeout", "5s", "Webhook:IdleTimeout", "e.g. 00:00:05" },
        { "Urls", "notaurl", "Urls", "http://0.0.0.0:8080" },
        { "Operations__Urls", "metrics-port", "Operations:Urls", "URLs such as http://0.0.0.0:9090" },
        { "ASPNETCORE_URLS", "http://127.0.0.1:99999", "Urls", "port from 0 to 65535" },
        { "ConnectionStrings__WalverBot", "Foo=bar", "ConnectionStrings:WalverBot", "Data Source=" },
        { "Kestrel__Certificates__Default__Path", "/nonexistent/walverbot-cert.pem", "Kestrel:Certificates:Default:Path", "a file this user can read" },
        { "Kestrel__Certificates__Default__KeyPath", "missing-key.pem", "Kestrel:Certificates:Default:KeyPath", "a file this user can read" },
        { "Storage__EventRetentionDays", "thirty", "Storage:EventRetentionDays", "whole number, e.g. 30" },
        { "Storage__BusyTimeout", "10 seconds", "Storage:BusyTimeout", "e.g. 00:00:04" },
        { "Storage__StartupWait", "1min", "Storage:StartupWait", "e.g. 00:01:00" },
        { "Storage__Provider", "mysql", "Storage:Provider", "sqlite (the default) or postgres" },
        // postgres with the SQLite-style connection string of the valid environment.
        { "Storage__Provider", "postgres", "ConnectionStrings:WalverBot", "PostgreSQL connection string such as Host=" },
        { "Grants__PendingTtl", "7days", "Grants:PendingTtl", "e.g. 7.00:00:00" },
        { "Grants__PendingRecheck", "10min", "Grants:PendingRecheck", "e.g. 00:10:00" },
        { "Grants__OneMemberPerWallet", "yes", "Grants:OneMemberPerWallet", "true or false" },
        { "Grants__RetryFor", "1d", "Grants:RetryFor", "e.g. 1.00:00:00" },
        { "Rechecks__Interval", "1day", "Rechecks:Interval", "e.g. 1.00:00:00" },
        { "Rechecks__Grace", "1h", "Rechecks:Grace", "e.g. 01:00:00" },
        { "Rechecks__MaxRemovalFraction", "10%", "Rechecks:MaxRemovalFraction", "a dot for decimals" },
        { "Roles__AllowPrivileged", "yes", "Roles:AllowPrivileged", "true or false" },
        { "Security__Signatures", "Bogus", "Security:Signatures", "Enforce, Warn, Off" },
        { "Security__Signatures", "7", "Security:Signatures", "Enforce, Warn, Off" },
        { "Logging__Format", "jsn", "Logging:Format", "text or json" },
        { "Serilog__MinimumLevel__Default", "loud", "Serilog:MinimumLevel:Default", "Information" },
        { "Serilog__MinimumLevel__Override__Microsoft", "loud", "Serilog:MinimumLevel:Override:Microsoft", "Warning" },
        { "Verifications", "wb_settings", "Verifications", "Verifications:0" },
        { "Verifications__0__Id", "", "Verifications:0:Id", "required" },
        { "Verifications__0__GuildId", "notanid", "Verifications:0:GuildId", "Discord id" },
        { "Verifications__0__RoleId", "role-id", "Verifications:0:RoleId", "Discord id" },
        { "Verifications__0__Secret", "", "Verifications:0:Secret", "required" },
        { "Verifications__0__Chain", "dogecoin", "Verifications:0:Chain", "ethereum" },
        { "Verifications__0__TokenAddress", "0x123", "Verifications:0:TokenAddress", "40 hex digits" },
        { "Verifications__0__MinAmount", "lots", "Verifications:0:MinAmount", "a dot for decimals" },
        { "Verifications__0__Binding", "email", "Verifications:0:Binding", "username or code" },
        { "Verifications__0__Url", "http://walver.example/v/1", "Verifications:0:Url", "https://" },
        { "Verifications__0__TokenStandard", "erc999", "Verifications:0:TokenStandard", "erc20, erc721, erc1155, spl, native" },
        { "Verifications__0__TokenId", "7", "Verifications:0:TokenId", "ERC-1155 gate only" },
        { "Verifications__0__Tiers", "5", "Verifications:0:Tiers", "Verifications:0:Tiers:0" },
        { "Verifications__0__Tiers__0__MinAmount", "1", "Verifications:0:Tiers:0:MinAmount", "above the verification's MinAmount (1.5)" },
        { "Verifications__0__Tiers__0__RoleId", "1100000000000000002", "Verifications:0:Tiers:0:RoleId", "a different role" },
        { "Verifications__0__ReverifyAfter", "90.00:00:00", "Verifications:0:ReverifyAfter", "without a token gate" },
        { "Chains__ethereum__RpcUrl", "mainnet.example-rpc.test/v3/not-a-key", "Chains:ethereum:RpcUrl", "absolute http(s) URL" },
        { "Chains__ethereum__RequestsPerSecond", "0", "Chains:ethereum:RequestsPerSecond", "whole number above 0" },
        { "Chains__dogecoin__RpcUrl", "https://doge.example.test", "Chains:dogecoin", "ethereum" },
        { "Chains__solana__WsUrl", "https://ws.example-rpc.test/not-a-key", "Chains:solana:WsUrl", "ws:// or wss:// URL" },
        { "Chains__ethereum__WsUrl", "https://mainnet.example-rpc.test/ws/not-a-key", "Chains:ethereum:WsUrl", "absolute ws(s) URL" },
        { "Chains__ethereum__Confirmations", "two", "Chains:ethereum:Confirmations", "whole number from 0 to 1000" },
        { "Chains__ethereum__MaxBlockRange", "0", "Chains:ethereum:MaxBlockRange", "whole number from 1 to 100000" },
    };

    /// <summary>A configuration the bot starts with; each case spoils one key of it. Discord is a closed loopback port.</summary>
    private static Dictionary<string, string> ValidEnvironment() => new()
    {
        ["Discord__Token"] = Token,
        ["Discord__ApiBaseUrl"] = "http://127.0.0.1:1/api/v10",
        ["ConnectionStrings__WalverBot"] = $"Data Source={Path.Combine(Path.GetTempPath(), $"walverbot-settings-{Guid.NewGuid():N}", "bot.db")}",
        ["Urls"] = "http://127.0.0.1:0",
        ["Webhook__PublicBaseUrl"] = "https://bot.example.test",
        ["Verifications__0__Id"] = "wb_settings",
        ["Verifications__0__GuildId"] = "1100000000000000001",
        ["Verifications__0__RoleId"] = "1100000000000000002",
        ["Verifications__0__Secret"] = Secret,
        ["Verifications__0__Chain"] = "ethereum",
        ["Verifications__0__TokenAddress"] = "0x1111111111111111111111111111111111111111",
        ["Verifications__0__MinAmount"] = "1.5",
        ["Verifications__0__Tiers__0__MinAmount"] = "100",
        ["Verifications__0__Tiers__0__RoleId"] = "1100000000000000003",
        ["Verifications__0__Binding"] = "username",
        ["DOTNET_gcServer"] = "0",
    };

    /// <summary>
    /// The cases run as a process: one per kind of key (a secret, an address read from ASPNETCORE_URLS, a logging
    /// level, a certificate file, a declared verification, an RPC URL that may carry a key, the database), to show
    /// the whole start prints the checks' line; and any case the in-process checks leave to later steps of the start.
    /// </summary>
    private static readonly HashSet<string> ThroughTheProcess = new(StringComparer.Ordinal)
    {
        "Discord__Token", "ASPNETCORE_URLS", "Serilog__MinimumLevel__Default", "Kestrel__Certificates__Default__Path",
        "Verifications__0__Secret", "Chains__ethereum__RpcUrl", "ConnectionStrings__WalverBot",
    };

    public static TheoryData<string, string, string, string> ProcessCases { get; } = Subset(BadValues, row => ThroughTheProcess.Contains((string)row[0]));

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task The_start_names_a_bad_value_in_one_line_saying_what_the_key_accepts(string variable, string value, string key, string accepts)
    {
        var problems = await CheckedStartAsync(Spoil(variable, value));

        if (problems.Count == 0)
        {
            Assert.True(ThroughTheProcess.Contains(variable), $"building and validating the bot lets {variable}={value} through: add {variable} to ThroughTheProcess so the whole start shows who catches it");
            return;
        }

        var line = Assert.Single(problems);
        Assert.StartsWith("WalverBot cannot start: " + key + " ", line, StringComparison.Ordinal);
        Assert.Contains(accepts, line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain(Token, line, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, line, StringComparison.Ordinal);
        if (key is "Discord:Token" or "Walver:ApiKey")
        {
            Assert.DoesNotContain(value, line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(ProcessCases))]
    public async Task A_bad_value_stops_the_start_with_one_line_naming_the_key(string variable, string value, string key, string accepts)
    {
        var (exitCode, output) = await BotProcess.RunAsync(Spoil(variable, value), TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("WalverBot cannot start: " + key + " ", line, StringComparison.Ordinal);
        Assert.Contains(accepts, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
        if (key is "Discord:Token" or "Walver:ApiKey")
        {
            Assert.DoesNotContain(value, output, StringComparison.Ordinal);
        }
    }

    /// <summary>The valid environment with one variable spoiled.</summary>
    private static Dictionary<string, string> Spoil(string variable, string value)
    {
        var environment = ValidEnvironment();
        foreach (var spoiled in environment.Keys.Where(k => k.StartsWith(variable + "__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(spoiled); // a list given as one value: no items beside it
        }

        if (variable == "ASPNETCORE_URLS")
        {
            environment.Remove("Urls"); // Urls would win over ASPNETCORE_URLS
        }

        environment[variable] = value;
        return environment;
    }

    /// <summary>
    /// What the start prints for these settings before it opens the database: the bot built (the settings check) and
    /// its options validated, the lines mapped as <c>Main</c> maps them. The variables become command-line arguments
    /// as the environment provider reads them (ASPNETCORE_ without its prefix, __ as :).
    /// </summary>
    private static async Task<IReadOnlyList<string>> CheckedStartAsync(Dictionary<string, string> environment)
    {
        var arguments = environment
            .Where(p => !p.Key.StartsWith("DOTNET_", StringComparison.Ordinal))
            .Select(p => (p.Key.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ? p.Key["ASPNETCORE_".Length..] : p.Key).Replace("__", ":", StringComparison.Ordinal) + "=" + p.Value)
            .Select(p => "--" + p)
            .ToArray();
        try
        {
            await using var app = Program.BuildApp(arguments);
            app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
            return [];
        }
        catch (Exception ex) when (StartupErrors.Lines(ex) is { } lines)
        {
            return lines;
        }
    }

    private static TheoryData<string, string, string, string> Subset(TheoryData<string, string, string, string> all, Func<object[], bool> keep)
    {
        var subset = new TheoryData<string, string, string, string>();
        foreach (var row in all.Where(keep))
        {
            subset.Add((string)row[0], (string)row[1], (string)row[2], (string)row[3]);
        }

        return subset;
    }

    /// <summary>A PostgreSQL store that cannot be used: the start says so in one line, never with the password.</summary>
    [Theory]
    [InlineData("Hots=db.example.test;Password=pg-password-not-echoed-789", "ConnectionStrings:WalverBot must be a PostgreSQL connection string")]
    [InlineData("Host=127.0.0.1;Port=1;Database=walverbot;Username=bot;Password=pg-password-not-echoed-789;Timeout=2", "cannot open the PostgreSQL database '127.0.0.1:1/walverbot'")]
    public async Task A_postgres_store_that_cannot_be_used_stops_the_start_without_echoing_the_password(string connectionString, string says)
    {
        var environment = ValidEnvironment();
        environment["Storage__Provider"] = "postgres";
        environment["ConnectionStrings__WalverBot"] = connectionString;
        // No server answers on port 1: give up at once rather than wait a minute for one to start (PostgresStartupTests).
        environment["Storage__StartupWait"] = "00:00:00";

        var (exitCode, output) = await BotProcess.RunAsync(environment, TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(says, output, StringComparison.Ordinal);
        Assert.DoesNotContain("pg-password-not-echoed-789", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_key_of_the_README_configuration_table_has_a_bad_value_case()
    {
        var tested = BadValues.Select(row => (string)row[2]).ToHashSet(StringComparer.Ordinal);
        // A list key counts as tested through its first item (Discord:CommandGuildIds:0).
        var missing = DocumentedKeys().Select(Sample).Where(key => !tested.Contains(key) && !tested.Contains(key + ":0")).ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void Every_key_the_bot_reads_is_in_the_README_configuration_table()
    {
        var documented = DocumentedKeys();
        var verificationFields = VerificationFields();
        var missing = SettingsCheck.Keys
            .Where(key => key.StartsWith("Verifications:{i}:", StringComparison.Ordinal)
                ? !verificationFields.Contains(key["Verifications:{i}:".Length..]) && !documented.Contains(key)
                : !documented.Contains(key))
            .ToList();

        Assert.Contains("Storage:BusyTimeout", SettingsCheck.Keys);
        Assert.Contains("Verifications:{i}:GuildId", SettingsCheck.Keys);
        Assert.Empty(missing);
    }

    /// <summary>The concrete key a case sets for a documented key: list items as index 0, Serilog overrides for Microsoft.</summary>
    private static string Sample(string key) => key
        .Replace("{i}", "0", StringComparison.Ordinal)
        .Replace("{namespace}", "Microsoft", StringComparison.Ordinal)
        .Replace("{chain}", "ethereum", StringComparison.Ordinal);

    /// <summary>The keys in the first column of README's configuration table, plus each field of a declared verification.</summary>
    internal static HashSet<string> DocumentedKeys()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in ConfigurationTable())
        {
            foreach (Match key in Code().Matches(row.Split('|')[1]))
            {
                keys.Add(key.Groups[1].Value);
            }
        }

        keys.Remove("ASPNETCORE_URLS"); // the environment's name for Urls
        foreach (var field in VerificationFields())
        {
            keys.Add($"Verifications:{{i}}:{field}");
        }

        return keys;
    }

    /// <summary>The fields listed in the Verifications row: <c>{Id, GuildId, RoleId, Secret, Chain?, …}</c>.</summary>
    private static HashSet<string> VerificationFields()
    {
        var row = Assert.Single(ConfigurationTable(), r => r.StartsWith("| `Verifications` |", StringComparison.Ordinal));
        var fields = Fields().Match(row);
        Assert.True(fields.Success, row);
        return fields.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries).Select(f => f.TrimEnd('?')).ToHashSet(StringComparer.Ordinal);
    }

    private static List<string> ConfigurationTable()
    {
        var readme = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md"));
        var start = Array.IndexOf(readme, "## Configuration");
        Assert.True(start >= 0, "README.md has no '## Configuration' section");
        return [.. readme.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))];
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "WalverBot.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("WalverBot.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"list of `\{([^}]+)\}`")]
    private static partial Regex Fields();
}
