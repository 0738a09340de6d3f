using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;
using Nethereum.Contracts.QueryHandlers.MultiCall;
using Nethereum.Hex.HexConvertors.Extensions;
using WalverBot.Verifications;

namespace WalverBot.Chains;

/// <summary>
/// Reads EVM holdings through Multicall3's <c>aggregate3</c> (https://github.com/mds1/multicall: deployed at the same
/// address on every chain Walver supports): one eth_call reads <see cref="ChainReadTuning.EvmWalletsPerCall"/> wallets,
/// every call of one read is made at the block read first, so the snapshot is one block. Sub-calls allow failure, so
/// one bad answer is seen and named instead of failing the batch; a failure is never read as 0.
/// </summary>
public sealed class EvmChainReader(JsonRpcClient rpc, ChainReadTuning tuning)
{
    public const string Multicall3Address = "0xcA11bde05977b3631167028862bE2a173976CA11";
    private const int NativeDecimals = 18; // wei per ether, and the same for every EVM chain's native coin

    private readonly ConcurrentDictionary<string, int> _decimals = new(StringComparer.OrdinalIgnoreCase);

    public string Chain => rpc.Endpoint.Chain;

    public Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, CancellationToken cancellationToken) =>
        ReadAsync(token, wallets, null, cancellationToken);

    /// <summary>Reads at <paramref name="atBlock"/>, or at the current block when null.</summary>
    public async Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, ulong? atBlock, CancellationToken cancellationToken)
    {
        var standard = token.Standard.ToLowerInvariant();
        var address = token.TokenAddress?.Trim();
        if (standard != TokenStandards.Native && !IsAddress(address))
        {
            throw new ChainReadException(Chain, $"{Chain}: token address {address} is not an EVM address (0x and 40 hex digits)");
        }

        if (wallets.FirstOrDefault(w => !IsAddress(w?.Trim())) is { } badWallet)
        {
            throw new ChainReadException(Chain, $"{Chain}: wallet {Short(badWallet)} is not an EVM address (0x and 40 hex digits)");
        }

        BigInteger tokenId = default;
        if (standard == TokenStandards.Erc1155 && !TryParseTokenId(token.TokenId, out tokenId))
        {
            throw new ChainReadException(Chain, $"{Chain}: ERC-1155 token {address} needs a token id (a whole number), not '{token.TokenId}'");
        }

        var block = atBlock ?? await BlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var blockTag = $"0x{block:x}";
        (string target, int decimals, string label) = standard switch
        {
            TokenStandards.Erc20 => (address!, await DecimalsAsync(address!, blockTag, cancellationToken).ConfigureAwait(false), $"ERC-20 {address}"),
            TokenStandards.Erc721 => (address!, 0, $"ERC-721 {address}"),
            TokenStandards.Erc1155 => (address!, 0, $"ERC-1155 {address} id {tokenId}"),
            TokenStandards.Native => (Multicall3Address, NativeDecimals, $"native coin of {Chain}"),
            _ => throw new ChainReadException(Chain, $"{Chain}: token standard '{token.Standard}' is not read on EVM chains (erc20, erc721, erc1155 or native)"),
        };

        var amounts = new List<WalletAmount>(wallets.Count);
        foreach (var chunk in wallets.Chunk(Math.Max(1, tuning.EvmWalletsPerCall)))
        {
            var calls = chunk.Select(wallet => new Call3
            {
                Target = target,
                AllowFailure = true,
                // Nethereum encodes by the message's static type, so each kind is encoded where its type is known.
                CallData = standard switch
                {
                    TokenStandards.Erc1155 => new Erc1155BalanceOf { Account = wallet.Trim(), Id = tokenId }.GetCallData(),
                    TokenStandards.Native => new GetEthBalance { Address = wallet.Trim() }.GetCallData(),
                    _ => new BalanceOf { Owner = wallet.Trim() }.GetCallData(),
                },
            }).ToList();

            var answer = await EthCallAsync(Multicall3Address, new Aggregate3Function { Calls = calls }.GetCallData(), blockTag, cancellationToken).ConfigureAwait(false);
            if (answer.Length == 0)
            {
                throw new ChainReadException(Chain, $"{Chain}: Multicall3 answers nothing at {Multicall3Address} (not deployed on this chain?)");
            }

            List<Result> results;
            try
            {
                results = new Aggregate3OutputDTO().DecodeOutput(answer.ToHex(true)).ReturnData;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ChainReadException(Chain, $"{Chain}: Multicall3's answer for {label} could not be decoded");
            }

            if (results is null || results.Count != chunk.Length)
            {
                throw new ChainReadException(Chain, $"{Chain}: Multicall3 answered {results?.Count ?? 0} results for {chunk.Length} wallets of {label}");
            }

            for (var i = 0; i < chunk.Length; i++)
            {
                amounts.Add(new WalletAmount(chunk[i], TokenAmounts.ToDecimal(Uint256(results[i], label, chunk[i]), decimals)));
            }
        }

        return new HoldingsSnapshot(amounts, block);
    }

    /// <summary>The current block number (eth_blockNumber); also what <c>check</c> uses to see the endpoint answers.</summary>
    public async Task<ulong> BlockNumberAsync(CancellationToken cancellationToken)
    {
        var result = await rpc.CallAsync("eth_blockNumber", [], cancellationToken).ConfigureAwait(false);
        return ParseQuantity(result, "eth_blockNumber");
    }

    public async Task<ulong> ChainIdAsync(CancellationToken cancellationToken)
    {
        var result = await rpc.CallAsync("eth_chainId", [], cancellationToken).ConfigureAwait(false);
        return ParseQuantity(result, "eth_chainId");
    }

    private async Task<int> DecimalsAsync(string address, string blockTag, CancellationToken cancellationToken)
    {
        if (_decimals.TryGetValue(address, out var cached))
        {
            return cached;
        }

        var answer = await EthCallAsync(address, new Decimals().GetCallData(), blockTag, cancellationToken).ConfigureAwait(false);
        if (answer.Length == 0)
        {
            throw new ChainReadException(Chain, $"{Chain}: ERC-20 {address} answers nothing to decimals(): no contract at this address");
        }

        // uint8 in a 32-byte word (Solidity ABI spec); anything else is not an ERC-20.
        var value = answer.Length == 32 ? new BigInteger(answer, isUnsigned: true, isBigEndian: true) : BigInteger.MinusOne;
        if (value < 0 || value > 255)
        {
            throw new ChainReadException(Chain, $"{Chain}: ERC-20 {address} answers decimals() with something that is not a uint8");
        }

        return _decimals.GetOrAdd(address, (int)value);
    }

    private async Task<byte[]> EthCallAsync(string to, byte[] data, string blockTag, CancellationToken cancellationToken)
    {
        var result = await rpc.CallAsync("eth_call",
            [new JsonObject { ["to"] = to, ["data"] = data.ToHex(true) }, blockTag], cancellationToken).ConfigureAwait(false);
        if (result.ValueKind != JsonValueKind.String)
        {
            throw new ChainReadException(Chain, $"{Chain}: eth_call answered something that is not hex data");
        }

        try
        {
            return result.GetString()!.HexToByteArray();
        }
        catch (FormatException)
        {
            throw new ChainReadException(Chain, $"{Chain}: eth_call answered something that is not hex data");
        }
    }

    private BigInteger Uint256(Result result, string label, string wallet)
    {
        if (!result.Success)
        {
            throw new ChainReadException(Chain, $"{Chain}: {label} reverted the balance read of wallet {Short(wallet)}");
        }

        // A call to an address without code succeeds with no data (EVM: CALL to an account with empty code).
        if (result.ReturnData is not { Length: > 0 } data)
        {
            throw new ChainReadException(Chain, $"{Chain}: {label} answers nothing: no contract at this address");
        }

        if (data.Length != 32)
        {
            throw new ChainReadException(Chain, $"{Chain}: {label} answered {data.Length} bytes for wallet {Short(wallet)}, not a uint256");
        }

        return new BigInteger(data, isUnsigned: true, isBigEndian: true);
    }

    private ulong ParseQuantity(JsonElement result, string method)
    {
        var text = result.ValueKind == JsonValueKind.String ? result.GetString() : null;
        if (text is not null && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
            ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        throw new ChainReadException(Chain, $"{Chain}: {method} answered something that is not a quantity");
    }

    private static bool TryParseTokenId(string? text, out BigInteger id)
    {
        id = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? BigInteger.TryParse("0" + text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id)
            : BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    private static bool IsAddress(string? text) =>
        text is { Length: 42 } && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !text.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF");

    private static string Short(string wallet) => wallet.Length > 12 ? $"{wallet[..6]}…{wallet[^4..]}" : wallet;

    [Function("balanceOf", "uint256")]
    internal sealed class BalanceOf : FunctionMessage
    {
        [Parameter("address", "owner", 1)]
        public string Owner { get; set; } = "";
    }

    [Function("balanceOf", "uint256")]
    internal sealed class Erc1155BalanceOf : FunctionMessage
    {
        [Parameter("address", "account", 1)]
        public string Account { get; set; } = "";

        [Parameter("uint256", "id", 2)]
        public BigInteger Id { get; set; }
    }

    [Function("decimals", "uint8")]
    internal sealed class Decimals : FunctionMessage;

    /// <summary>Multicall3's <c>getEthBalance(address)</c>: the native balance, in wei.</summary>
    [Function("getEthBalance", "uint256")]
    internal sealed class GetEthBalance : FunctionMessage
    {
        [Parameter("address", "addr", 1)]
        public string Address { get; set; } = "";
    }
}
