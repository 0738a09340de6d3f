using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeDiscord;

public sealed partial class FakeDiscordServer
{
    // Discord: "you must send an initial response within 3 seconds of receiving the event";
    // "Interaction tokens are valid for 15 minutes".
    private static readonly TimeSpan InitialResponseDeadline = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan InteractionTokenLifetime = TimeSpan.FromMinutes(15);

    /// <summary>The shared pipeline (record, outage), Discord's JSON for unrouted requests, then the API routes behind the edge filter.</summary>
    private void MapEndpoints(WebApplication app)
    {
        app.Use(_pipeline.InvokeAsync);
        app.Use(AnswerUnroutedAsync);
        var api = app.MapGroup(ApiPrefix).AddEndpointFilter(EdgeAsync);

        Route(api.MapGet("/users/@me", GetCurrentUser), FakeDiscordBuckets.Default);
        Route(api.MapGet("/users/@me/guilds", GetCurrentUserGuilds), FakeDiscordBuckets.Default);
        Route(api.MapGet("/gateway/bot", GetGatewayBot), FakeDiscordBuckets.Default);
        Route(api.MapGet("/guilds/{guildId}", GetGuild), FakeDiscordBuckets.Default);
        Route(api.MapGet("/guilds/{guildId}/roles", GetGuildRoles), FakeDiscordBuckets.Default);
        Route(api.MapGet("/guilds/{guildId}/channels", GetGuildChannels), FakeDiscordBuckets.Default);
        Route(api.MapGet("/guilds/{guildId}/members/search", SearchMembers), FakeDiscordBuckets.MemberSearch);
        Route(api.MapGet("/guilds/{guildId}/members/{userId}", GetGuildMember), FakeDiscordBuckets.MemberGet);
        Route(api.MapPut("/guilds/{guildId}/members/{userId}/roles/{roleId}", (string guildId, string userId, string roleId, HttpRequest request) => ChangeMemberRole(guildId, userId, roleId, request, add: true)), FakeDiscordBuckets.MemberRoles);
        Route(api.MapDelete("/guilds/{guildId}/members/{userId}/roles/{roleId}", (string guildId, string userId, string roleId, HttpRequest request) => ChangeMemberRole(guildId, userId, roleId, request, add: false)), FakeDiscordBuckets.MemberRoles);
        Route(api.MapGet("/channels/{channelId}", GetChannel), FakeDiscordBuckets.Default);
        Route(api.MapPost("/channels/{channelId}/messages", CreateMessage), FakeDiscordBuckets.ChannelMessages);
        Route(api.MapPut("/applications/{applicationId}/commands", (string applicationId, HttpRequest request) => OverwriteCommands(applicationId, null, request)), FakeDiscordBuckets.Commands);
        Route(api.MapPut("/applications/{applicationId}/guilds/{guildId}/commands", OverwriteCommands), FakeDiscordBuckets.Commands);

        // Interaction and webhook routes authenticate with the token in the path, not the bot token, and
        // "Interaction endpoints are not bound to the bot's Global Rate Limit" (Discord, Rate Limits).
        Route(api.MapPost("/interactions/{interactionId}/{token}/callback", CreateInteractionResponse), FakeDiscordBuckets.InteractionCallback, interaction: true);
        Route(api.MapPatch("/webhooks/{applicationId}/{token}/messages/@original", EditOriginalResponse), FakeDiscordBuckets.Webhook, interaction: true);
        Route(api.MapPost("/webhooks/{applicationId}/{token}", CreateFollowup), FakeDiscordBuckets.Webhook, interaction: true);
    }

    private static void Route(RouteHandlerBuilder endpoint, string bucket, bool interaction = false) =>
        endpoint.WithMetadata(new FakeDiscordRoute(bucket, Authenticated: !interaction, Global: !interaction));

    // ---- Users, gateway, guilds, channels ------------------------------------------------------

    private FakeDiscordResult GetCurrentUser()
    {
        var user = BotUserJson();
        user["verified"] = true;
        user["mfa_enabled"] = false;
        user["flags"] = 0;
        return FakeDiscordResult.Ok(user);
    }

