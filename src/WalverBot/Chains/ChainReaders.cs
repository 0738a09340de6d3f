using Microsoft.Extensions.Options;
using WalverBot.Verifications;

namespace WalverBot.Chains;

/// <summary>The one <see cref="IChainReader"/>: sends each read to the reader of the chain's family.</summary>
public sealed class ChainReaders : IChainReader
{
    private readonly Dictionary<string, EvmChainReader> _evm = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SolanaChainReader> _solana = new(StringComparer.OrdinalIgnoreCase);

    public ChainReaders(IOptions<ChainsOptions> options, IOptions<ChainReadTuning> tuning, IHttpClientFactory clients, RpcEndpointHealth health)
    {
        foreach (var endpoint in options.Value.Endpoints.Values)
        {
            var rpc = new JsonRpcClient(clients.CreateClient(ChainServiceCollectionExtensions.ClientName(endpoint.Chain)), endpoint, health);
            if (KnownChains.TryGetFamily(endpoint.Chain, out var family) && family == ChainFamily.Solana)
            {
                _solana[endpoint.Chain] = new SolanaChainReader(rpc, tuning.Value);
            }
            else
            {
                _evm[endpoint.Chain] = new EvmChainReader(rpc, tuning.Value);
            }
        }
    }

    public bool CanRead(string chain) => _evm.ContainsKey(chain) || _solana.ContainsKey(chain);

    public Task<HoldingsSnapshot> ReadAsync(TokenSpec token, IReadOnlyList<string> wallets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(wallets);
        if (_evm.TryGetValue(token.Chain, out var evm))
        {
            return evm.ReadAsync(token, wallets, cancellationToken);
        }

        if (_solana.TryGetValue(token.Chain, out var solana))
        {
            return solana.ReadAsync(token, wallets, cancellationToken);
        }

        throw new ChainReadException(token.Chain, $"{token.Chain}: no RPC endpoint (Chains:{token.Chain}:RpcUrl is not set)");
    }

    public Task<HoldingsSnapshot> ReadAtAsync(TokenSpec token, IReadOnlyList<string> wallets, ulong block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(wallets);
        return _evm.TryGetValue(token.Chain, out var evm)
            ? evm.ReadAsync(token, wallets, block, cancellationToken)
            : throw new ChainReadException(token.Chain, $"{token.Chain}: holdings are read at a given block on EVM chains with an RPC endpoint only");
    }

    internal EvmChainReader? Evm(string chain) => _evm.GetValueOrDefault(chain);

    internal SolanaChainReader? Solana(string chain) => _solana.GetValueOrDefault(chain);
}
