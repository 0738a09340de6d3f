using System.Text.RegularExpressions;
using WalverBot.Commands;
using WalverBot.Discord.Models;

namespace WalverBot.Tests.Commands;

/// <summary>Discord's limits on command definitions, checked here rather than discovered as a 400 at start.</summary>
public sealed class CommandDefinitionsTests
{
    private static readonly Regex Name = new(@"^[-_\p{Ll}\p{N}]{1,32}$");

    public static IEnumerable<object[]> AllOptions() =>
        CommandDefinitions.All.SelectMany(c => Flatten(c.Name, c.Options ?? [])).Select(o => new object[] { o.Path, o.Option });

    [Fact]
    public void Commands_have_valid_names_and_descriptions()
    {
        Assert.All(CommandDefinitions.All, c =>
        {
            Assert.Matches(Name, c.Name);
            Assert.InRange(c.Description.Length, 1, 100);
            Assert.True((c.Options?.Count ?? 0) <= 25);
            Assert.Equal([InteractionContextType.Guild], c.Contexts);
        });
    }

    [Theory]
    [MemberData(nameof(AllOptions))]
    public void Every_option_keeps_to_Discords_limits(string path, ApplicationCommandOption option)
    {
        Assert.Matches(Name, option.Name);
        Assert.InRange(option.Description.Length, 1, 100);
        Assert.True((option.Choices?.Count ?? 0) <= 25, path);
        Assert.False(option.Autocomplete == true && option.Choices is not null, $"{path}: autocomplete and choices exclude each other");

        // Required options come first.
        var children = option.Options ?? [];
        var firstOptional = children.TakeWhile(o => o.Required == true).Count();
        Assert.All(children.Skip(firstOptional), o => Assert.NotEqual(true, o.Required));
    }

    [Fact]
    public void Only_walver_needs_Manage_Roles()
    {
        Assert.Equal(DiscordPermissions.ManageRoles, CommandDefinitions.All.Single(c => c.Name == "walver").DefaultMemberPermissions);
        Assert.Null(CommandDefinitions.All.Single(c => c.Name == "verify").DefaultMemberPermissions);
    }

    [Fact]
    public void The_hash_is_a_stable_digest_of_the_definitions()
    {
        Assert.Matches("^[0-9a-f]{64}$", CommandDefinitions.Hash);
        var again = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(CommandDefinitions.All, DiscordJson.Options)));
        Assert.Equal(again, CommandDefinitions.Hash);
        var changed = CommandDefinitions.All.Select(c => c with { Description = c.Description + "!" }).ToList();
        Assert.NotEqual(CommandDefinitions.Hash, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(changed, DiscordJson.Options))));
    }

    private static IEnumerable<(string Path, ApplicationCommandOption Option)> Flatten(string parent, IEnumerable<ApplicationCommandOption> options) =>
        options.SelectMany(o => new[] { ($"{parent} {o.Name}", o) }.Concat(Flatten($"{parent} {o.Name}", o.Options ?? [])));
}
