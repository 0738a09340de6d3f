using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Chains;
using WalverBot.Testing.Chains;

namespace WalverBot.Tests.Chains;

/// <summary>The EVM reader against a real chain (anvil) with OpenZeppelin 4.9.6's preset tokens and Multicall3.</summary>
[Trait("Needs", "anvil")]
public sealed class EvmChainReaderTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);

    private AnvilNode Node => anvil.Node;

    private ChainTestHost Host(Action<ChainReadTuning>? tune = null) =>
        ChainTestHost.Create(new Dictionary<string, string?> { ["Chains:ethereum:RpcUrl"] = Node.RpcUrl.ToString() }, tune);

    private static string NewWallet() => "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000";

    [Fact]
    public async Task Erc20_amounts_are_whole_tokens_with_decimals_applied_read_at_the_current_block()
    {
        var token = await Node.DeployErc20Async();
        var (a, b, c) = (NewWallet(), NewWallet(), NewWallet());
        await Node.MintErc20Async(token, a, Ether * 3 / 2);
        await Node.MintErc20Async(token, c, Ether * 1234 + 1);
        await using var host = Host();

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("ethereum", "erc20", token, null), [a, b, c], CancellationToken.None);

        Assert.Equal([a, b, c], snapshot.Amounts.Select(x => x.Wallet));
        Assert.Equal([1.5m, 0m, 1234.000000000000000001m], snapshot.Amounts.Select(x => x.Amount));
        Assert.Equal(await Node.BlockNumberAsync(), snapshot.BlockOrSlot);
    }

    [Fact]
    public async Task A_transfer_changes_the_next_read()
    {
        var token = await Node.DeployErc20Async();
        var (seller, buyer) = (Node.Accounts[1], NewWallet());
        await Node.MintErc20Async(token, seller, Ether * 10);
        await using var host = Host();
        var spec = new TokenSpec("ethereum", "erc20", token, null);
        var before = await host.Reader.ReadAsync(spec, [seller, buyer], CancellationToken.None);

        await Node.TransferErc20Async(token, seller, buyer, Ether * 4);
        var after = await host.Reader.ReadAsync(spec, [seller, buyer], CancellationToken.None);

        Assert.Equal([10m, 0m], before.Amounts.Select(x => x.Amount));
        Assert.Equal([6m, 4m], after.Amounts.Select(x => x.Amount));
        Assert.True(after.BlockOrSlot > before.BlockOrSlot);
    }

    [Fact]
    public async Task Erc721_counts_the_nfts_each_wallet_holds_and_follows_a_transfer()
    {
        var nft = await Node.DeployErc721Async();
        var (holder, other) = (Node.Accounts[2], NewWallet());
        await Node.MintErc721Async(nft, holder); // token id 0
        await Node.MintErc721Async(nft, holder); // token id 1
        await Node.MintErc721Async(nft, other);
        await using var host = Host();
        var spec = new TokenSpec("ethereum", "erc721", nft, null);

        var first = await host.Reader.ReadAsync(spec, [holder, other], CancellationToken.None);
        await Node.TransferErc721Async(nft, holder, other, 0);
        var second = await host.Reader.ReadAsync(spec, [holder, other], CancellationToken.None);

        Assert.Equal([2m, 1m], first.Amounts.Select(x => x.Amount));
        Assert.Equal([1m, 2m], second.Amounts.Select(x => x.Amount));
    }

    [Fact]
    public async Task Erc1155_reads_the_balance_of_the_given_id_only()
    {
        var items = await Node.DeployErc1155Async();
        var (holder, other) = (Node.Accounts[3], NewWallet());
        await Node.MintErc1155Async(items, holder, 7, 5);
        await Node.MintErc1155Async(items, holder, 8, 3);
        await Node.MintErc1155Async(items, other, 8, 9);
        await using var host = Host();

        var id7 = await host.Reader.ReadAsync(new TokenSpec("ethereum", "erc1155", items, "7"), [holder, other], CancellationToken.None);
        var id8 = await host.Reader.ReadAsync(new TokenSpec("ethereum", "erc1155", items, "0x8"), [holder, other], CancellationToken.None);
        await Node.TransferErc1155Async(items, holder, other, 7, 2);
        var afterTransfer = await host.Reader.ReadAsync(new TokenSpec("ethereum", "erc1155", items, "7"), [holder, other], CancellationToken.None);

        Assert.Equal([5m, 0m], id7.Amounts.Select(x => x.Amount));
        Assert.Equal([3m, 9m], id8.Amounts.Select(x => x.Amount));
        Assert.Equal([3m, 2m], afterTransfer.Amounts.Select(x => x.Amount));
    }

    [Fact]
    public async Task Erc1155_without_a_token_id_is_refused_without_a_request()
    {
        await using var host = Host();

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("ethereum", "erc1155", NewWallet(), null), [NewWallet()], CancellationToken.None));

        Assert.Contains("needs a token id", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Requests.Count);
    }

    [Fact]
    public async Task Native_balances_are_read_through_multicall3_in_whole_coins()
    {
        var (rich, poor) = (NewWallet(), NewWallet());
        await Node.SetBalanceAsync(rich, Ether * 5 / 2);
        await Node.SetBalanceAsync(poor, 1);
        await using var host = Host();

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("ethereum", "native", null, null), [rich, poor], CancellationToken.None);

        Assert.Equal([2.5m, 0.000000000000000001m], snapshot.Amounts.Select(x => x.Amount));
        Assert.DoesNotContain(host.Requests.Bodies, b => b.Contains("eth_getBalance", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Many_wallets_are_read_in_one_eth_call_and_decimals_once_per_token()
    {
        var token = await Node.DeployErc20Async();
        var wallets = Enumerable.Range(0, 800).Select(_ => NewWallet()).ToList();
        await Node.MintErc20Async(token, wallets[123], Ether * 7);
        await using var host = Host(t => t.EvmWalletsPerCall = 1000);
        var spec = new TokenSpec("ethereum", "erc20", token, null);

        var first = await host.Reader.ReadAsync(spec, wallets, CancellationToken.None);
        var firstRequests = Methods(host.Requests.Bodies);
        host.Requests.Clear();
        await host.Reader.ReadAsync(spec, wallets, CancellationToken.None);
        var secondRequests = Methods(host.Requests.Bodies);

        Assert.Equal(800, first.Amounts.Count);
        Assert.Equal(7m, first.Amounts[123].Amount);
        Assert.Equal(799, first.Amounts.Count(a => a.Amount == 0));
        Assert.Equal(["eth_blockNumber", "eth_call", "eth_call"], firstRequests); // decimals, then all 800 balances
        Assert.Equal(["eth_blockNumber", "eth_call"], secondRequests);            // decimals cached
    }

    [Fact]
    public async Task Wallets_over_one_chunk_are_read_in_several_eth_calls_all_at_the_same_block()
    {
        var token = await Node.DeployErc20Async();
        var wallets = Enumerable.Range(0, 1250).Select(_ => NewWallet()).ToList();
        await Node.MintErc20Async(token, wallets[^1], Ether);
        await using var host = Host(t => t.EvmWalletsPerCall = 500);

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("ethereum", "erc20", token, null), wallets, CancellationToken.None);

        var calls = host.Requests.Bodies.Select(b => JsonDocument.Parse(b).RootElement).Where(r => r.GetProperty("method").GetString() == "eth_call").ToList();
        Assert.Equal(4, calls.Count); // decimals + 3 chunks of ≤ 500
        Assert.Single(calls.Select(c => c.GetProperty("params")[1].GetString()).Distinct());
        Assert.Equal($"0x{snapshot.BlockOrSlot:x}", calls[0].GetProperty("params")[1].GetString());
        Assert.Equal(1m, snapshot.Amounts[^1].Amount);
    }

    [Fact]
    public async Task A_token_address_without_a_contract_is_an_error_naming_it_not_a_zero()
    {
        var nowhere = NewWallet();
        await using var host = Host();

        var erc20 = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("ethereum", "erc20", nowhere, null), [NewWallet()], CancellationToken.None));
        var erc721 = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("ethereum", "erc721", nowhere, null), [NewWallet()], CancellationToken.None));

        Assert.Contains(nowhere, erc20.Message, StringComparison.Ordinal);
        Assert.Contains("no contract", erc20.Message, StringComparison.Ordinal);
        Assert.Contains(nowhere, erc721.Message, StringComparison.Ordinal);
        Assert.Contains("no contract", erc721.Message, StringComparison.Ordinal);
        Assert.Equal("ethereum", erc721.Chain);
    }

    [Fact]
    public async Task A_contract_that_reverts_the_balance_read_is_an_error_not_a_zero()
    {
        // An ERC-20 read as ERC-1155: balanceOf(address,uint256) does not exist there, so the call reverts.
        var token = await Node.DeployErc20Async();
        await using var host = Host();

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("ethereum", "erc1155", token, "1"), [NewWallet()], CancellationToken.None));

        Assert.Contains("reverted", ex.Message, StringComparison.Ordinal);
        Assert.Contains(token, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_erc20_read_of_an_nft_contract_fails_on_decimals()
    {
        var nft = await Node.DeployErc721Async();
        await using var host = Host();

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("ethereum", "erc20", nft, null), [NewWallet()], CancellationToken.None));

        Assert.Contains("eth_call", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_down_endpoint_is_an_error_and_one_log_line_and_its_key_is_never_shown()
    {
        const string key = "k3y-0f-the-operator-9f8e7d";
        await using var host = ChainTestHost.Create(
            new Dictionary<string, string?> { ["Chains:ethereum:RpcUrl"] = $"http://127.0.0.1:1/v3/{key}?apikey={key}" }, t => t.MaxRetries = 2);
        var spec = new TokenSpec("ethereum", "erc20", NewWallet(), null);

        var first = await Assert.ThrowsAsync<ChainReadException>(() => host.Reader.ReadAsync(spec, [NewWallet()], CancellationToken.None));
        var second = await Assert.ThrowsAsync<ChainReadException>(() => host.Reader.ReadAsync(spec, [NewWallet()], CancellationToken.None));

        Assert.Contains("http://127.0.0.1:1", first.Message, StringComparison.Ordinal);
        Assert.Contains("no answer", first.Message, StringComparison.Ordinal);
        Assert.Equal(6, host.Requests.Count); // each read: the first attempt and two retries
        Assert.Single(host.Logs.Lines, l => l.Contains("is down or misconfigured", StringComparison.Ordinal));
        foreach (var text in new[] { first.ToString(), second.ToString(), host.Logs.All })
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_connection_reset_as_it_opens_is_retried_then_reported_as_no_answer()
    {
        // HttpClient lets this one SocketException through unwrapped (it reads the socket's peer address after connecting).
        await using var host = ChainTestHost.Create(
            new Dictionary<string, string?> { ["Chains:ethereum:RpcUrl"] = "http://127.0.0.1:1/" }, t => t.MaxRetries = 2,
            services => services.AddHttpClient(ChainServiceCollectionExtensions.ClientName("ethereum"))
                .ConfigurePrimaryHttpMessageHandler(() => new ResettingHandler()));

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("ethereum", "erc20", NewWallet(), null), [NewWallet()], CancellationToken.None));

        Assert.Contains("no answer (the connection was reset as it opened)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, host.Requests.Count); // the first attempt and two retries
    }

    private sealed class ResettingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NotConnected);
    }

    private static List<string> Methods(IEnumerable<string> bodies) =>
        [.. bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("method").GetString()!)];
}
