using System.Text.Json;
using WalverBot.Chains;
using WalverBot.Testing.Chains;

namespace WalverBot.Tests.Chains;

/// <summary>The Solana reader and the shared JSON-RPC transport (retries, rate limit, key safety) against FakeSolanaRpc.</summary>
public sealed class SolanaChainReaderTests
{
    private const string Mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
    private const string OtherMint = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";
    private const string Alice = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
    private const string Bob = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

    private static ChainTestHost Host(FakeSolanaRpc rpc, Action<ChainReadTuning>? tune = null, int? requestsPerSecond = null)
    {
        var settings = new Dictionary<string, string?> { ["Chains:solana:RpcUrl"] = rpc.RpcUrl.ToString() };
        if (requestsPerSecond is { } rate)
        {
            settings["Chains:solana:RequestsPerSecond"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ChainTestHost.Create(settings, tune);
    }

    private static string Wallet(int i) => $"Wa11et{i:D6}" + new string('1', 32);

    [Fact]
    public async Task Spl_amounts_are_summed_over_the_owners_token_accounts_of_that_mint_with_decimals()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        rpc.AddTokenAccount(Alice, Mint, 1_500_000, 6);
        rpc.AddTokenAccount(Alice, Mint, 250_001, 6);
        rpc.AddTokenAccount(Alice, OtherMint, 9_000_000, 6);
        rpc.AddTokenAccount(Bob, OtherMint, 1, 6);
        await using var host = Host(rpc);

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("solana", "spl", Mint, null), [Alice, Bob], CancellationToken.None);

        Assert.Equal([1.750001m, 0m], snapshot.Amounts.Select(a => a.Amount));
        Assert.Equal(rpc.Slot, snapshot.BlockOrSlot);
        var request = JsonDocument.Parse(rpc.Bodies.Single()).RootElement[0];
        Assert.Equal("getTokenAccountsByOwner", request.GetProperty("method").GetString());
        Assert.Equal(Mint, request.GetProperty("params")[1].GetProperty("mint").GetString());
        Assert.Equal("jsonParsed", request.GetProperty("params")[2].GetProperty("encoding").GetString());
        Assert.Equal("confirmed", request.GetProperty("params")[2].GetProperty("commitment").GetString());
    }

