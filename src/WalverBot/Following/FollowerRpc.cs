using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using WalverBot.Chains;

namespace WalverBot.Following;

/// <summary>A token transfer log, decoded: which contract, from and to which address (lower-case), in which block.</summary>
public sealed record TransferLog(ulong Block, string BlockHash, string Contract, string From, string To, bool Removed);

/// <summary>The contracts to follow, and the wallets to filter by (topics) when there are few enough of them.</summary>
public sealed record LogFilter(IReadOnlyList<string> Erc20Or721Contracts, IReadOnlyList<string> Erc1155Contracts, IReadOnlyList<string>? Wallets);

/// <summary>What the follower asks an EVM node. Behind an interface so the reorg walk-back is unit-tested on a scripted chain.</summary>
public interface IFollowerRpc
{
    Task<ulong> HeadAsync(CancellationToken cancellationToken);

    /// <summary>The hashes of the given blocks, in order; null for a block the node does not have (yet).</summary>
    Task<IReadOnlyList<string?>> BlockHashesAsync(IReadOnlyList<ulong> numbers, CancellationToken cancellationToken);

    /// <summary>Transfer logs of the filter's contracts in blocks <paramref name="from"/>..<paramref name="to"/> (inclusive).</summary>
    Task<IReadOnlyList<TransferLog>> LogsAsync(ulong from, ulong to, LogFilter filter, CancellationToken cancellationToken);
}

/// <summary>The event topics (keccak-256 of the signatures) of ERC-20/721 <c>Transfer</c> and ERC-1155 <c>TransferSingle</c>/<c>TransferBatch</c>.</summary>
public static class TransferTopics
{
    /// <summary>Transfer(address indexed from, address indexed to, uint256 value|tokenId): EIP-20 and EIP-721 share it.</summary>
    public const string Transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    /// <summary>TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value) (EIP-1155).</summary>
    public const string TransferSingle = "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62";

    /// <summary>TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values) (EIP-1155).</summary>
    public const string TransferBatch = "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb";

    /// <summary>An address as an indexed topic: left-padded to 32 bytes (Solidity ABI spec, "indexed" event arguments).</summary>
    public static string AddressTopic(string address) => "0x000000000000000000000000" + address[2..].ToLowerInvariant();

    /// <summary>From and to of a transfer log, or null when it is not one (another event, or a malformed topic list).</summary>
    public static (string From, string To)? Decode(IReadOnlyList<string> topics)
    {
        if (topics.Count == 0)
        {
            return null;
        }

        var first = topics[0].ToLowerInvariant();
        return first switch
        {
            // ERC-20 has 3 topics (value in data), ERC-721 has 4 (tokenId indexed too): from and to are topics 1 and 2 in both.
            Transfer when topics.Count >= 3 => (Address(topics[1]), Address(topics[2])),
            // ERC-1155: topic 1 is the operator; from and to are topics 2 and 3.
            TransferSingle or TransferBatch when topics.Count >= 4 => (Address(topics[2]), Address(topics[3])),
            _ => null,
        };
    }

    private static string Address(string topic) => topic.Length == 66 ? "0x" + topic[26..].ToLowerInvariant() : "";
}

/// <summary>The follower's JSON-RPC calls on one chain, through the chain's rate-limited, retried <see cref="JsonRpcClient"/>.</summary>
public sealed class EvmFollowerRpc(JsonRpcClient rpc) : IFollowerRpc
{
    private string Chain => rpc.Endpoint.Chain;

    public async Task<ulong> HeadAsync(CancellationToken cancellationToken) =>
        Quantity(await rpc.CallAsync("eth_blockNumber", [], cancellationToken).ConfigureAwait(false), "eth_blockNumber");

    public async Task<IReadOnlyList<string?>> BlockHashesAsync(IReadOnlyList<ulong> numbers, CancellationToken cancellationToken)
    {
        // eth_getBlockByNumber(number, false): the header with transaction hashes only; null for a block not known.
        var calls = numbers.Select(n => new RpcCall("eth_getBlockByNumber", [Hex(n), false])).ToList();
        var results = calls.Count == 1
            ? [await rpc.CallAsync(calls[0].Method, calls[0].Params, cancellationToken).ConfigureAwait(false)]
            : await rpc.BatchAsync(calls, cancellationToken).ConfigureAwait(false);
        return [.. results.Select(r => r.ValueKind == JsonValueKind.Object && r.TryGetProperty("hash", out var h) && h.ValueKind == JsonValueKind.String
            ? h.GetString()!.ToLowerInvariant()
            : null)];
    }

