using System.Globalization;
using Microsoft.Extensions.Options;
using WalverBot.Verifications;

namespace WalverBot.Following;

/// <summary>How one EVM chain's transfer follower runs, from <c>Chains:{chain}:WsUrl</c>, <c>:Confirmations</c> and <c>:MaxBlockRange</c>.</summary>
public sealed record FollowerChain(string Chain, Uri? WsUrl, int Confirmations, int MaxBlockRange)
{
    /// <summary>Scheme and host only: providers put the API key in the WebSocket URL's path too.</summary>
    public string? SafeWsName => WsUrl is null ? null : Chains.RpcEndpointNames.Describe(WsUrl);
}

/// <summary>
/// The follower's keys under <c>Chains</c>, read by hand like <see cref="Chains.ChainsOptions"/> so a malformed value is
/// one line naming the key. Only EVM chains are read here: the Solana subscription owns <c>Chains:solana:*</c>.
/// </summary>
public sealed class FollowerOptions
{
    public const int DefaultConfirmations = 2;
    public const int DefaultMaxBlockRange = 2000;
    public const int MaxConfirmations = 1000;

    /// <summary>Every EVM chain with any follower key or an RPC URL, by lower-case name.</summary>
    public Dictionary<string, FollowerChain> Chains { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Problems { get; } = [];

    public FollowerChain For(string chain) =>
        Chains.TryGetValue(chain, out var settings) ? settings : new FollowerChain(chain.ToLowerInvariant(), null, DefaultConfirmations, DefaultMaxBlockRange);

    public static void Read(IConfiguration configuration, FollowerOptions options)
    {
        foreach (var section in configuration.GetSection(WalverBot.Chains.ChainsOptions.SectionName).GetChildren())
        {
            if (!KnownChains.TryGetFamily(section.Key, out var family) || family != ChainFamily.Evm)
            {
                continue; // unknown chains are named by ChainsOptions; Solana's keys by its subscription
            }

            var key = $"Chains:{section.Key}";
            var confirmations = ReadWhole(section, "Confirmations", DefaultConfirmations, 0, MaxConfirmations, key, options.Problems);
            var range = ReadWhole(section, "MaxBlockRange", DefaultMaxBlockRange, 1, 100_000, key, options.Problems);
            Uri? ws = null;
            var wsText = section["WsUrl"];
            if (!string.IsNullOrWhiteSpace(wsText))
            {
                // Never echo the value: WebSocket URLs carry the provider's key like RPC URLs do.
                if (!Uri.TryCreate(wsText.Trim(), UriKind.Absolute, out ws) || ws.Scheme is not ("ws" or "wss") || string.IsNullOrEmpty(ws.Host))
                {
                    options.Problems.Add($"{key}:WsUrl must be an absolute ws(s) URL such as wss://mainnet.example-rpc.com/ws/v3/<key>");
                    ws = null;
                }
                else if (string.IsNullOrWhiteSpace(section["RpcUrl"]))
                {
                    options.Problems.Add($"{key}:WsUrl needs {key}:RpcUrl too: the WebSocket only announces new blocks, logs and balances are read over HTTP");
                    ws = null;
                }
            }

            var name = section.Key.ToLowerInvariant();
            options.Chains[name] = new FollowerChain(name, ws, confirmations ?? DefaultConfirmations, range ?? DefaultMaxBlockRange);
        }
    }

    private static int? ReadWhole(IConfigurationSection section, string name, int fallback, int min, int max, string key, List<string> problems)
    {
        var text = section[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        problems.Add($"{key}:{name} must be a whole number from {min} to {max}, e.g. {fallback}");
        return null;
    }
}

internal sealed class FollowerOptionsValidator : IValidateOptions<FollowerOptions>
{
    public ValidateOptionsResult Validate(string? name, FollowerOptions options) =>
        options.Problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Problems);
}

/// <summary>How the followers poll and reconnect; fixed in code, changed by tests and the benchmark.</summary>
public sealed class FollowerTuning
{
    /// <summary>How often eth_blockNumber is asked without a WebSocket (or while it is down).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>With a live newHeads subscription, the longest wait before asking eth_blockNumber anyway (a missed notification).</summary>
    public TimeSpan SubscribedPollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many processed blocks' hashes (and re-check records) are kept to find a fork point.</summary>
    public int RecentBlocks { get; set; } = 256;

    /// <summary>Up to this many linked wallets on a chain, eth_getLogs is also filtered by their topics (from and to); above, by contract only.</summary>
    public int WalletTopicLimit { get; set; } = 100;

    /// <summary>After an RPC failure or a dropped WebSocket: the first wait, doubled up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);
}
