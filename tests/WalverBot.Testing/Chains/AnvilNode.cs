using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using WalverBot.Testing.Net;

namespace WalverBot.Testing.Chains;

/// <summary>
/// A real local EVM chain: anvil on a free 127.0.0.1 port (killed on dispose), with Multicall3 at its canonical address
/// and helpers that deploy OpenZeppelin 4.9.6's preset tokens and mint or transfer through anvil's unlocked dev accounts.
/// Every transaction is mined at once (anvil's automine).
/// </summary>
public sealed class AnvilNode : IAsyncDisposable
{
    public const string Multicall3Address = "0xcA11bde05977b3631167028862bE2a173976CA11";
    private static readonly HexBigInteger Gas = new(5_000_000);

    private readonly Process _process;

    private AnvilNode(Process process, Uri rpcUrl, Web3 web3, string[] accounts)
    {
        _process = process;
        RpcUrl = rpcUrl;
        Web3 = web3;
        Accounts = accounts;
    }

    public Uri RpcUrl { get; }

    public Web3 Web3 { get; }

    /// <summary>anvil's unlocked dev accounts; the first deploys and mints.</summary>
    public IReadOnlyList<string> Accounts { get; }

    public string Deployer => Accounts[0];

    /// <param name="extraArguments">More anvil options, e.g. <c>--block-time 1</c> (a block every second instead of one per transaction).</param>
    public static Task<AnvilNode> StartAsync(CancellationToken cancellationToken = default, IReadOnlyList<string>? extraArguments = null)
    {
        ChainHarness.EnsureInstalled();
        // anvil says "Error: Address already in use (os error 98)" and exits when another process took the port.
        return LoopbackPort.StartOnUnusedAsync(
            port => StartOnAsync(port, extraArguments ?? [], cancellationToken),
            error => error.Message.Contains("Address already in use", StringComparison.Ordinal));
    }

    private static async Task<AnvilNode> StartOnAsync(int port, IReadOnlyList<string> extraArguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(ChainHarness.AnvilPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--accounts", "10" }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        // anvil prints "Listening on 127.0.0.1:<port>" once its RPC server accepts requests: the fact to wait for.
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.StartsWith("Listening on ", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { Length: > 0 } text)
            {
                errors.Enqueue(text);
            }
        };
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // lets the redirected streams drain, so the error line is in
            listening.TrySetException(new InvalidOperationException(
                $"anvil exited with code {process.ExitCode} at start: {string.Join(" | ", errors)}"));
        };
        if (!process.Start())
        {
            throw new InvalidOperationException("anvil did not start");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var rpcUrl = new Uri($"http://127.0.0.1:{port}/");
        var web3 = new Web3(rpcUrl.ToString());
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            var accounts = await web3.Eth.Accounts.SendRequestAsync();
            var node = new AnvilNode(process, rpcUrl, web3, accounts);
            await node.InstallMulticall3Async();
            return node;
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Puts Multicall3's published runtime bytecode at its canonical address (see Multicall3.README.md).</summary>
    private async Task InstallMulticall3Async()
    {
        var code = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Chains", "Multicall3.runtime.hex"))).Trim();
        await RpcAsync("anvil_setCode", Multicall3Address, code);
    }

    public Task RpcAsync(string method, params object[] parameters) =>
        Web3.Client.SendRequestAsync(new RpcRequest(Guid.NewGuid().ToString("N"), method, parameters));

    public async Task<ulong> BlockNumberAsync() => (ulong)(await Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;

    public async Task SetBalanceAsync(string account, BigInteger wei) => await RpcAsync("anvil_setBalance", account, new HexBigInteger(wei).HexValue);

    public Task<string> DeployErc20Async(string name = "Test Token", string symbol = "TST") =>
        DeployAsync("ERC20PresetMinterPauser", name, symbol);

    public Task<string> DeployErc721Async(string name = "Test NFT", string symbol = "TNFT") =>
        DeployAsync("ERC721PresetMinterPauserAutoId", name, symbol, "https://nft.example.test/");

    public Task<string> DeployErc1155Async() => DeployAsync("ERC1155PresetMinterPauser", "https://items.example.test/{id}.json");

    public Task MintErc20Async(string token, string to, BigInteger amount) => SendAsync("ERC20PresetMinterPauser", token, Deployer, "mint", to, amount);

    public Task TransferErc20Async(string token, string from, string to, BigInteger amount) => SendAsync("ERC20PresetMinterPauser", token, from, "transfer", to, amount);

    public Task MintErc721Async(string token, string to) => SendAsync("ERC721PresetMinterPauserAutoId", token, Deployer, "mint", to);

    public Task TransferErc721Async(string token, string from, string to, BigInteger tokenId) =>
        SendAsync("ERC721PresetMinterPauserAutoId", token, from, "transferFrom", from, to, tokenId);

    public Task MintErc1155Async(string token, string to, BigInteger id, BigInteger amount) =>
        SendAsync("ERC1155PresetMinterPauser", token, Deployer, "mint", to, id, amount, Array.Empty<byte>());

    public Task TransferErc1155Async(string token, string from, string to, BigInteger id, BigInteger amount) =>
        SendAsync("ERC1155PresetMinterPauser", token, from, "safeTransferFrom", from, to, id, amount, Array.Empty<byte>());

    private async Task<string> DeployAsync(string contract, params object[] arguments)
    {
        var (abi, bytecode) = Artifact(contract);
        var receipt = await Web3.Eth.DeployContract.SendRequestAndWaitForReceiptAsync(abi, bytecode, Deployer, Gas, null, arguments);
        if (receipt.Status.Value != 1 || receipt.ContractAddress is null)
        {
            throw new InvalidOperationException($"deploying {contract} failed");
        }

        return receipt.ContractAddress;
    }

    private async Task SendAsync(string contract, string address, string from, string function, params object[] arguments)
    {
        var receipt = await Web3.Eth.GetContract(Abi(contract), address).GetFunction(function)
            .SendTransactionAndWaitForReceiptAsync(from, Gas, null, null, arguments);
        if (receipt.Status.Value != 1)
        {
            throw new InvalidOperationException($"{contract}.{function} reverted");
        }
    }

    private static string Abi(string contract) => Artifact(contract).Abi;

    private static (string Abi, string Bytecode) Artifact(string contract)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(ChainHarness.ContractPath(contract)));
        return (json.RootElement.GetProperty("abi").GetRawText(), json.RootElement.GetProperty("bytecode").GetString()!);
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }

    /// <summary>Stops anvil as a down endpoint would be: the port then refuses connections.</summary>
    public void Stop() => Kill(_process);

    public ValueTask DisposeAsync()
    {
        Kill(_process);
        return ValueTask.CompletedTask;
    }
}
