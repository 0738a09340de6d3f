using System.Reflection;
using System.Text.RegularExpressions;
using WalverBot.Grants;

namespace WalverBot.Tests.Operations;

/// <summary>The README's outcome and answer tables are the operator's contract: they must match what the code produces.</summary>
public sealed partial class ReadmeContractTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

    [Fact]
    public void Every_outcome_the_code_names_is_in_the_outcome_table_and_nothing_else()
    {
        var inCode = typeof(Outcomes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal);

        var table = Section("## What the bot decides").Split('\n')
            .SkipWhile(line => !line.StartsWith("| outcome |", StringComparison.Ordinal))
            .Skip(2)
            .TakeWhile(line => line.StartsWith('|'))
            .SelectMany(line => BacktickName().Matches(line.Split('|')[1]).Select(m => m.Groups[1].Value))
            .Order(StringComparer.Ordinal);

        Assert.Equal(inCode, table);
    }

    [Theory]
    [InlineData("408")]
    [InlineData("503")]
    public void The_answer_table_lists_each_status_the_webhook_can_answer(string status)
    {
        var rows = Section("## Setting up the Walver side").Split('\n').Where(line => line.StartsWith("| `", StringComparison.Ordinal));

        Assert.Contains(rows, row => row.Split('|')[1].Contains(status, StringComparison.Ordinal));
    }

    [Fact]
    public void The_answer_table_says_503_also_means_shutting_down()
    {
        var row = Section("## Setting up the Walver side").Split('\n').Single(line => line.StartsWith("| `503`", StringComparison.Ordinal));

        Assert.Contains("shutting down", row, StringComparison.Ordinal);
        Assert.Contains("Retry-After", row, StringComparison.Ordinal);
    }

    private static string Section(string heading)
    {
        var start = Readme.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no section {heading}");
        var end = Readme.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? Readme[start..] : Readme[start..end];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WalverBot.sln")) && File.Exists(Path.Combine(dir.FullName, "README.md")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no WalverBot.sln with a README.md above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("`([a-z_]+)`")]
    private static partial Regex BacktickName();
}