    [Fact]
    public async Task Amounts_beyond_a_double_stay_exact_because_the_string_amount_is_read()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        rpc.AddTokenAccount(Alice, Mint, ulong.MaxValue, 9); // 18446744073.709551615: uiAmount (a double) cannot hold it
        await using var host = Host(rpc);

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("solana", "spl", Mint, null), [Alice], CancellationToken.None);

        Assert.Equal(18446744073.709551615m, snapshot.Amounts[0].Amount);
    }

    [Fact]
    public async Task Sol_is_read_with_getBalance_in_whole_sol()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        rpc.SetLamports(Alice, 2_500_000_001);
        await using var host = Host(rpc);

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("solana", "native", null, null), [Alice, Bob], CancellationToken.None);

        Assert.Equal([2.500000001m, 0m], snapshot.Amounts.Select(a => a.Amount));
        Assert.All(JsonDocument.Parse(rpc.Bodies.Single()).RootElement.EnumerateArray(), r => Assert.Equal("getBalance", r.GetProperty("method").GetString()));
    }

    [Fact]
    public async Task Many_wallets_go_as_batches_and_the_snapshot_is_the_lowest_slot_with_later_batches_no_older()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        var wallets = Enumerable.Range(0, 250).Select(Wallet).ToList();
        rpc.AddTokenAccount(wallets[200], Mint, 42, 0);
        rpc.SetSlotFor(wallets[3], rpc.Slot - 5); // one answer of the first batch comes from an older slot
        await using var host = Host(rpc, t => t.SolanaWalletsPerBatch = 100);

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("solana", "spl", Mint, null), wallets, CancellationToken.None);

        Assert.Equal(3, rpc.HttpRequests);
        Assert.Equal(250, snapshot.Amounts.Count);
        Assert.Equal(42m, snapshot.Amounts[200].Amount);
        Assert.Equal(rpc.Slot - 5, snapshot.BlockOrSlot);
        Assert.Equal(150, rpc.MinContextSlots.Count); // every request of the second and third batches
        Assert.All(rpc.MinContextSlots, s => Assert.Equal(rpc.Slot - 5, s));
    }

    [Fact]
    public async Task A_json_rpc_error_for_one_wallet_fails_the_read_naming_the_error()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        rpc.AddTokenAccount(Alice, Mint, 5, 0);
        rpc.FailWallet(Bob, -32602, "Invalid param: WrongSize");
        await using var host = Host(rpc);

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("solana", "spl", Mint, null), [Alice, Bob], CancellationToken.None));

        Assert.Contains("-32602", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid param: WrongSize", ex.Message, StringComparison.Ordinal);
        Assert.Equal("solana", ex.Chain);
    }

    [Fact]
    public async Task A_node_behind_the_minimum_context_slot_fails_the_read()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        var wallets = Enumerable.Range(0, 4).Select(Wallet).ToList();
        rpc.SetSlotFor(wallets[3], rpc.Slot - 100); // answered in the second batch from a node 100 slots behind
        await using var host = Host(rpc, t => t.SolanaWalletsPerBatch = 2);

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("solana", "native", null, null), wallets, CancellationToken.None));

        Assert.Contains("-32016", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_is_retried_after_retry_after_and_the_read_then_succeeds()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        rpc.SetLamports(Alice, 1_000_000_000);
        rpc.FailNextHttp(429, retryAfter: "0");
        await using var host = Host(rpc);

        var snapshot = await host.Reader.ReadAsync(new TokenSpec("solana", "native", null, null), [Alice], CancellationToken.None);

        Assert.Equal(1m, snapshot.Amounts[0].Amount);
        Assert.Equal(2, rpc.HttpRequests);
    }

    [Fact]
    public async Task Persistent_5xx_is_an_error_after_the_retries_never_a_zero()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        rpc.SetLamports(Alice, 1_000_000_000);
        rpc.FailNextHttp(503, times: 10);
        await using var host = Host(rpc, t => t.MaxRetries = 3);

        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("solana", "native", null, null), [Alice], CancellationToken.None));

        Assert.Contains("HTTP 503", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, rpc.HttpRequests);
    }

    [Fact]
    public async Task Requests_wait_for_the_endpoints_rate_limit()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        await using var host = Host(rpc, requestsPerSecond: 1);
        var limiter = host.Services.GetRequiredService<RpcRateLimiters>().For("solana");

        var reads = Enumerable.Range(0, 3)
            .Select(i => host.Reader.ReadAsync(new TokenSpec("solana", "native", null, null), [Wallet(i)], CancellationToken.None)).ToList();
        // The bucket holds one token: one request goes, the other two wait in the limiter's queue, not at the node.
        await WaitUntilAsync(() => rpc.HttpRequests == 1 && limiter.GetStatistics()!.CurrentQueuedCount == 2,
            () => $"{rpc.HttpRequests} requests, {limiter.GetStatistics()!.CurrentQueuedCount} queued");
        await Task.WhenAll(reads);

        Assert.Equal(3, rpc.HttpRequests);
        // The limiter hands a queued request its lease first and counts it after (TokenBucketRateLimiter's replenish:
        // TrySetResult, then Interlocked.Increment), so the last read can finish before its lease is counted.
        await WaitUntilAsync(() => limiter.GetStatistics()!.TotalSuccessfulLeases == 3,
            () => $"{limiter.GetStatistics()!.TotalSuccessfulLeases} leases counted");
    }

    [Fact]
    public async Task The_api_key_in_the_rpc_url_never_appears_in_errors_or_logs()
    {
        const string key = "sol-k3y-7a6b5c4d3e2f";
        await using var rpc = await FakeSolanaRpc.StartAsync($"/{key}/");
        rpc.SetLamports(Alice, 1);
        rpc.FailWallet(Bob, -32602, "Invalid param: Invalid");
        await using var host = Host(rpc, t => t.MaxRetries = 1);
        var spec = new TokenSpec("solana", "native", null, null);

        await host.Reader.ReadAsync(spec, [Alice], CancellationToken.None);
        var rpcError = await Assert.ThrowsAsync<ChainReadException>(() => host.Reader.ReadAsync(spec, [Bob], CancellationToken.None));
        rpc.FailNextHttp(503, times: 2);
        var httpError = await Assert.ThrowsAsync<ChainReadException>(() => host.Reader.ReadAsync(spec, [Alice], CancellationToken.None));
        await host.Reader.ReadAsync(spec, [Alice], CancellationToken.None); // back up: "answers again"

        Assert.Contains("http://127.0.0.1:", httpError.Message, StringComparison.Ordinal);
        Assert.Contains(host.Logs.Lines, l => l.Contains("answers again", StringComparison.Ordinal));
        foreach (var text in new[] { rpcError.ToString(), httpError.ToString(), host.Logs.All })
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_chain_without_an_endpoint_cannot_be_read_and_says_which_key_is_missing()
    {
        await using var rpc = await FakeSolanaRpc.StartAsync();
        await using var host = Host(rpc);

        Assert.True(host.Reader.CanRead("solana"));
        Assert.False(host.Reader.CanRead("polygon"));
        var ex = await Assert.ThrowsAsync<ChainReadException>(() =>
            host.Reader.ReadAsync(new TokenSpec("polygon", "erc20", "0x" + new string('1', 40), null), ["0x" + new string('2', 40)], CancellationToken.None));
        Assert.Contains("Chains:polygon:RpcUrl", ex.Message, StringComparison.Ordinal);
    }

    private static Task WaitUntilAsync(Func<bool> condition, Func<string>? state = null) =>
        WalverBot.Testing.Waiting.Eventually.UntilAsync(condition, "a condition on the RPC fake", TimeSpan.FromSeconds(20), state);
}
