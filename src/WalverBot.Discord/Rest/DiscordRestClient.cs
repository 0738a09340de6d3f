using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Rest;

/// <summary>
/// The typed HttpClient behind <see cref="IDiscordRestClient"/>. It only shapes requests and answers:
/// authentication, rate limits and timeouts are the handlers' job (see <see cref="DiscordRestServiceCollectionExtensions"/>).
/// </summary>
internal sealed partial class DiscordRestClient(HttpClient http, ILogger<DiscordRestClient> logger) : IDiscordRestClient
{
    public const string HttpClientName = "WalverBot.Discord.Rest";

    /// <summary>"X-Audit-Log-Reason … 1-512 characters" (https://discord.com/developers/docs/resources/audit-log).</summary>
    public const int MaxAuditLogReasonLength = 512;

    private const int GuildPageSize = 200;

    public Task<DiscordUser> GetCurrentUserAsync(CancellationToken cancellationToken) =>
        SendAsync<DiscordUser>(DiscordRoute.Create(HttpMethod.Get, "/users/@me"), null, null, cancellationToken);

    public Task<GatewayBotInfo> GetGatewayBotAsync(CancellationToken cancellationToken) =>
        SendAsync<GatewayBotInfo>(DiscordRoute.Create(HttpMethod.Get, "/gateway/bot"), null, null, cancellationToken);

