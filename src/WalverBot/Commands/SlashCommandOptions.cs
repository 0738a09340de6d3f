using Microsoft.Extensions.Options;
using WalverBot.Discord;

namespace WalverBot.Commands;

/// <summary>Where the slash commands are registered; bound from the <c>Discord</c> section next to the client's settings.</summary>
public sealed class SlashCommandOptions
{
    public const string SectionName = DiscordOptions.SectionName;

    /// <summary>Guilds to register slash commands in (instant updates while setting up); empty registers them globally.</summary>
    public List<ulong> CommandGuildIds { get; set; } = [];
}

internal sealed class SlashCommandOptionsValidator : IValidateOptions<SlashCommandOptions>
{
    public ValidateOptionsResult Validate(string? name, SlashCommandOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.CommandGuildIds.Count; i++)
        {
            if (options.CommandGuildIds[i] == 0)
            {
                failures.Add($"{SlashCommandOptions.SectionName}:CommandGuildIds:{i} must be a Discord id: a server's id such as 123456789012345678, not 0");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
