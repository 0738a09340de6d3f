using System.Globalization;

namespace WalverBot.Discord.Models;

/// <summary>Interaction callback types (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type).</summary>
public enum InteractionCallbackType
{
    /// <summary>PONG: acknowledges a ping (HTTP interactions only).</summary>
    Pong = 1,
    /// <summary>CHANNEL_MESSAGE_WITH_SOURCE: answer with a message.</summary>
    ChannelMessageWithSource = 4,
    /// <summary>DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: acknowledge now (the user sees "thinking…"), edit the original response later.</summary>
    DeferredChannelMessageWithSource = 5,
    /// <summary>DEFERRED_UPDATE_MESSAGE: components only; acknowledge without a loading state.</summary>
    DeferredUpdateMessage = 6,
    /// <summary>UPDATE_MESSAGE: components only; edit the message the component is on.</summary>
    UpdateMessage = 7,
    /// <summary>APPLICATION_COMMAND_AUTOCOMPLETE_RESULT: suggest choices.</summary>
    ApplicationCommandAutocompleteResult = 8,
}

/// <summary>
/// The body of <c>POST /interactions/{interaction_id}/{interaction_token}/callback</c>
/// (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object).
/// Must be sent within 3 seconds of receiving the interaction.
/// </summary>
/// <param name="Type">The kind of answer.</param>
/// <param name="Data">The message, or the autocomplete choices; null for a plain defer.</param>
public sealed record InteractionResponse(InteractionCallbackType Type, InteractionCallbackData? Data = null)
{
    /// <summary>Acknowledge now and edit the original response later; <paramref name="ephemeral"/> keeps the answer private.</summary>
    public static InteractionResponse Defer(bool ephemeral) =>
        new(InteractionCallbackType.DeferredChannelMessageWithSource, ephemeral ? new InteractionCallbackData(Flags: MessageFlags.Ephemeral) : null);

    /// <summary>Answer with a message, visible to the user only when <paramref name="ephemeral"/>; mentions never ping.</summary>
    public static InteractionResponse Message(string content, bool ephemeral) =>
        new(InteractionCallbackType.ChannelMessageWithSource, new InteractionCallbackData(
            Content: content, Flags: ephemeral ? MessageFlags.Ephemeral : null, AllowedMentions: AllowedMentions.None));

    /// <summary>Answer an autocomplete interaction with up to 25 choices.</summary>
    public static InteractionResponse Autocomplete(IReadOnlyList<ApplicationCommandOptionChoice> choices) =>
        new(InteractionCallbackType.ApplicationCommandAutocompleteResult, new InteractionCallbackData(Choices: choices));
}

/// <summary>Interaction callback data: message fields, or <c>choices</c> for autocomplete.</summary>
/// <param name="Content">Message text.</param>
/// <param name="Flags">Only EPHEMERAL, SUPPRESS_EMBEDS and SUPPRESS_NOTIFICATIONS may be set (EPHEMERAL only on a defer).</param>
/// <param name="Embeds">Up to 10 embeds.</param>
/// <param name="Components">Action rows.</param>
/// <param name="AllowedMentions">Which mentions may ping.</param>
/// <param name="Choices">Autocomplete suggestions (max 25).</param>
public sealed record InteractionCallbackData(
    string? Content = null,
    MessageFlags? Flags = null,
    IReadOnlyList<Embed>? Embeds = null,
    IReadOnlyList<MessageComponent>? Components = null,
    AllowedMentions? AllowedMentions = null,
    IReadOnlyList<ApplicationCommandOptionChoice>? Choices = null);

/// <summary>Interaction types (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-type).</summary>
public enum InteractionType
{
    /// <summary>PING (HTTP interactions only).</summary>
    Ping = 1,
    /// <summary>A slash, user or message command.</summary>
    ApplicationCommand = 2,
    /// <summary>A button press or select menu choice.</summary>
    MessageComponent = 3,
    /// <summary>Autocomplete of a command option being typed.</summary>
    ApplicationCommandAutocomplete = 4,
    /// <summary>A modal was submitted.</summary>
    ModalSubmit = 5,
}

