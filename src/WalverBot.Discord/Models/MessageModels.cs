namespace WalverBot.Discord.Models;

/// <summary>Message flags (https://discord.com/developers/docs/resources/message#message-object-message-flags).</summary>
[Flags]
public enum MessageFlags
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>SUPPRESS_EMBEDS: no link previews.</summary>
    SuppressEmbeds = 1 << 2,
    /// <summary>EPHEMERAL (64): only the interaction's user sees the message.</summary>
    Ephemeral = 1 << 6,
    /// <summary>SUPPRESS_NOTIFICATIONS: no push or desktop notification.</summary>
    SuppressNotifications = 1 << 12,
}

/// <summary>A message (https://discord.com/developers/docs/resources/message#message-object), the fields the bot reads.</summary>
/// <param name="Id">Snowflake id.</param>
/// <param name="ChannelId">The channel it was sent in.</param>
/// <param name="Content">Text content.</param>
/// <param name="Author">The author, when Discord sends it.</param>
/// <param name="Flags">Message flags.</param>
public sealed record DiscordMessage(ulong Id, ulong ChannelId, string? Content = null, DiscordUser? Author = null, MessageFlags Flags = MessageFlags.None);

/// <summary>
/// The body of a new message: <c>POST /channels/{channel_id}/messages</c> and interaction follow-ups
/// (https://discord.com/developers/docs/resources/message#create-message). Null fields are left out.
/// </summary>
/// <param name="Content">Text, up to 2000 characters.</param>
/// <param name="Embeds">Up to 10 embeds.</param>
/// <param name="Components">Action rows holding buttons.</param>
/// <param name="AllowedMentions">Which mentions may ping; use <see cref="AllowedMentions.None"/> for user-supplied text.</param>
/// <param name="Flags">E.g. <see cref="MessageFlags.Ephemeral"/> for follow-ups.</param>
public sealed record MessageCreate(
    string? Content = null,
    IReadOnlyList<Embed>? Embeds = null,
    IReadOnlyList<MessageComponent>? Components = null,
    AllowedMentions? AllowedMentions = null,
    MessageFlags? Flags = null);

/// <summary>
/// The body of a message edit, e.g. <c>PATCH /webhooks/{application_id}/{token}/messages/@original</c>
/// (https://discord.com/developers/docs/resources/webhook#edit-webhook-message). Null fields stay unchanged.
/// </summary>
/// <param name="Content">New text.</param>
/// <param name="Embeds">New embeds (an empty list removes them).</param>
/// <param name="Components">New components (an empty list removes them).</param>
/// <param name="AllowedMentions">Which mentions may ping.</param>
public sealed record MessageEdit(
    string? Content = null,
    IReadOnlyList<Embed>? Embeds = null,
    IReadOnlyList<MessageComponent>? Components = null,
    AllowedMentions? AllowedMentions = null);

/// <summary>A minimal embed (https://discord.com/developers/docs/resources/message#embed-object).</summary>
/// <param name="Title">Title.</param>
/// <param name="Description">Body text.</param>
/// <param name="Url">Link of the title.</param>
/// <param name="Color">RGB colour as an integer.</param>
/// <param name="Fields">Up to 25 fields.</param>
/// <param name="Footer">Footer.</param>
public sealed record Embed(
    string? Title = null,
    string? Description = null,
    string? Url = null,
    int? Color = null,
    IReadOnlyList<EmbedField>? Fields = null,
    EmbedFooter? Footer = null);

/// <summary>An embed field.</summary>
/// <param name="Name">Field name.</param>
/// <param name="Value">Field value.</param>
/// <param name="Inline">Whether to show it inline.</param>
public sealed record EmbedField(string Name, string Value, bool? Inline = null);

/// <summary>An embed footer.</summary>
/// <param name="Text">Footer text.</param>
public sealed record EmbedFooter(string Text);

/// <summary>Component types used by the bot (https://discord.com/developers/docs/components/reference#component-object-component-types).</summary>
public enum ComponentType
{
    /// <summary>A row holding up to five buttons.</summary>
    ActionRow = 1,
    /// <summary>A button.</summary>
    Button = 2,
}

/// <summary>Button styles (https://discord.com/developers/docs/components/reference#button-button-styles).</summary>
public enum ButtonStyle
{
    /// <summary>Blurple, with a custom id.</summary>
    Primary = 1,
    /// <summary>Grey, with a custom id.</summary>
    Secondary = 2,
    /// <summary>Green, with a custom id.</summary>
    Success = 3,
    /// <summary>Red, with a custom id.</summary>
    Danger = 4,
    /// <summary>Grey, opens <c>url</c>; sends no interaction.</summary>
    Link = 5,
}

/// <summary>A message component: an action row or a button (https://discord.com/developers/docs/components/reference).</summary>
/// <param name="Type">Component type.</param>
/// <param name="Components">The children of an action row.</param>
/// <param name="Style">Button style.</param>
/// <param name="Label">Button text.</param>
/// <param name="Url">Link buttons only.</param>
/// <param name="CustomId">Non-link buttons only.</param>
/// <param name="Disabled">Whether the button is disabled.</param>
public sealed record MessageComponent(
    ComponentType Type,
    IReadOnlyList<MessageComponent>? Components = null,
    ButtonStyle? Style = null,
    string? Label = null,
    string? Url = null,
    string? CustomId = null,
    bool? Disabled = null)
{
    /// <summary>An action row holding the given buttons.</summary>
    public static MessageComponent ActionRow(params IReadOnlyList<MessageComponent> components) =>
        new(ComponentType.ActionRow, Components: components);

    /// <summary>A link button: opens <paramref name="url"/> in the browser (link buttons carry no custom id).</summary>
    public static MessageComponent LinkButton(string label, string url) =>
        new(ComponentType.Button, Style: ButtonStyle.Link, Label: label, Url: url);
}

/// <summary>Which mentions in a message may ping (https://discord.com/developers/docs/resources/message#allowed-mentions-object).</summary>
/// <param name="Parse">Mention kinds parsed from content: "roles", "users", "everyone". Empty parses none.</param>
/// <param name="Roles">Role ids that may be pinged.</param>
/// <param name="Users">User ids that may be pinged.</param>
/// <param name="RepliedUser">Whether a reply pings its author.</param>
public sealed record AllowedMentions(
    IReadOnlyList<string>? Parse = null,
    IReadOnlyList<ulong>? Roles = null,
    IReadOnlyList<ulong>? Users = null,
    bool? RepliedUser = null)
{
    /// <summary>No mention pings anyone: the safe default for text holding user input.</summary>
    public static AllowedMentions None { get; } = new(Parse: []);
}

/// <summary>A file to upload with a message (https://discord.com/developers/docs/reference#uploading-files); not serialized itself.</summary>
/// <param name="FileName">The attachment's name, e.g. <c>holders.csv</c>.</param>
/// <param name="ContentType">Its media type, e.g. <c>text/csv</c>.</param>
/// <param name="Content">The bytes.</param>
/// <param name="Description">Alt text shown by Discord.</param>
public sealed record FileUpload(string FileName, string ContentType, ReadOnlyMemory<byte> Content, string? Description = null);
