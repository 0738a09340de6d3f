using System.Text.Json.Serialization;

namespace WalverBot.Discord.Models;

/// <summary>Application command types (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-types).</summary>
public enum ApplicationCommandType
{
    /// <summary>CHAT_INPUT: a slash command.</summary>
    ChatInput = 1,
    /// <summary>USER: a context-menu command on a user.</summary>
    User = 2,
    /// <summary>MESSAGE: a context-menu command on a message.</summary>
    Message = 3,
}

/// <summary>Option types (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-type).</summary>
public enum ApplicationCommandOptionType
{
    /// <summary>SUB_COMMAND.</summary>
    SubCommand = 1,
    /// <summary>SUB_COMMAND_GROUP.</summary>
    SubCommandGroup = 2,
    /// <summary>STRING.</summary>
    String = 3,
    /// <summary>INTEGER: any integer between -2^53 and 2^53.</summary>
    Integer = 4,
    /// <summary>BOOLEAN.</summary>
    Boolean = 5,
    /// <summary>USER.</summary>
    User = 6,
    /// <summary>CHANNEL: includes all channel types and categories.</summary>
    Channel = 7,
    /// <summary>ROLE.</summary>
    Role = 8,
    /// <summary>MENTIONABLE: users and roles.</summary>
    Mentionable = 9,
    /// <summary>NUMBER: any double between -2^53 and 2^53.</summary>
    Number = 10,
    /// <summary>ATTACHMENT.</summary>
    Attachment = 11,
}

/// <summary>Where a command can be used (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-context-types).</summary>
public enum InteractionContextType
{
    /// <summary>GUILD: inside servers.</summary>
    Guild = 0,
    /// <summary>BOT_DM: in the bot's DMs.</summary>
    BotDm = 1,
    /// <summary>PRIVATE_CHANNEL: group DMs and other DMs.</summary>
    PrivateChannel = 2,
}

/// <summary>How the app is installed for a command to be available (https://discord.com/developers/docs/resources/application#application-object-application-integration-types).</summary>
public enum ApplicationIntegrationType
{
    /// <summary>GUILD_INSTALL: installed to a server.</summary>
    GuildInstall = 0,
    /// <summary>USER_INSTALL: installed to a user.</summary>
    UserInstall = 1,
}

/// <summary>
/// An application command, as sent to the bulk-overwrite endpoints and as Discord returns it
/// (https://discord.com/developers/docs/interactions/application-commands#application-command-object).
/// </summary>
/// <param name="Name">1–32 characters, lower case for slash commands.</param>
/// <param name="Description">1–100 characters (empty for user and message commands).</param>
/// <param name="Type">Defaults to a slash command.</param>
/// <param name="Options">Parameters or subcommands, max 25.</param>
/// <param name="DefaultMemberPermissions">Permissions a member needs by default (sent as a string); null lets everyone use it, <see cref="DiscordPermissions.None"/> only admins.</param>
/// <param name="Contexts">Where the command may be used; e.g. only <see cref="InteractionContextType.Guild"/>.</param>
/// <param name="IntegrationTypes">Installation contexts where the command is available.</param>
/// <param name="DmPermission">Deprecated predecessor of <paramref name="Contexts"/>; prefer contexts.</param>
/// <param name="Nsfw">Age-restricted command.</param>
/// <param name="Id">Set by Discord; when sent in a bulk overwrite, updates that command.</param>
/// <param name="ApplicationId">Set by Discord.</param>
/// <param name="GuildId">Set by Discord for guild commands.</param>
/// <param name="Version">Set by Discord; changes on every update.</param>
public sealed record ApplicationCommand(
    string Name,
    string Description,
    ApplicationCommandType? Type = ApplicationCommandType.ChatInput,
    IReadOnlyList<ApplicationCommandOption>? Options = null,
    DiscordPermissions? DefaultMemberPermissions = null,
    IReadOnlyList<InteractionContextType>? Contexts = null,
    IReadOnlyList<ApplicationIntegrationType>? IntegrationTypes = null,
    bool? DmPermission = null,
    bool? Nsfw = null,
    ulong? Id = null,
    ulong? ApplicationId = null,
    ulong? GuildId = null,
    ulong? Version = null);

/// <summary>A command option or subcommand (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-structure).</summary>
/// <param name="Type">Option type.</param>
/// <param name="Name">1–32 characters.</param>
/// <param name="Description">1–100 characters.</param>
/// <param name="Required">Whether the parameter is required (not for subcommands); required options must come first.</param>
/// <param name="Choices">Up to 25 fixed choices for string, integer and number options.</param>
/// <param name="Options">The parameters of a subcommand, or the subcommands of a group.</param>
/// <param name="ChannelTypes">Channel options only: which channel types are shown.</param>
/// <param name="MinValue">Integer and number options: minimum.</param>
/// <param name="MaxValue">Integer and number options: maximum.</param>
/// <param name="MinLength">String options: minimum length (0–6000).</param>
/// <param name="MaxLength">String options: maximum length (1–6000).</param>
/// <param name="Autocomplete">Suggest values through autocomplete interactions; not with <paramref name="Choices"/>.</param>
public sealed record ApplicationCommandOption(
    ApplicationCommandOptionType Type,
    string Name,
    string Description,
    bool? Required = null,
    IReadOnlyList<ApplicationCommandOptionChoice>? Choices = null,
    IReadOnlyList<ApplicationCommandOption>? Options = null,
    IReadOnlyList<ChannelType>? ChannelTypes = null,
    double? MinValue = null,
    double? MaxValue = null,
    int? MinLength = null,
    int? MaxLength = null,
    bool? Autocomplete = null);

/// <summary>A fixed or autocompleted choice (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-choice-structure).</summary>
/// <param name="Name">1–100 characters shown to the user.</param>
/// <param name="Value">A string (up to 100 characters), an integer (<see cref="long"/>) or a double, matching the option type.</param>
public sealed record ApplicationCommandOptionChoice(
    string Name,
    [property: JsonConverter(typeof(ChoiceValueJsonConverter))] object Value);
