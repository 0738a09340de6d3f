using System.Text.Json;
using System.Text.RegularExpressions;
using WalverBot.Configuration;
using WalverBot.Testing.Chains;
using WalverBot.Testing.Http;
using WalverBot.Tests.Hosting;
using WalverBot.Tests.Operations;
using YamlDotNet.RepresentationModel;

namespace WalverBot.Tests.Deployment;

/// <summary>
/// deploy/: the two-instance example (compose, Caddy, Prometheus, Grafana). There is no Docker engine here, so the
/// compose file is never run: these tests read the files and hold them to what the bot knows and serves.
/// </summary>
public sealed partial class DeploymentExampleTests
{
    private static readonly string Deploy = Path.Combine(ChainHarness.RepositoryRoot(), "deploy");

    [Fact]
    public void The_compose_file_not_run_here_is_valid_YAML_naming_the_services_and_sets_only_keys_the_bot_knows()
    {
        var services = Services();

        Assert.Equal(["caddy", "grafana", "postgres", "prometheus", "walverbot-0", "walverbot-1"], services.Keys.Order(StringComparer.Ordinal));
        foreach (var bot in new[] { "walverbot-0", "walverbot-1" })
        {
            var unknown = Environment(services[bot]).Keys.Select(ConfigurationKey).Where(key => !IsKnown(key)).ToList();
            Assert.True(unknown.Count == 0, $"{bot} sets keys the bot does not read: {string.Join(", ", unknown)}");
        }
    }

