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