/// <summary>An interaction (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object).</summary>
/// <param name="Id">Interaction id, used in the callback URL.</param>
/// <param name="ApplicationId">The application it is for.</param>
/// <param name="Type">What kind of interaction it is.</param>
/// <param name="Data">The command or component data; null for PING.</param>
/// <param name="GuildId">The guild it was sent from; null in DMs.</param>
/// <param name="ChannelId">The channel it was sent from.</param>
/// <param name="Member">The invoking member with their permissions, in a guild.</param>
/// <param name="User">The invoking user, in DMs.</param>
/// <param name="Token">Continuation token for responding (valid 15 minutes); never log it.</param>
/// <param name="Locale">The invoking user's language.</param>
/// <param name="GuildLocale">The guild's preferred language.</param>
/// <param name="AppPermissions">The bot's permissions in the channel.</param>
public sealed record Interaction(
    ulong Id,
    ulong ApplicationId,
    InteractionType Type,
    InteractionData? Data,
    ulong? GuildId,
    ulong? ChannelId,
    InteractionMember? Member,
    DiscordUser? User,
    string Token,
    string? Locale,
    string? GuildLocale,
    DiscordPermissions? AppPermissions)
{
    /// <summary>Who invoked the interaction: the member's user in a guild, the user in DMs.</summary>
    public DiscordUser? Invoker => Member?.Member.User ?? User;

    /// <summary>Keeps the continuation token out of logs and exception messages.</summary>
    public override string ToString() => $"Interaction {{ Id = {Id}, Type = {Type}, Name = {Data?.Name ?? Data?.CustomId}, GuildId = {GuildId} }}";
}

/// <summary>The member who invoked an interaction, with their permissions in the channel.</summary>
/// <param name="Member">The guild member.</param>
/// <param name="Permissions">Total permissions of the member in the channel, overwrites included.</param>
public sealed record InteractionMember(GuildMember Member, DiscordPermissions Permissions);

/// <summary>The data of a command, component or modal interaction.</summary>
/// <param name="Id">Command id (commands only).</param>
/// <param name="Name">Command name (commands only).</param>
/// <param name="CommandType">1 slash, 2 user, 3 message (commands only).</param>
/// <param name="Options">The options given, sub-commands nested.</param>
/// <param name="Resolved">Users, members, roles and channels the options refer to.</param>
/// <param name="CustomId">The component's or modal's custom id (components and modals only).</param>
/// <param name="ComponentType">The component type (components only).</param>
/// <param name="Values">Values chosen in a select menu.</param>
/// <param name="TargetId">The user or message a context-menu command targets.</param>
public sealed record InteractionData(
    ulong? Id,
    string? Name,
    int? CommandType,
    IReadOnlyList<InteractionOption> Options,
    InteractionResolved? Resolved,
    string? CustomId,
    int? ComponentType,
    IReadOnlyList<string> Values,
    ulong? TargetId);

/// <summary>One option of a command; sub-commands and groups carry their own options.</summary>
/// <param name="Name">Option name.</param>
/// <param name="Type">Option type.</param>
/// <param name="Value">The value as text: strings as given, ids as decimal text, numbers in invariant culture, booleans as true/false. Null for sub-commands.</param>
/// <param name="Options">Nested options of a sub-command or group.</param>
/// <param name="Focused">True for the option being typed in an autocomplete interaction.</param>
public sealed record InteractionOption(
    string Name,
    ApplicationCommandOptionType Type,
    string? Value,
    IReadOnlyList<InteractionOption> Options,
    bool Focused)
{
    /// <summary>The value as a snowflake (user, role, channel, mentionable options); null when absent or not an id.</summary>
    public ulong? AsSnowflake() => ulong.TryParse(Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>The value as an integer; null when absent or not an integer.</summary>
    public long? AsInt64() => long.TryParse(Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The value as a number; null when absent or not a number.</summary>
    public double? AsDouble() => double.TryParse(Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The value as a boolean; null when absent or not a boolean.</summary>
    public bool? AsBoolean() => bool.TryParse(Value, out var b) ? b : null;
}

/// <summary>The entities a command's options refer to, keyed by id.</summary>
/// <param name="Users">Users by id.</param>
/// <param name="Members">Partial members by user id (without the user, which is in <paramref name="Users"/>).</param>
/// <param name="Roles">Roles by id.</param>
/// <param name="Channels">Partial channels by id.</param>
public sealed record InteractionResolved(
    IReadOnlyDictionary<ulong, DiscordUser> Users,
    IReadOnlyDictionary<ulong, GuildMember> Members,
    IReadOnlyDictionary<ulong, DiscordRole> Roles,
    IReadOnlyDictionary<ulong, DiscordChannel> Channels);