    [Fact]
    public void The_two_instances_split_the_shards_share_Discords_global_limit_and_trust_only_the_proxy()
    {
        var services = Services();
        var first = Environment(services["walverbot-0"]);
        var second = Environment(services["walverbot-1"]);

        Assert.Equal(first["Discord__ShardCount"], second["Discord__ShardCount"]);
        var count = int.Parse(first["Discord__ShardCount"], System.Globalization.CultureInfo.InvariantCulture);
        int[] shards = [.. ShardIds(first), .. ShardIds(second)];
        Assert.Equal(Enumerable.Range(0, count), shards.Order());
        // Discord's global limit (50 requests/s) is per bot token, so the instances' shares add up to at most 50.
        Assert.InRange(new[] { first, second }.Sum(e => int.Parse(e["Discord__GlobalRateLimit"], System.Globalization.CultureInfo.InvariantCulture)), 1, 50);
        Assert.Equal("postgres", first["Storage__Provider"]);
        Assert.Equal(first["ConnectionStrings__WalverBot"], second["ConnectionStrings__WalverBot"]);
        // Secrets are substituted by compose from deploy/.env, never written in the file.
        Assert.Contains("Password=${POSTGRES_PASSWORD", first["ConnectionStrings__WalverBot"], StringComparison.Ordinal);
        Assert.StartsWith("${DISCORD_TOKEN", first["Discord__Token"], StringComparison.Ordinal);

        var caddyAddress = ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)services["caddy"]["networks"])["walverbot"])["ipv4_address"]).Value;
        Assert.All(new[] { first, second }, e => Assert.Equal(caddyAddress, e["Webhook__TrustedProxies__0"]));
    }

    [Fact]
    public void Caddy_proxies_the_webhook_to_both_instances_and_Prometheus_scrapes_both_on_their_operations_port()
    {
        var services = Services();
        var operationsPort = new Uri(Environment(services["walverbot-0"])["Operations__Urls"].Replace("0.0.0.0", "host", StringComparison.Ordinal)).Port;
        var caddyfile = File.ReadAllText(Path.Combine(Deploy, "Caddyfile"));
        var prometheus = new YamlStream();
        prometheus.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "prometheus.yml"))));

        Assert.Contains("handle /webhooks/walver", caddyfile, StringComparison.Ordinal);
        Assert.Matches(@"reverse_proxy walverbot-0:8080 walverbot-1:8080", caddyfile);
        var targets = ((YamlSequenceNode)prometheus.Documents[0].RootNode["scrape_configs"][0]["static_configs"][0]["targets"]).Select(t => ((YamlScalarNode)t).Value);
        Assert.Equal([$"walverbot-0:{operationsPort}", $"walverbot-1:{operationsPort}"], targets);
        Assert.True(File.Exists(Path.Combine(Deploy, "grafana", "provisioning", "datasources", "prometheus.yml")));
        Assert.Contains("path: /var/lib/grafana/dashboards", File.ReadAllText(Path.Combine(Deploy, "grafana", "provisioning", "dashboards", "walverbot.yml")), StringComparison.Ordinal);
        Assert.Contains(((YamlSequenceNode)services["grafana"]["volumes"]).Select(v => ((YamlScalarNode)v).Value),
            v => v == "./grafana/walverbot.json:/var/lib/grafana/dashboards/walverbot.json:ro");
    }

    [Fact]
    public void Metric_names_are_read_from_PromQL_without_functions_labels_or_ranges()
    {
        Assert.Equal(["walverbot_grant_latency_seconds_bucket"],
            MetricNames("histogram_quantile(0.99, sum by (le) (rate(walverbot_grant_latency_seconds_bucket{instance=~\"a.*\"}[$__rate_interval])))"));
        Assert.Equal(["walverbot_inbox_backlog", "walverbot_inbox_retrying"], MetricNames("max(walverbot_inbox_backlog) or max without (job) (walverbot_inbox_retrying)"));
    }

    [Fact]
    public async Task Every_metric_the_Grafana_dashboard_queries_is_served_on_metrics_by_the_real_bot()
    {
        var names = DashboardExpressions().SelectMany(MetricNames).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Assert.Superset(
            new HashSet<string>(["walverbot_webhooks_total", "walverbot_grants_total", "walverbot_decisions_total", "walverbot_inbox_backlog",
                "walverbot_discord_rest_rate_limited_total", "walverbot_gateway_ready"]),
            names.ToHashSet());

        await using var bot = await BotScenario.StartAsync();
        // Counters appear once counted: one 429, one grant, one malformed delivery, one member not in the server.
        bot.Discord.InjectFault("PUT", "/guilds/*/members/*/roles/*", FakeFault.RateLimited(0.05), times: 1);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook())).Status);
        Assert.Equal(400, (await bot.Sender.SendRawAsync(bot.WebhookUrl, "{")).Status);
        Assert.Equal(200, (await bot.SendAsync(bot.Webhook("nobody-here"))).Status);

        await MetricsTests.WaitForMetricsAsync(bot, [.. names.Select(name => MetricsTests.Series(name, "", @"\S+"))]);
    }

    private static IEnumerable<string> DashboardExpressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "walverbot.json")));
        var expressions = new List<string>();
        Collect(dashboard.RootElement);
        Assert.NotEmpty(expressions);
        return expressions;

        void Collect(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                        {
                            expressions.Add(property.Value.GetString()!);
                        }
                        else
                        {
                            Collect(property.Value);
                        }
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Collect(item);
                    }

                    break;
            }
        }
    }

    /// <summary>The metric names in a PromQL expression: identifiers left once label matchers, ranges, strings, grouping and function calls are set aside.</summary>
    internal static List<string> MetricNames(string expression)
    {
        var bare = SetAside().Replace(expression, " ");
        bare = Grouping().Replace(bare, " ");
        return [.. Identifier().Matches(bare).Select(m => m.Value).Where(word => !Keywords.Contains(word)).Distinct(StringComparer.Ordinal)];
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "and", "or", "unless", "offset", "bool" };

    [GeneratedRegex("""\{[^}]*\}|\[[^\]]*\]|"[^"]*"|\b\d+(\.\d+)?\b""")]
    private static partial Regex SetAside();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\b[a-zA-Z_][a-zA-Z0-9_]*\b(?!\s*\()")]
    private static partial Regex Identifier();

    private static YamlMappingNode Root()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "compose.yaml"))));
        return (YamlMappingNode)yaml.Documents.Single().RootNode;
    }

    private static Dictionary<string, YamlMappingNode> Services() =>
        ((YamlMappingNode)Root()["services"]).Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => (YamlMappingNode)e.Value, StringComparer.Ordinal);

    private static Dictionary<string, string> Environment(YamlMappingNode service) =>
        ((YamlMappingNode)service["environment"]).Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value ?? "", StringComparer.Ordinal);

    private static IEnumerable<int> ShardIds(Dictionary<string, string> environment) =>
        environment.Where(e => e.Key.StartsWith("Discord__ShardIds__", StringComparison.Ordinal)).Select(e => int.Parse(e.Value, System.Globalization.CultureInfo.InvariantCulture));

    private static string ConfigurationKey(string environmentVariable) => environmentVariable.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>
    /// A key the bot reads: one SettingsCheck walks or one in the README's configuration table (some, such as
    /// Operations:Urls, are read straight from configuration), with {i}, {name}… as any index or name, or an item of a list key.
    /// </summary>
    private static bool IsKnown(string key) =>
        SettingsCheck.Keys.Concat(Configuration.BadSettingsTests.DocumentedKeys()).Any(pattern => Matches(pattern.Split(':'), key.Split(':')));

    private static bool Matches(string[] pattern, string[] key)
    {
        if (key.Length == pattern.Length + 1 && key[^1].All(char.IsAsciiDigit))
        {
            key = key[..^1]; // an item of a list of scalars, e.g. Discord:ShardIds:0
        }

        return key.Length == pattern.Length && pattern.Zip(key).All(p =>
            p.First == "{i}" ? p.Second.All(char.IsAsciiDigit)
            : p.First.StartsWith('{') || string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));
    }
}
