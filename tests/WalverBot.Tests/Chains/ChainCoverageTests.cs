using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using WalverBot.Chains;
using WalverBot.Operations;
using WalverBot.Testing.Chains;
using WalverBot.Tests.Storage;
using WalverBot.Verifications;

namespace WalverBot.Tests.Chains;

/// <summary>The start-up warning and <c>check</c>'s lines for chains with and without an RPC endpoint.</summary>
public sealed class ChainCoverageTests
{
    private static Verification Gated(string id, string chain, string? token, string? standard = null, decimal? min = 1m) => new()
    {
        Id = id,
        GuildId = 1,
        RoleId = 2,
        SecretHash = "x",
        Chain = chain,
        TokenAddress = token,
        TokenStandard = standard,
        MinAmount = min,
        Source = "declared",
    };

    private static async Task<TestDatabase> DatabaseWithAsync(params Verification[] verifications)
    {
        var database = await TestDatabase.CreateAsync();
        var store = new VerificationStore(database.Database, TimeProvider.System);
        foreach (var verification in verifications)
        {
            await store.UpsertAsync(verification);
        }

        return database;
    }

    [Fact]
    public async Task At_start_each_gated_chain_without_an_endpoint_is_one_warning()
    {
        await using var database = await DatabaseWithAsync(
            Gated("wb_a", "polygon", "0x" + new string('1', 40)),
            Gated("wb_b", "polygon", "0x" + new string('2', 40)),
            Gated("wb_c", "solana", null, TokenStandards.Native),
            Gated("wb_d", "ethereum", "0x" + new string('3', 40)),
            Gated("wb_e", "base", null)); // no token gate: nothing to re-check
        await using var host = ChainTestHost.Create(new Dictionary<string, string?> { ["Chains:ethereum:RpcUrl"] = "http://127.0.0.1:1/" },
            configure: services => services.AddSingleton(database.Database));

        foreach (var service in host.Services.GetServices<IHostedService>().OfType<ChainCoverageReporter>())
        {
            await service.StartAsync(CancellationToken.None);
        }

        var warnings = host.Logs.Lines.Where(l => l.Contains("has no RPC endpoint", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("Chain polygon", StringComparison.Ordinal) && w.Contains("Chains:polygon:RpcUrl", StringComparison.Ordinal) && w.Contains("2 token-gated", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("Chain solana", StringComparison.Ordinal) && w.Contains("not re-checked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_prints_one_line_per_configured_chain_and_per_gated_chain_without_one()
    {
        await using var database = await DatabaseWithAsync(Gated("wb_a", "polygon", "0x" + new string('1', 40)));
        await using var solana = await FakeSolanaRpc.StartAsync("/s3cret-key/");
        await using var host = ChainTestHost.Create(new Dictionary<string, string?>
        {
            ["Chains:solana:RpcUrl"] = solana.RpcUrl.ToString(),
            ["Chains:base:RpcUrl"] = "http://127.0.0.1:1/v2/an0ther-key",
        }, t => t.MaxRetries = 0, configure: services => services.AddSingleton(database.Database));
        var output = new StringWriter();

        await ChainCoverage.CheckAsync(host.Services, new CheckReport(output), CancellationToken.None);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("FAIL  chain base: base RPC http://127.0.0.1:1", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"ok    chain solana: http://127.0.0.1:{solana.RpcUrl.Port} answers (getHealth ok, slot {solana.Slot}", lines[1], StringComparison.Ordinal);
        Assert.Equal("warn  chain polygon: Chains:polygon:RpcUrl is not set: its 1 token-gated verification(s) are not re-checked", lines[2]);
        Assert.DoesNotContain("s3cret-key", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("an0ther-key", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Needs", "anvil")]
    public async Task Check_reads_the_chain_id_of_an_evm_endpoint()
    {
        await using var anvil = await AnvilNode.StartAsync();
        await using var database = await DatabaseWithAsync();
        await using var host = ChainTestHost.Create(new Dictionary<string, string?> { ["Chains:ethereum:RpcUrl"] = anvil.RpcUrl.ToString() },
            configure: services => services.AddSingleton(database.Database));
        var output = new StringWriter();

        await ChainCoverage.CheckAsync(host.Services, new CheckReport(output), CancellationToken.None);

        Assert.StartsWith($"ok    chain ethereum: http://127.0.0.1:{anvil.RpcUrl.Port} answers (chain id 31337, block ", output.ToString(), StringComparison.Ordinal);
    }
}
