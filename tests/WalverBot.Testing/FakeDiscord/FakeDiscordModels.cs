using System.Text.Json.Nodes;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>A role to seed. Permissions is Discord's bitfield serialized as a decimal string.</summary>
public sealed record FakeRole(string Id, string Name, int Position, string Permissions = "0", bool Managed = false);

/// <summary>A guild member to seed (and what inspection returns). Discriminator is always "0" (new usernames).</summary>
public sealed record FakeMember(string UserId, string Username)
{
    public string? GlobalName { get; init; }

    public string? Nick { get; init; }

    public IReadOnlyList<string> Roles { get; init; } = [];

    public bool Bot { get; init; }

    /// <summary>"0" for migrated accounts (unique usernames); four digits for a legacy account not yet migrated.</summary>
    public string Discriminator { get; init; } = "0";

    public DateTimeOffset JoinedAt { get; init; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
}

/// <summary>A guild channel to seed. Type 0 is GUILD_TEXT. BotCanSend=false makes message posts answer 50013.</summary>
public sealed record FakeChannel(string Id, string GuildId, string Name, int Type = 0, bool BotCanSend = true);

/// <summary>A message the bot posted to a channel, a webhook or as an interaction response.</summary>
public sealed record FakeSentMessage(string Id, string ChannelId, JsonObject Body, DateTimeOffset At)
{
    /// <summary>Files uploaded with the message (multipart/form-data), in part order.</summary>
    public IReadOnlyList<FakeAttachment> Attachments { get; init; } = [];
}

/// <summary>What the bot answered to an interaction callback.</summary>
public sealed record FakeInteractionCallback(string InteractionId, int Type, JsonNode? Data, DateTimeOffset At);

/// <summary>A role change Discord accepted.</summary>
public sealed record FakeRoleChange(string Method, string GuildId, string UserId, string RoleId, string? AuditLogReason, DateTimeOffset At);

/// <summary>An interaction the fake knows about (so its callback and webhook routes work).</summary>
public sealed class FakeInteraction
{
    internal FakeInteraction(string id, string token, string applicationId, DateTimeOffset createdAt, JsonObject payload)
    {
        Id = id;
        Token = token;
        ApplicationId = applicationId;
        CreatedAt = createdAt;
        Payload = payload;
    }

    public string Id { get; }

    public string Token { get; }

    public string ApplicationId { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>The INTERACTION_CREATE dispatch data; send it with the gateway's DispatchAsync.</summary>
    public JsonObject Payload { get; }

    internal FakeInteractionCallback? Callback { get; set; }

    internal List<FakeSentMessage> Edits { get; } = [];

    internal List<FakeSentMessage> Followups { get; } = [];
}

/// <summary>Discord permission bits used by the fake. See Discord's "Permissions" topic.</summary>
public static class FakeDiscordPermissions
{
    public const ulong KickMembers = 1UL << 1;
    public const ulong BanMembers = 1UL << 2;
    public const ulong Administrator = 1UL << 3;
    public const ulong ManageChannels = 1UL << 4;
    public const ulong ManageGuild = 1UL << 5;
    public const ulong ViewChannel = 1UL << 10;
    public const ulong SendMessages = 1UL << 11;
    public const ulong ManageRoles = 1UL << 28;
    public const ulong ManageWebhooks = 1UL << 29;

    /// <summary>Every permission bit Discord defines today (enough for "all").</summary>
    public const ulong All = (1UL << 51) - 1;

    public static string Of(params ulong[] bits) => bits.Aggregate(0UL, (acc, bit) => acc | bit).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A file the bot uploaded with a message (a <c>files[n]</c> part): Id is n, Content the bytes as sent.</summary>
public sealed record FakeAttachment(string Id, string FileName, string? ContentType, byte[] Content)
{
    /// <summary>The content as UTF-8 text, e.g. a CSV.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Content);

    internal JsonObject ToJson() => new()
    {
        ["id"] = FakeSnowflake.At(DateTimeOffset.UtcNow),
        ["filename"] = FileName,
        ["size"] = Content.Length,
        ["url"] = "https://cdn.discordapp.com/attachments/0/0/" + Uri.EscapeDataString(FileName),
        ["proxy_url"] = "https://media.discordapp.net/attachments/0/0/" + Uri.EscapeDataString(FileName),
        ["content_type"] = ContentType,
    };
}
