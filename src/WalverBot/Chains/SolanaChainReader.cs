using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using WalverBot.Verifications;

namespace WalverBot.Chains;

/// <summary>
/// Reads Solana holdings over JSON-RPC (https://solana.com/docs/rpc): SPL tokens with <c>getTokenAccountsByOwner</c>
/// (mint filter, <c>jsonParsed</c>), summed over the owner's token accounts; SOL with <c>getBalance</c>. Many wallets go
/// in one batch (a JSON array of requests). The snapshot's slot is the lowest <c>context.slot</c> seen, and later
/// batches pass it as <c>minContextSlot</c> so none is evaluated at an older slot.
/// </summary>
public sealed class SolanaChainReader(JsonRpcClient rpc, ChainReadTuning tuning)
{
    private const int LamportDecimals = 9; // 1 SOL = 10^9 lamports
    private const string Commitment = "confirmed";

    public string Chain => rpc.Endpoint.Chain;

    public async Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, CancellationToken cancellationToken)
    {
        var standard = token.Standard.ToLowerInvariant();
        var mint = token.TokenAddress?.Trim();
        if (standard is not (TokenStandards.Spl or TokenStandards.Native))
        {
            throw new ChainReadException(Chain, $"{Chain}: token standard '{token.Standard}' is not read on Solana (spl or native)");
        }

        if (standard == TokenStandards.Spl && string.IsNullOrEmpty(mint))
        {
            throw new ChainReadException(Chain, $"{Chain}: an SPL token needs its mint address");
        }

        ulong? slot = null;
        var amounts = new List<WalletAmount>(wallets.Count);
        if (wallets.Count == 0)
        {
            slot = await SlotAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var chunk in wallets.Chunk(Math.Max(1, tuning.SolanaWalletsPerBatch)))
        {
            var calls = chunk.Select(wallet => standard == TokenStandards.Native
                ? new RpcCall("getBalance", [wallet.Trim(), Config(slot)])
                : new RpcCall("getTokenAccountsByOwner", [wallet.Trim(), new JsonObject { ["mint"] = mint }, Config(slot, jsonParsed: true)])).ToList();
            var results = await rpc.BatchAsync(calls, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                var (contextSlot, amount) = standard == TokenStandards.Native ? Lamports(results[i], chunk[i]) : TokenAmount(results[i], mint!, chunk[i]);
                slot = slot is { } seen ? Math.Min(seen, contextSlot) : contextSlot;
                amounts.Add(new WalletAmount(chunk[i], amount));
            }
        }

        return new HoldingsSnapshot(amounts, slot!.Value);
    }

    /// <summary>
    /// The token accounts (pubkeys) each owner holds of <paramref name="mint"/>, one list per owner in order, from
    /// getTokenAccountsByOwner with the mint filter; an owner without any has an empty list. Solana real time subscribes to these.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> TokenAccountsAsync(string mint, IReadOnlyList<string> owners, CancellationToken cancellationToken)
    {
        var accounts = new List<IReadOnlyList<string>>(owners.Count);
        foreach (var chunk in owners.Chunk(Math.Max(1, tuning.SolanaWalletsPerBatch)))
        {
            // base64 rather than jsonParsed: only the pubkeys are read here, the amounts come from the re-check's own read.
            var calls = chunk.Select(owner => new RpcCall("getTokenAccountsByOwner",
                [owner.Trim(), new JsonObject { ["mint"] = mint }, new JsonObject { ["commitment"] = Commitment, ["encoding"] = "base64" }])).ToList();
            var results = await rpc.BatchAsync(calls, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                if (!results[i].TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
                {
                    throw Unreadable("getTokenAccountsByOwner", chunk[i]);
                }

                accounts.Add([.. value.EnumerateArray().Select(a => a.TryGetProperty("pubkey", out var key) && key.ValueKind == JsonValueKind.String
                    ? key.GetString()!
                    : throw Unreadable("getTokenAccountsByOwner", chunk[i]))]);
            }
        }

        return accounts;
    }

    /// <summary>The current slot (getSlot); <c>check</c> asks getHealth.</summary>
    public async Task<ulong> SlotAsync(CancellationToken cancellationToken)
    {
        var result = await rpc.CallAsync("getSlot", [new JsonObject { ["commitment"] = Commitment }], cancellationToken).ConfigureAwait(false);
        return result.ValueKind == JsonValueKind.Number && result.TryGetUInt64(out var slot)
            ? slot
            : throw new ChainReadException(Chain, $"{Chain}: getSlot answered something that is not a slot");
    }

    /// <summary>getHealth: "ok", or a JSON-RPC error when the node is behind (https://solana.com/docs/rpc/http/gethealth).</summary>
    public async Task<string> HealthAsync(CancellationToken cancellationToken)
    {
        var result = await rpc.CallAsync("getHealth", [], cancellationToken).ConfigureAwait(false);
        return result.ToString();
    }

    private static JsonObject Config(ulong? minContextSlot, bool jsonParsed = false)
    {
        var config = new JsonObject { ["commitment"] = Commitment };
        if (jsonParsed)
        {
            config["encoding"] = "jsonParsed";
        }

        if (minContextSlot is { } slot)
        {
            config["minContextSlot"] = slot;
        }

        return config;
    }

    private (ulong Slot, decimal Amount) Lamports(JsonElement result, string wallet)
    {
        var slot = ContextSlot(result, "getBalance", wallet);
        if (!result.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out var lamports))
        {
            throw Unreadable("getBalance", wallet);
        }

        return (slot, TokenAmounts.ToDecimal(lamports, LamportDecimals));
    }

    private (ulong Slot, decimal Amount) TokenAmount(JsonElement result, string mint, string wallet)
    {
        var slot = ContextSlot(result, "getTokenAccountsByOwner", wallet);
        if (!result.TryGetProperty("value", out var accounts) || accounts.ValueKind != JsonValueKind.Array)
        {
            throw Unreadable("getTokenAccountsByOwner", wallet);
        }

        var total = BigInteger.Zero;
        var decimals = 0;
        foreach (var account in accounts.EnumerateArray())
        {
            // account.data.parsed.info.tokenAmount: { amount: "<u64 as string>", decimals, uiAmount, uiAmountString };
            // uiAmount is a float and loses precision, so the string amount is used.
            if (!TryGet(account, out var info, "account", "data", "parsed", "info") ||
                !info.TryGetProperty("tokenAmount", out var tokenAmount) ||
                !tokenAmount.TryGetProperty("amount", out var amountElement) || amountElement.ValueKind != JsonValueKind.String ||
                !BigInteger.TryParse(amountElement.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) ||
                !tokenAmount.TryGetProperty("decimals", out var decimalsElement) || !decimalsElement.TryGetInt32(out decimals) || decimals is < 0 or > 255)
            {
                throw Unreadable("getTokenAccountsByOwner", wallet);
            }

            if (info.TryGetProperty("mint", out var accountMint) && accountMint.GetString() != mint)
            {
                throw new ChainReadException(Chain, $"{Chain}: getTokenAccountsByOwner answered a token account of another mint for wallet {Short(wallet)}");
            }

            total += amount;
        }

        return (slot, TokenAmounts.ToDecimal(total, decimals));
    }

    private ulong ContextSlot(JsonElement result, string method, string wallet) =>
        TryGet(result, out var slot, "context", "slot") && slot.TryGetUInt64(out var value) ? value : throw Unreadable(method, wallet);

    private ChainReadException Unreadable(string method, string wallet) =>
        new(Chain, $"{Chain}: {method} answered something unreadable for wallet {Short(wallet)}");

    private static bool TryGet(JsonElement element, out JsonElement found, params string[] path)
    {
        found = element;
        foreach (var name in path)
        {
            if (found.ValueKind != JsonValueKind.Object || !found.TryGetProperty(name, out found))
            {
                return false;
            }
        }

        return true;
    }

    private static string Short(string wallet) => wallet.Length > 12 ? $"{wallet[..4]}…{wallet[^4..]}" : wallet;
}
