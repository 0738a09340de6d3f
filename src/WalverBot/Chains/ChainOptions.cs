using System.Globalization;
using Microsoft.Extensions.Options;
using WalverBot.Verifications;

namespace WalverBot.Chains;

/// <summary>One chain's JSON-RPC endpoint, from <c>Chains:{chain}:*</c>.</summary>
public sealed record ChainEndpoint(string Chain, Uri RpcUrl, int RequestsPerSecond)
{
    /// <summary>Scheme and host only: providers such as Infura and Alchemy put the API key in the path or the query.</summary>
    public string SafeName => RpcEndpointNames.Describe(RpcUrl);
}

/// <summary>
/// The <c>Chains</c> section. Read by hand rather than bound, so a malformed value becomes one line naming the key
/// (the binder would stop with its own exception) and keys of other features under a chain (e.g. a WebSocket URL)
/// are left alone.
/// </summary>
public sealed class ChainsOptions
{
    public const string SectionName = "Chains";
    public const int DefaultRequestsPerSecond = 10;

    /// <summary>Chains with an RpcUrl, by lower-case name.</summary>
    public Dictionary<string, ChainEndpoint> Endpoints { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What is wrong with the section, one line per key; reported on start by <see cref="ChainsOptionsValidator"/>.</summary>
    public List<string> Problems { get; } = [];

    public bool TryGet(string? chain, out ChainEndpoint endpoint)
    {
        endpoint = null!;
        return chain is not null && Endpoints.TryGetValue(chain, out endpoint!);
    }

    public static void Read(IConfiguration configuration, ChainsOptions options)
    {
        foreach (var section in configuration.GetSection(SectionName).GetChildren())
        {
            var key = $"{SectionName}:{section.Key}";
            if (!KnownChains.IsKnown(section.Key))
            {
                options.Problems.Add($"{key} is not a chain WalverBot reads; use one of {string.Join(", ", KnownChains.All)}");
                continue;
            }

            if (!string.IsNullOrWhiteSpace(section.Value) && !section.GetChildren().Any())
            {
                options.Problems.Add($"{key} is a group of settings ({key}:RpcUrl, {key}:RequestsPerSecond), not a single value");
                continue;
            }

            var rate = DefaultRequestsPerSecond;
            var rateText = section["RequestsPerSecond"];
            if (!string.IsNullOrWhiteSpace(rateText) &&
                (!int.TryParse(rateText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out rate) || rate <= 0))
            {
                options.Problems.Add($"{key}:RequestsPerSecond must be a whole number above 0, e.g. {DefaultRequestsPerSecond}");
                continue;
            }

            var url = section["RpcUrl"];
            if (string.IsNullOrWhiteSpace(url))
            {
                continue; // no endpoint: that chain's verifications are not re-checked (warned at start)
            }

            // Never echo the value: RPC URLs usually carry an API key.
            if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            {
                options.Problems.Add($"{key}:RpcUrl must be an absolute http(s) URL such as https://mainnet.example-rpc.com/v3/<key>");
                continue;
            }

            var name = section.Key.ToLowerInvariant();
            options.Endpoints[name] = new ChainEndpoint(name, uri, rate);
        }
    }
}

internal sealed class ChainsOptionsValidator : IValidateOptions<ChainsOptions>
{
    public ValidateOptionsResult Validate(string? name, ChainsOptions options) =>
        options.Problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Problems);
}

/// <summary>How the readers chunk and retry; fixed in code (measured in docs/benchmarks.md), changed by tests.</summary>
public sealed class ChainReadTuning
{
    /// <summary>Wallets per Multicall3 <c>aggregate3</c> eth_call.</summary>
    public int EvmWalletsPerCall { get; set; } = 1000;

    /// <summary>Requests per Solana JSON-RPC batch (one request per wallet).</summary>
    public int SolanaWalletsPerBatch { get; set; } = 100;

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxRetries { get; set; } = 3;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(16);

    /// <summary>Requests waiting for the rate limit before more are refused.</summary>
    public int RateLimitQueue { get; set; } = 10_000;
}

public static class RpcEndpointNames
{
    /// <summary>"https://host" (with a port when it is not the scheme's default): what logs and messages may show.</summary>
    public static string Describe(Uri url) =>
        url.IsDefaultPort ? $"{url.Scheme}://{url.Host}" : $"{url.Scheme}://{url.Host}:{url.Port}";
}