    public async Task<IReadOnlyList<TransferLog>> LogsAsync(ulong from, ulong to, LogFilter filter, CancellationToken cancellationToken)
    {
        var calls = new List<RpcCall>();
        void Add(IReadOnlyList<string> contracts, JsonArray topics)
        {
            if (contracts.Count > 0)
            {
                calls.Add(new RpcCall("eth_getLogs", [new JsonObject
                {
                    ["fromBlock"] = Hex(from),
                    ["toBlock"] = Hex(to),
                    ["address"] = new JsonArray([.. contracts.Select(c => (JsonNode)JsonValue.Create(c)!)]),
                    ["topics"] = topics,
                }]));
            }
        }

        // Topics are AND across positions and OR within one (eth_getLogs, Ethereum JSON-RPC spec), so "from or to is a
        // linked wallet" is two filters: one on the from position, one on the to position.
        if (filter.Wallets is { Count: > 0 } wallets)
        {
            Add(filter.Erc20Or721Contracts, [Topics(TransferTopics.Transfer), WalletTopics(wallets)]);
            Add(filter.Erc20Or721Contracts, [Topics(TransferTopics.Transfer), null, WalletTopics(wallets)]);
            Add(filter.Erc1155Contracts, [Topics(TransferTopics.TransferSingle, TransferTopics.TransferBatch), null, WalletTopics(wallets)]);
            Add(filter.Erc1155Contracts, [Topics(TransferTopics.TransferSingle, TransferTopics.TransferBatch), null, null, WalletTopics(wallets)]);
        }
        else
        {
            Add([.. filter.Erc20Or721Contracts, .. filter.Erc1155Contracts],
                [Topics(TransferTopics.Transfer, TransferTopics.TransferSingle, TransferTopics.TransferBatch)]);
        }

        if (calls.Count == 0)
        {
            return [];
        }

        var results = calls.Count == 1
            ? [await rpc.CallAsync(calls[0].Method, calls[0].Params, cancellationToken).ConfigureAwait(false)]
            : await rpc.BatchAsync(calls, cancellationToken).ConfigureAwait(false);
        var logs = new List<TransferLog>();
        var seen = new HashSet<(string, string)>();
        foreach (var result in results)
        {
            if (result.ValueKind != JsonValueKind.Array)
            {
                throw new ChainReadException(Chain, $"{Chain}: eth_getLogs answered something that is not a list of logs");
            }

            foreach (var log in result.EnumerateArray())
            {
                if (Parse(log) is { } parsed && seen.Add((parsed.Log.BlockHash, parsed.Key)))
                {
                    logs.Add(parsed.Log); // a self-transfer matches both filters: kept once
                }
            }
        }

        return logs;
    }

    private (TransferLog Log, string Key)? Parse(JsonElement log)
    {
        if (log.ValueKind != JsonValueKind.Object ||
            !log.TryGetProperty("topics", out var topicsElement) || topicsElement.ValueKind != JsonValueKind.Array ||
            !log.TryGetProperty("address", out var address) || address.ValueKind != JsonValueKind.String ||
            !log.TryGetProperty("blockNumber", out var number) || number.ValueKind != JsonValueKind.String)
        {
            throw new ChainReadException(Chain, $"{Chain}: eth_getLogs answered a log without address, topics or block number");
        }

        var topics = topicsElement.EnumerateArray().Select(t => t.GetString() ?? "").ToList();
        if (TransferTopics.Decode(topics) is not { } transfer)
        {
            return null;
        }

        var hash = log.TryGetProperty("blockHash", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString()!.ToLowerInvariant() : "";
        var index = log.TryGetProperty("logIndex", out var i) ? i.ToString() : "";
        // "removed": true marks a log of a block that a reorg dropped (eth_getLogs / eth_subscribe logs, Ethereum JSON-RPC spec).
        var removed = log.TryGetProperty("removed", out var r) && r.ValueKind == JsonValueKind.True;
        return (new TransferLog(Quantity(number, "eth_getLogs"), hash, address.GetString()!.ToLowerInvariant(), transfer.From, transfer.To, removed), index);
    }

    private static JsonNode Topics(params string[] topics) =>
        topics.Length == 1 ? JsonValue.Create(topics[0]) : new JsonArray([.. topics.Select(t => (JsonNode)JsonValue.Create(t)!)]);

    private static JsonArray WalletTopics(IReadOnlyList<string> wallets) =>
        new([.. wallets.Select(w => (JsonNode)JsonValue.Create(TransferTopics.AddressTopic(w))!)]);

    private static string Hex(ulong n) => "0x" + n.ToString("x", CultureInfo.InvariantCulture);

    private ulong Quantity(JsonElement result, string method)
    {
        var text = result.ValueKind == JsonValueKind.String ? result.GetString() : null;
        if (text is not null && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
            ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        throw new ChainReadException(Chain, $"{Chain}: {method} answered something that is not a quantity");
    }
}
