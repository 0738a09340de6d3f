namespace WalverBot.Testing.Chains;

/// <summary>
/// Where the chain tests find anvil and OpenZeppelin's compiled contracts: <c>tools/chain/node_modules</c>, installed by
/// <c>npm ci --prefix tools/chain</c> (.ci/run and the test project's build run it). When they are missing the tests
/// fail with the command that installs them; they never pass without a chain.
/// </summary>
public static class ChainHarness
{
    public const string InstallCommand = "npm ci --prefix tools/chain";

    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "WalverBot.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("WalverBot.sln not found above " + AppContext.BaseDirectory);
    }

    public static string ModulesFolder => Path.Combine(RepositoryRoot(), "tools", "chain", "node_modules");

    public static string AnvilPath =>
        Environment.GetEnvironmentVariable("WALVERBOT_ANVIL") is { Length: > 0 } path
            ? path
            : Path.Combine(ModulesFolder, "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

    public static string ContractPath(string name) =>
        Path.Combine(ModulesFolder, "@openzeppelin", "contracts", "build", "contracts", name + ".json");

    /// <summary>Throws, naming what is missing and how to install it, unless anvil and the contracts are in place.</summary>
    public static void EnsureInstalled()
    {
        var missing = new List<string>();
        if (!File.Exists(AnvilPath))
        {
            missing.Add($"anvil ({AnvilPath}, npm package @foundry-rs/anvil-linux-amd64)");
        }

        if (!File.Exists(ContractPath("ERC20PresetMinterPauser")))
        {
            missing.Add($"OpenZeppelin's compiled contracts ({ContractPath("ERC20PresetMinterPauser")}, npm package @openzeppelin/contracts@4.9.6)");
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The chain tests need {string.Join(" and ", missing)}. Install them from the repository root with `{InstallCommand}` (needs Node.js and npm).");
        }
    }
}
