using Microsoft.Extensions.Options;
using WalverBot.Chains;

namespace WalverBot.SolanaRealTime;

/// <summary>
/// <c>Chains:solana:WsUrl</c>: Solana's PubSub WebSocket endpoint. Read by hand, like <see cref="ChainsOptions"/>, so a bad
/// value is one line naming the key and never echoes the URL (providers put the API key in it).
/// </summary>
public sealed class SolanaSubscriptionOptions
{
    public const string Chain = "solana";
    public const string Key = "Chains:solana:WsUrl";

    /// <summary>Null when real time is off: roles follow the scheduled re-check only.</summary>
    public Uri? WsUrl { get; private set; }

    /// <summary>Scheme and host only, for logs, <c>check</c> and metrics.</summary>
    public string SafeName => WsUrl is null ? "" : RpcEndpointNames.Describe(WsUrl);

    public List<string> Problems { get; } = [];

    public static void Read(IConfiguration configuration, SolanaSubscriptionOptions options)
    {
        var section = configuration.GetSection(ChainsOptions.SectionName).GetChildren()
            .FirstOrDefault(c => string.Equals(c.Key, Chain, StringComparison.OrdinalIgnoreCase));
        var text = section?["WsUrl"];
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("ws" or "wss") || string.IsNullOrEmpty(url.Host))
        {
            options.Problems.Add($"{Key} must be an absolute ws:// or wss:// URL such as wss://mainnet.example-rpc.com/<key>");
            return;
        }

        // The subscriber finds the token accounts to watch with getTokenAccountsByOwner, which is HTTP JSON-RPC.
        if (string.IsNullOrWhiteSpace(section!["RpcUrl"]))
        {
            options.Problems.Add($"{Key} needs Chains:solana:RpcUrl too: token accounts are found and re-read over JSON-RPC");
            return;
        }

        options.WsUrl = url;
    }
}

internal sealed class SolanaSubscriptionOptionsValidator : IValidateOptions<SolanaSubscriptionOptions>
{
    public ValidateOptionsResult Validate(string? name, SolanaSubscriptionOptions options) =>
        options.Problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Problems);
}

/// <summary>Timings of the subscriber; fixed in code, shortened by tests.</summary>
public sealed class SolanaSubscriptionTuning
{
    /// <summary>How often the linked wallets are read again from the database (wallets linked, unlinked, verifications changed).</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a wallet with no token account of the mint is asked again whether it has one now.</summary>
    public TimeSpan EmptyOwnerRefresh { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>WebSocket ping interval; a pong missing this long after a ping drops the connection (a zombie socket).</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);
}