    private FakeDiscordResult GetCurrentUserGuilds()
    {
        lock (_gate)
        {
            return FakeDiscordResult.Ok(new JsonArray([.. _guilds.Values.Select(g =>
            {
                var json = new JsonObject
                {
                    ["id"] = g.Id,
                    ["name"] = g.Name,
                    ["icon"] = null,
                    ["banner"] = null,
                    ["owner"] = g.OwnerId == BotUserId,
                    ["permissions"] = PermissionsOf(g, BotUserId).ToString(CultureInfo.InvariantCulture),
                    ["features"] = new JsonArray(),
                };
                if (OmitGuildPermissions)
                {
                    json.Remove("permissions");
                }

                return (JsonNode)json;
            })]));
        }
    }

    private FakeDiscordResult GetGatewayBot()
    {
        lock (_gate)
        {
            return FakeDiscordResult.Ok(new JsonObject
            {
                ["url"] = _gatewayUrl ?? "wss://gateway.invalid",
                ["shards"] = 1,
                ["session_start_limit"] = new JsonObject
                {
                    ["total"] = 1000,
                    ["remaining"] = _sessionStartsRemaining,
                    ["reset_after"] = 14_400_000,
                    ["max_concurrency"] = 1,
                },
            });
        }
    }

    private FakeDiscordResult GetGuild(string guildId) => Locked(() => _guilds.TryGetValue(guildId, out var guild) ? FakeDiscordResult.Ok(GuildJson(guild)) : UnknownGuild());

    private FakeDiscordResult GetGuildRoles(string guildId) => Locked(() => _guilds.TryGetValue(guildId, out var guild) ? FakeDiscordResult.Ok(RolesJson(guild)) : UnknownGuild());

    private FakeDiscordResult GetGuildChannels(string guildId) => Locked(() => _guilds.ContainsKey(guildId) ? FakeDiscordResult.Ok(ChannelsJson(guildId)) : UnknownGuild());

    private FakeDiscordResult GetChannel(string channelId)
    {
        lock (_gate)
        {
            return _channels.TryGetValue(channelId, out var channel)
                ? FakeDiscordResult.Ok(FakeDiscordJson.Channel(channel, 0, BotUserId))
                : FakeDiscordResult.Error(404, 10003, "Unknown Channel");
        }
    }

    private JsonObject GuildJson(GuildState guild) => new()
    {
        ["id"] = guild.Id,
        ["name"] = guild.Name,
        ["icon"] = null,
        ["splash"] = null,
        ["discovery_splash"] = null,
        ["owner_id"] = guild.OwnerId,
        ["afk_channel_id"] = null,
        ["afk_timeout"] = 300,
        ["verification_level"] = 0,
        ["default_message_notifications"] = 0,
        ["explicit_content_filter"] = 0,
        ["roles"] = RolesJson(guild),
        ["emojis"] = new JsonArray(),
        ["features"] = new JsonArray(),
        ["mfa_level"] = 0,
        ["application_id"] = null,
        ["system_channel_id"] = null,
        ["system_channel_flags"] = 0,
        ["rules_channel_id"] = null,
        ["vanity_url_code"] = null,
        ["description"] = null,
        ["banner"] = null,
        ["premium_tier"] = 0,
        ["preferred_locale"] = "en-US",
        ["public_updates_channel_id"] = null,
        ["nsfw_level"] = 0,
        ["stickers"] = new JsonArray(),
        ["premium_progress_bar_enabled"] = false,
    };

    private static JsonArray RolesJson(GuildState guild) =>
        new([.. guild.Roles.Values.OrderBy(r => r.Position).Select(r => (JsonNode)FakeDiscordJson.Role(r))]);

    private JsonArray ChannelsJson(string guildId) =>
        new([.. _channels.Values.Where(ch => ch.GuildId == guildId).Select((ch, i) => (JsonNode)FakeDiscordJson.Channel(ch, i, BotUserId))]);

    // ---- Members -------------------------------------------------------------------------------

    private FakeDiscordResult GetGuildMember(string guildId, string userId)
    {
        lock (_gate)
        {
            if (!_guilds.TryGetValue(guildId, out var guild))
            {
                return UnknownGuild();
            }

            return guild.Members.TryGetValue(userId, out var member)
                ? FakeDiscordResult.Ok(FakeDiscordJson.Member(member))
                : UnknownMember();
        }
    }

