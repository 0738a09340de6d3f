using System.Globalization;
using System.Text.Json.Nodes;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>Discord's wire shapes (snake_case, snowflakes as strings), built by hand so they do not depend on our client's models.</summary>
internal static class FakeDiscordJson
{
    public static JsonObject User(string id, string username, string? globalName, bool bot, string discriminator = "0") => new()
    {
        ["id"] = id,
        ["username"] = username,
        ["discriminator"] = discriminator,
        ["global_name"] = globalName,
        ["avatar"] = null,
        ["bot"] = bot ? true : null,
        ["public_flags"] = 0,
    };

    public static JsonObject Role(FakeRole role) => new()
    {
        ["id"] = role.Id,
        ["name"] = role.Name,
        ["color"] = 0,
        ["hoist"] = false,
        ["icon"] = null,
        ["unicode_emoji"] = null,
        ["position"] = role.Position,
        ["permissions"] = role.Permissions,
        ["managed"] = role.Managed,
        ["mentionable"] = false,
        ["flags"] = 0,
    };

    public static JsonObject Member(FakeMember member) => new()
    {
        ["user"] = User(member.UserId, member.Username, member.GlobalName, member.Bot, member.Discriminator),
        ["nick"] = member.Nick,
        ["avatar"] = null,
        ["roles"] = new JsonArray([.. member.Roles.Select(r => (JsonNode)JsonValue.Create(r))]),
        ["joined_at"] = member.JoinedAt.ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture),
        ["premium_since"] = null,
        ["deaf"] = false,
        ["mute"] = false,
        ["flags"] = 0,
        ["pending"] = false,
    };

    /// <summary>A channel; one the bot cannot send in carries what Discord would: a member overwrite denying SEND_MESSAGES to the bot.</summary>
    public static JsonObject Channel(FakeChannel channel, int position, string botUserId) => new()
    {
        ["id"] = channel.Id,
        ["type"] = channel.Type,
        ["guild_id"] = channel.GuildId,
        ["name"] = channel.Name,
        ["position"] = position,
        ["permission_overwrites"] = channel.BotCanSend
            ? new JsonArray()
            : new JsonArray(new JsonObject
            {
                ["id"] = botUserId,
                ["type"] = 1,
                ["allow"] = "0",
                ["deny"] = FakeDiscordPermissions.SendMessages.ToString(CultureInfo.InvariantCulture),
            }),
        ["parent_id"] = null,
        ["nsfw"] = false,
    };

    public static JsonObject Error(int code, string message, JsonObject? errors = null)
    {
        var body = new JsonObject { ["message"] = message, ["code"] = code };
        if (errors is not null)
        {
            body["errors"] = errors;
        }

        return body;
    }

    /// <summary>Discord's nested validation error shape: {"field": {"_errors": [{"code", "message"}]}}.</summary>
    public static JsonObject FieldError(string field, string code, string message) => new()
    {
        [field] = new JsonObject
        {
            ["_errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }),
        },
    };

    public static string Seconds(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