    public async Task<GuildMember?> GetGuildMemberAsync(ulong guildId, ulong userId, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync<GuildMember>(
                DiscordRoute.Create(HttpMethod.Get, "/guilds/{guild_id}/members/{user_id}", guildId, userId), null, null, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (DiscordRestException ex) when (ex.StatusCode == HttpStatusCode.NotFound
            && ex.ErrorCode is DiscordErrorCodes.UnknownMember or DiscordErrorCodes.UnknownUser)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<GuildMember>> SearchGuildMembersAsync(ulong guildId, string query, int limit, CancellationToken cancellationToken)
    {
        // "limit: max number of members to return (1-1000)" (https://discord.com/developers/docs/resources/guild#search-guild-members).
        var route = DiscordRoute.Create(HttpMethod.Get, "/guilds/{guild_id}/members/search", guildId)
            .WithQuery($"query={Uri.EscapeDataString(query)}&limit={Math.Clamp(limit, 1, 1000).ToString(CultureInfo.InvariantCulture)}");
        return await SendAsync<List<GuildMember>>(route, null, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DiscordRole>> GetGuildRolesAsync(ulong guildId, CancellationToken cancellationToken) =>
        await SendAsync<List<DiscordRole>>(DiscordRoute.Create(HttpMethod.Get, "/guilds/{guild_id}/roles", guildId), null, null, cancellationToken)
            .ConfigureAwait(false);

    public Task AddGuildMemberRoleAsync(ulong guildId, ulong userId, ulong roleId, string? auditLogReason, CancellationToken cancellationToken) =>
        SendAsync(DiscordRoute.Create(HttpMethod.Put, "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", guildId, userId, roleId),
            null, auditLogReason, cancellationToken);

    public Task RemoveGuildMemberRoleAsync(ulong guildId, ulong userId, ulong roleId, string? auditLogReason, CancellationToken cancellationToken) =>
        SendAsync(DiscordRoute.Create(HttpMethod.Delete, "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", guildId, userId, roleId),
            null, auditLogReason, cancellationToken);

    public async Task<IReadOnlyList<PartialGuild>> GetCurrentUserGuildsAsync(CancellationToken cancellationToken)
    {
        // Pages of at most 200, oldest first; "after" continues from the last id seen.
        var guilds = new List<PartialGuild>();
        ulong after = 0;
        while (true)
        {
            var route = DiscordRoute.Create(HttpMethod.Get, "/users/@me/guilds")
                .WithQuery(string.Create(CultureInfo.InvariantCulture, $"after={after}&limit={GuildPageSize}"));
            var page = await SendAsync<List<PartialGuild>>(route, null, null, cancellationToken).ConfigureAwait(false);
            guilds.AddRange(page);
            if (page.Count < GuildPageSize)
            {
                return guilds;
            }

            after = page.Max(guild => guild.Id);
        }
    }

    public Task<DiscordGuild> GetGuildAsync(ulong guildId, CancellationToken cancellationToken) =>
        SendAsync<DiscordGuild>(DiscordRoute.Create(HttpMethod.Get, "/guilds/{guild_id}", guildId), null, null, cancellationToken);

    public async Task<IReadOnlyList<DiscordChannel>> GetGuildChannelsAsync(ulong guildId, CancellationToken cancellationToken) =>
        await SendAsync<List<DiscordChannel>>(DiscordRoute.Create(HttpMethod.Get, "/guilds/{guild_id}/channels", guildId), null, null, cancellationToken)
            .ConfigureAwait(false);

    public Task<DiscordChannel> GetChannelAsync(ulong channelId, CancellationToken cancellationToken) =>
        SendAsync<DiscordChannel>(DiscordRoute.Create(HttpMethod.Get, "/channels/{channel_id}", channelId), null, null, cancellationToken);

    public Task<DiscordMessage> CreateMessageAsync(ulong channelId, MessageCreate message, CancellationToken cancellationToken) =>
        SendAsync<DiscordMessage>(DiscordRoute.Create(HttpMethod.Post, "/channels/{channel_id}/messages", channelId), Body(message, Json.MessageCreate), null, cancellationToken);

    public Task CreateInteractionResponseAsync(ulong interactionId, string interactionToken, InteractionResponse response, CancellationToken cancellationToken) =>
        SendAsync(DiscordRoute.Create(HttpMethod.Post, "/interactions/{interaction_id}/{interaction_token}/callback", interactionId, interactionToken),
            Body(response, Json.InteractionResponse), null, cancellationToken);

    public Task<DiscordMessage> EditOriginalInteractionResponseAsync(ulong applicationId, string interactionToken, MessageEdit edit, CancellationToken cancellationToken) =>
        SendAsync<DiscordMessage>(
            DiscordRoute.Create(HttpMethod.Patch, "/webhooks/{application_id}/{interaction_token}/messages/@original", applicationId, interactionToken),
            Body(edit, Json.MessageEdit), null, cancellationToken);

    public Task<DiscordMessage> CreateFollowupMessageAsync(ulong applicationId, string interactionToken, MessageCreate message, CancellationToken cancellationToken) =>
        // Follow-ups behave as Execute Webhook with wait=true: Discord returns the message.
        SendAsync<DiscordMessage>(
            DiscordRoute.Create(HttpMethod.Post, "/webhooks/{application_id}/{interaction_token}", applicationId, interactionToken),
            Body(message, Json.MessageCreate), null, cancellationToken);

    public async Task<DiscordMessage> CreateFollowupMessageWithFilesAsync(ulong applicationId, string interactionToken, MessageCreate message, IReadOnlyList<FileUpload> files, CancellationToken cancellationToken)
    {
        var route = DiscordRoute.Create(HttpMethod.Post, "/webhooks/{application_id}/{interaction_token}", applicationId, interactionToken);
        using var response = await SendCoreAsync(route, Body(message, Json.MessageCreate), null, cancellationToken, files).ConfigureAwait(false);
        try
        {
            return await response.Content.ReadFromJsonAsync<DiscordMessage>(DiscordJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("The body was null.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new DiscordRestException(route.Name, response.StatusCode, null, $"Discord's answer to {route.Name} was not the expected JSON.", null, ex)
            {
                IsUnreadableAnswer = true,
            };
        }
    }

    /// <summary>
    /// The multipart body of a message with files: <c>payload_json</c> (the message plus one <c>attachments</c> entry
    /// <c>{id, filename, description}</c> per file) and one <c>files[n]</c> part per file, n being the attachment's id
    /// (https://discord.com/developers/docs/reference#uploading-files). Built from bytes, so a retry after a 429 sends it again.
    /// </summary>
    internal static MultipartFormDataContent MultipartBody(byte[] message, IReadOnlyList<FileUpload> files)
    {
        var payload = System.Text.Json.Nodes.JsonNode.Parse(message)!.AsObject();
        var attachments = new System.Text.Json.Nodes.JsonArray();
        for (var i = 0; i < files.Count; i++)
        {
            var attachment = new System.Text.Json.Nodes.JsonObject { ["id"] = i, ["filename"] = files[i].FileName };
            if (files[i].Description is { } description)
            {
                attachment["description"] = description;
            }

            attachments.Add(attachment);
        }

        payload["attachments"] = attachments;
        var content = new MultipartFormDataContent();
        var json = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString()));
        json.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Add(json, "payload_json");
        for (var i = 0; i < files.Count; i++)
        {
            var file = new ByteArrayContent(files[i].Content.ToArray());
            file.Headers.ContentType = new MediaTypeHeaderValue(files[i].ContentType);
            content.Add(file, string.Create(CultureInfo.InvariantCulture, $"files[{i}]"), files[i].FileName);
        }

        return content;
    }

    public async Task<IReadOnlyList<ApplicationCommand>> BulkOverwriteGlobalApplicationCommandsAsync(ulong applicationId, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken) =>
        await SendAsync<List<ApplicationCommand>>(
            DiscordRoute.Create(HttpMethod.Put, "/applications/{application_id}/commands", applicationId), Body(commands, Json.IReadOnlyListApplicationCommand), null, cancellationToken)
            .ConfigureAwait(false);

    public async Task<IReadOnlyList<ApplicationCommand>> BulkOverwriteGuildApplicationCommandsAsync(ulong applicationId, ulong guildId, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken) =>
        await SendAsync<List<ApplicationCommand>>(
            DiscordRoute.Create(HttpMethod.Put, "/applications/{application_id}/guilds/{guild_id}/commands", applicationId, guildId), Body(commands, Json.IReadOnlyListApplicationCommand), null, cancellationToken)
            .ConfigureAwait(false);

    /// <summary>Trims to Discord's 512 characters (without splitting a surrogate pair), then URL-encodes for the header.</summary>
    internal static string? EncodeAuditLogReason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return null;
        }

        reason = reason.Trim();
        if (reason.Length > MaxAuditLogReasonLength)
        {
            var cut = char.IsHighSurrogate(reason[MaxAuditLogReasonLength - 1]) ? MaxAuditLogReasonLength - 1 : MaxAuditLogReasonLength;
            reason = reason[..cut];
        }

        // Header values must be ASCII; Discord decodes the URL-encoding for the audit log.
        return Uri.EscapeDataString(reason);
    }

    private static DiscordJsonContext Json => DiscordJsonContext.Default;

    // Bytes, not a stream: after a 429 the same request is sent again.
    private static byte[] Body<TBody>(TBody body, JsonTypeInfo<TBody> typeInfo) => JsonSerializer.SerializeToUtf8Bytes(body, typeInfo);

    private async Task<T> SendAsync<T>(DiscordRoute route, byte[]? body, string? auditLogReason, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(route, body, auditLogReason, cancellationToken).ConfigureAwait(false);
        try
        {
            // Every answer type is in the library's source-generated context (a missing one fails here, in tests, not by reflection).
            var typeInfo = (JsonTypeInfo<T>)Json.GetTypeInfo(typeof(T))!;
            return await response.Content.ReadFromJsonAsync(typeInfo, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("The body was null.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // A proxy's or CDN's page, a truncated body, an unknown charset (InvalidOperationException): the call may well
            // have worked, and asking again is how to find out, so the caller treats this like a 5xx.
            throw new DiscordRestException(route.Name, response.StatusCode, null, $"Discord's answer to {route.Name} was not the expected JSON.", null, ex)
            {
                IsUnreadableAnswer = true,
            };
        }
    }

    private async Task SendAsync(DiscordRoute route, byte[]? body, string? auditLogReason, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(route, body, auditLogReason, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(DiscordRoute route, byte[]? body, string? auditLogReason, CancellationToken cancellationToken,
        IReadOnlyList<FileUpload>? files = null)
    {
        using var request = new HttpRequestMessage(route.Method, route.Path);
        request.Options.Set(DiscordRoute.OptionsKey, route);
        if (files is not null && body is not null)
        {
            request.Content = MultipartBody(body, files);
        }
        else if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (EncodeAuditLogReason(auditLogReason) is { } reason)
        {
            request.Headers.TryAddWithoutValidation("X-Audit-Log-Reason", reason);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            LogNoAnswer(route.Name, ex.Message);
            throw new DiscordRestException(route.Name, null, null, $"Discord ({HostOf(request)}) did not answer {route.Name} in time.", null, ex);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            // Connection failures. The host (never the path, which may hold an interaction token) tells the operator
            // whether Discord:ApiBaseUrl, DNS or a firewall is to blame.
            LogNoAnswer(route.Name, ex.Message);
            throw new DiscordRestException(route.Name, null, null, $"Could not reach Discord at {HostOf(request)} for {route.Name}: {ex.HttpRequestError}.", null, ex);
        }
        catch (SocketException ex)
        {
            // A connection the server resets just after it is made: SocketsHttpHandler reads the socket's remote address
            // (for diagnostics) outside the code that wraps connect errors in HttpRequestException, so on Linux the
            // ENOTCONN ("Transport endpoint is not connected") reaches the caller bare. It is a connection failure too.
            LogNoAnswer(route.Name, ex.Message);
            throw new DiscordRestException(route.Name, null, null, $"Could not reach Discord at {HostOf(request)} for {route.Name}: {ex.SocketErrorCode}.", null, ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var error = await DiscordErrorBody.ReadAsync(response, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            LogRefused(route.Name, status, error.Code, error.Message);
            var message = error.Code is { } code
                ? $"Discord answered {status} ({code}: {error.Message}) to {route.Name}."
                : $"Discord answered {status} {response.ReasonPhrase} to {route.Name}.";
            throw new DiscordRestException(route.Name, response.StatusCode, error.Code, message, DiscordErrorBody.RetryAfterOf(error, response));
        }
    }

    private string HostOf(HttpRequestMessage request) =>
        (request.RequestUri is { IsAbsoluteUri: true } uri ? uri : http.BaseAddress)?.Authority ?? "(no base address)";

    [LoggerMessage(Level = LogLevel.Debug, Message = "Discord answered {Status} (code {ErrorCode}: {ErrorMessage}) to {Route}")]
    private partial void LogRefused(string route, int status, int? errorCode, string? errorMessage);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No answer from Discord to {Route}: {Reason}")]
    private partial void LogNoAnswer(string route, string reason);
}