    /// <summary>Search Guild Members: "query" matched as a prefix of username or nickname (case-insensitive); "limit" 1–1000, default 1.</summary>
    private FakeDiscordResult SearchMembers(string guildId, HttpRequest request)
    {
        var query = request.Query;
        var text = query["query"].ToString();
        if (!query.ContainsKey("query"))
        {
            return InvalidForm(FakeDiscordJson.FieldError("query", "BASE_TYPE_REQUIRED", "This field is required"));
        }

        var limit = 1;
        if (query.ContainsKey("limit"))
        {
            if (!int.TryParse(query["limit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit))
            {
                return InvalidForm(FakeDiscordJson.FieldError("limit", "NUMBER_TYPE_COERCE", $"Value \"{query["limit"]}\" is not int."));
            }

            if (limit < 1)
            {
                return InvalidForm(FakeDiscordJson.FieldError("limit", "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1."));
            }

            if (limit > 1000)
            {
                return InvalidForm(FakeDiscordJson.FieldError("limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 1000."));
            }
        }

        lock (_gate)
        {
            if (!_guilds.TryGetValue(guildId, out var guild))
            {
                return UnknownGuild();
            }

            var hits = guild.Members.Values
                .Where(m => m.Username.StartsWith(text, StringComparison.OrdinalIgnoreCase)
                    || (m.Nick?.StartsWith(text, StringComparison.OrdinalIgnoreCase) ?? false))
                .Take(limit)
                .Select(m => (JsonNode)FakeDiscordJson.Member(m));
            return FakeDiscordResult.Ok(new JsonArray([.. hits]));
        }
    }

    /// <summary>
    /// Add/Remove Guild Member Role. Checks in the order Discord applies them: guild, member, role,
    /// then permissions (MANAGE_ROLES, the bot's highest role strictly above the target role, role
    /// not managed by an integration). Answers 204 No Content; a change is also sent to the gateway
    /// as GUILD_MEMBER_UPDATE.
    /// </summary>
    private FakeDiscordResult ChangeMemberRole(string guildId, string userId, string roleId, HttpRequest request, bool add)
    {
        lock (_gate)
        {
            if (!_guilds.TryGetValue(guildId, out var guild))
            {
                return UnknownGuild();
            }

            if (!guild.Members.TryGetValue(userId, out var member))
            {
                return UnknownMember();
            }

            if (!guild.Roles.TryGetValue(roleId, out var role))
            {
                return FakeDiscordResult.Error(404, 10011, "Unknown Role");
            }

            var isOwner = guild.OwnerId == BotUserId;
            var canManage = (PermissionsOf(guild, BotUserId) & FakeDiscordPermissions.ManageRoles) != 0;
            if (!isOwner && (!canManage || role.Position >= HighestPosition(guild, BotUserId)))
            {
                return MissingPermissions();
            }

            if (role.Managed || role.Id == guild.Id)
            {
                return MissingPermissions();
            }

            var roles = member.Roles.ToList();
            var changed = add ? !roles.Contains(role.Id) : roles.Contains(role.Id);
            if (add && changed)
            {
                roles.Add(role.Id);
            }
            else if (!add)
            {
                roles.Remove(role.Id);
            }

            guild.Members[member.UserId] = member with { Roles = roles };
            if (changed && _memberUpdated is { } memberUpdated)
            {
                // Docs (events/gateway-events#guild-member-update): sent to bots with GUILD_MEMBERS when a member's roles
                // change, whoever changed them, with the member's full role list. Handed over under the lock, so two
                // changes to one member go out in the order they were made; a change that changes nothing sends nothing.
                var data = FakeDiscordJson.Member(guild.Members[member.UserId]);
                data["guild_id"] = guild.Id;
                memberUpdated(guild.Id, data);
            }

            var reason = request.Headers["X-Audit-Log-Reason"].FirstOrDefault();
            _roleChanges.Add(new FakeRoleChange(request.Method, guild.Id, member.UserId, role.Id, reason is null ? null : Uri.UnescapeDataString(reason), _time.GetUtcNow()));
            return FakeDiscordResult.NoContent;
        }
    }

    // ---- Messages ------------------------------------------------------------------------------

    private async Task<FakeDiscordResult> CreateMessage(string channelId, HttpRequest request)
    {
        var (body, bodyError) = await ReadJsonAsync(request).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        lock (_gate)
        {
            if (!_channels.TryGetValue(channelId, out var channel))
            {
                return FakeDiscordResult.Error(404, 10003, "Unknown Channel");
            }

            if (!channel.BotCanSend)
            {
                return MissingPermissions();
            }

            if (ValidateMessage(body) is { } invalid)
            {
                return invalid;
            }

            var message = MessageJson(channel.Id, (JsonObject)body!, type: 0);
            _messages.Add(new FakeSentMessage(message["id"]!.GetValue<string>(), channel.Id, (JsonObject)body!.DeepClone(), _time.GetUtcNow()));
            return FakeDiscordResult.Ok(message);
        }
    }

    private static FakeDiscordResult? ValidateMessage(JsonNode? body, int files = 0)
    {
        if (body is not JsonObject message)
        {
            return InvalidForm(null);
        }

        var content = message["content"]?.GetValue<string>();
        if (content is { Length: > 2000 })
        {
            return InvalidForm(FakeDiscordJson.FieldError("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."));
        }

        static bool Has(JsonObject o, string key) => o[key] is JsonArray { Count: > 0 };
        if (string.IsNullOrEmpty(content) && files == 0 && !Has(message, "embeds") && !Has(message, "components") && !Has(message, "sticker_ids") && !Has(message, "attachments"))
        {
            return FakeDiscordResult.Error(400, 50006, "Cannot send an empty message");
        }

        return null;
    }

    private JsonObject MessageJson(string channelId, JsonObject body, int type, IReadOnlyList<FakeAttachment>? files = null) => new()
    {
        ["id"] = FakeSnowflake.At(_time.GetUtcNow()),
        ["type"] = type,
        ["channel_id"] = channelId,
        ["author"] = BotUserJson(),
        ["content"] = body["content"]?.DeepClone() ?? "",
        ["embeds"] = body["embeds"]?.DeepClone() ?? new JsonArray(),
        ["components"] = body["components"]?.DeepClone() ?? new JsonArray(),
        ["attachments"] = new JsonArray([.. (files ?? []).Select(f => (JsonNode)f.ToJson())]),
        ["mentions"] = new JsonArray(),
        ["mention_roles"] = new JsonArray(),
        ["pinned"] = false,
        ["mention_everyone"] = false,
        ["tts"] = false,
        ["timestamp"] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        ["edited_timestamp"] = null,
        ["flags"] = body["flags"]?.DeepClone() ?? 0,
    };

    // ---- Interactions --------------------------------------------------------------------------

    private async Task<FakeDiscordResult> CreateInteractionResponse(string interactionId, string token, HttpRequest request)
    {
        var (body, bodyError) = await ReadJsonAsync(request).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_interactions.TryGetValue(interactionId, out var interaction) || interaction.Token != token
                || now - interaction.CreatedAt > InitialResponseDeadline)
            {
                return FakeDiscordResult.Error(404, 10062, "Unknown interaction");
            }

            if (interaction.Callback is not null)
            {
                return FakeDiscordResult.Error(400, 40060, "Interaction has already been acknowledged.");
            }

            // Response types a command interaction accepts: 4 message, 5 deferred message, 9 modal
            // (6/7 are for components, 1 PONG only for HTTP interactions); an autocomplete interaction takes only 8.
            var autocomplete = interaction.Payload["type"]?.GetValue<int>() == 4;
            var type = (body as JsonObject)?["type"];
            if (type is null || !int.TryParse(type.ToJsonString(), out var callbackType) || (autocomplete ? callbackType != 8 : callbackType is not (4 or 5 or 9)))
            {
                return InvalidForm(FakeDiscordJson.FieldError("type", "BASE_TYPE_CHOICES", autocomplete ? "Value must be one of {8}." : "Value must be one of {4, 5, 9}."));
            }

            if (autocomplete && body!["data"]?["choices"] is JsonArray { Count: > 25 })
            {
                return InvalidForm(FakeDiscordJson.FieldError("choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."));
            }

            var data = body!["data"]?.DeepClone();
            if (callbackType == 4 && ValidateMessage(data) is { } invalid)
            {
                return invalid;
            }

            interaction.Callback = new FakeInteractionCallback(interaction.Id, callbackType, data, now);
            if (callbackType == 4)
            {
                var channelId = interaction.Payload["channel_id"]!.GetValue<string>();
                _messages.Add(new FakeSentMessage(FakeSnowflake.At(now), channelId, (JsonObject)data!, now));
            }

            if (request.Query["with_response"] == "true")
            {
                return FakeDiscordResult.Ok(new JsonObject
                {
                    ["interaction"] = new JsonObject { ["id"] = interaction.Id, ["type"] = 2, ["response_message_loading"] = callbackType == 5 },
                });
            }

            return FakeDiscordResult.NoContent;
        }
    }

    private async Task<FakeDiscordResult> EditOriginalResponse(string applicationId, string token, HttpRequest request)
    {
        var (body, files, bodyError) = await ReadMessageAsync(request).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        lock (_gate)
        {
            var (interaction, error) = WebhookInteraction(applicationId, token, requireAcknowledged: false);
            if (error is { } e)
            {
                return e;
            }

            if (interaction!.Callback is null)
            {
                return FakeDiscordResult.Error(404, 10008, "Unknown Message");
            }

            if (body is not JsonObject edit)
            {
                return InvalidForm(null);
            }

            var channelId = interaction.Payload["channel_id"]!.GetValue<string>();
            var message = MessageJson(channelId, edit, type: 20, files);
            var sent = new FakeSentMessage(message["id"]!.GetValue<string>(), channelId, (JsonObject)edit.DeepClone(), _time.GetUtcNow()) { Attachments = files };
            interaction.Edits.Add(sent);
            _messages.Add(sent);
            return FakeDiscordResult.Ok(message);
        }
    }

    private async Task<FakeDiscordResult> CreateFollowup(string applicationId, string token, HttpRequest request)
    {
        var (body, files, bodyError) = await ReadMessageAsync(request).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        lock (_gate)
        {
            var (interaction, error) = WebhookInteraction(applicationId, token, requireAcknowledged: true);
            if (error is { } e)
            {
                return e;
            }

            if (ValidateMessage(body, files.Count) is { } invalid)
            {
                return invalid;
            }

            var channelId = interaction!.Payload["channel_id"]!.GetValue<string>();
            var message = MessageJson(channelId, (JsonObject)body!, type: 20, files);
            var sent = new FakeSentMessage(message["id"]!.GetValue<string>(), channelId, (JsonObject)body!.DeepClone(), _time.GetUtcNow()) { Attachments = files };
            interaction.Followups.Add(sent);
            _messages.Add(sent);
            return FakeDiscordResult.Ok(message);
        }
    }

    /// <summary>Resolves the interaction behind a webhook token: 50027 when the token is unknown, expired (15 min) or was invalidated by a missed 3 s deadline.</summary>
    private (FakeInteraction? Interaction, FakeDiscordResult? Error) WebhookInteraction(string applicationId, string token, bool requireAcknowledged)
    {
        var interaction = _interactions.Values.FirstOrDefault(i => i.Token == token);
        if (interaction is null || applicationId != ApplicationId)
        {
            return (null, FakeDiscordResult.Error(404, 10015, "Unknown Webhook"));
        }

        var age = _time.GetUtcNow() - interaction.CreatedAt;
        if (age > InteractionTokenLifetime || (interaction.Callback is null && age > InitialResponseDeadline))
        {
            return (null, FakeDiscordResult.Error(401, 50027, "Invalid Webhook Token"));
        }

        if (requireAcknowledged && interaction.Callback is null)
        {
            return (null, FakeDiscordResult.Error(404, 10015, "Unknown Webhook"));
        }

        return (interaction, null);
    }

    // ---- Commands ------------------------------------------------------------------------------

    /// <summary>Bulk Overwrite Commands: replaces the set, keeps ids of commands with the same name, answers the stored list.</summary>
    private async Task<FakeDiscordResult> OverwriteCommands(string applicationId, string? guildId, HttpRequest request)
    {
        var (body, bodyError) = await ReadJsonAsync(request).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        if (applicationId != ApplicationId)
        {
            return FakeDiscordResult.Error(403, 50001, "Missing Access");
        }

        if (body is not JsonArray commands)
        {
            return InvalidForm(FakeDiscordJson.FieldError("_root", "BASE_TYPE_ARRAY", "Must be an array."));
        }

        lock (_gate)
        {
            if (guildId is not null && !_guilds.ContainsKey(guildId))
            {
                return FakeDiscordResult.Error(403, 50001, "Missing Access");
            }

            var previous = _commands.GetValueOrDefault(guildId ?? "") ?? [];
            var stored = new JsonArray();
            for (var i = 0; i < commands.Count; i++)
            {
                if (commands[i] is not JsonObject command)
                {
                    return InvalidForm(FakeDiscordJson.FieldError(i.ToString(CultureInfo.InvariantCulture), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"));
                }

                var name = command["name"]?.GetValue<string>();
                var type = command["type"]?.GetValue<int>() ?? 1;
                var description = command["description"]?.GetValue<string>();
                string? problem = name is null || !CommandName().IsMatch(name) ? "name"
                    : type == 1 && (description is null || description.Length is < 1 or > 100) ? "description"
                    : null;
                if (problem is not null)
                {
                    var errors = new JsonObject { [i.ToString(CultureInfo.InvariantCulture)] = FakeDiscordJson.FieldError(problem, "BASE_TYPE_BAD_LENGTH", "Invalid " + problem + ".") };
                    return InvalidForm(errors);
                }

                var copy = (JsonObject)command.DeepClone();
                copy["id"] = previous.OfType<JsonObject>().FirstOrDefault(p => p["name"]?.GetValue<string>() == name)?["id"]?.DeepClone()
                    ?? FakeSnowflake.At(_time.GetUtcNow());
                copy["application_id"] = ApplicationId;
                copy["type"] = type;
                copy["version"] = FakeSnowflake.At(_time.GetUtcNow());
                if (guildId is not null)
                {
                    copy["guild_id"] = guildId;
                }

                stored.Add(copy);
            }

            _commands[guildId ?? ""] = stored;
            return FakeDiscordResult.Ok(stored.DeepClone());
        }
    }

    [GeneratedRegex(@"^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$")]
    private static partial Regex CommandName();

    // ---- Helpers -------------------------------------------------------------------------------

    private static ulong ParsePermissions(string value) => ulong.Parse(value, CultureInfo.InvariantCulture);

    /// <summary>Base permissions: @everyone | member roles; Administrator or ownership means all. Channel overwrites are not modelled.</summary>
    private static ulong PermissionsOf(GuildState guild, string userId)
    {
        if (guild.OwnerId == userId)
        {
            return FakeDiscordPermissions.All;
        }

        var permissions = ParsePermissions(guild.Roles[guild.Id].Permissions);
        if (guild.Members.TryGetValue(userId, out var member))
        {
            foreach (var roleId in member.Roles)
            {
                if (guild.Roles.TryGetValue(roleId, out var role))
                {
                    permissions |= ParsePermissions(role.Permissions);
                }
            }
        }

        return (permissions & FakeDiscordPermissions.Administrator) != 0 ? FakeDiscordPermissions.All : permissions;
    }

    private static int HighestPosition(GuildState guild, string userId) =>
        guild.Members.TryGetValue(userId, out var member)
            ? member.Roles.Select(id => guild.Roles.GetValueOrDefault(id)?.Position ?? 0).DefaultIfEmpty(0).Max()
            : 0;

    private static FakeDiscordResult UnknownGuild() => FakeDiscordResult.Error(404, 10004, "Unknown Guild");

    private static FakeDiscordResult UnknownMember() => FakeDiscordResult.Error(404, 10007, "Unknown Member");

    private static FakeDiscordResult MissingPermissions() => FakeDiscordResult.Error(403, 50013, "Missing Permissions");

    private static FakeDiscordResult InvalidForm(JsonObject? errors) => FakeDiscordResult.Error(400, 50035, "Invalid Form Body", errors);
}
