using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Discord.Rest.RateLimits;
using WalverBot.Discord.Tests.Rest.Fakes;

namespace WalverBot.Discord.Tests.Rest;

public sealed class DiscordRestClientTests : IDisposable
{
    private const string MemberJson = """
        {"user":{"id":"1234567890123456789","username":"nelly","discriminator":"0","global_name":"Nelly"},"nick":null,"roles":["41771983423143936"],"pending":false}
        """;

    private readonly RestHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task EveryRequest_CarriesBotAuthorizationAndDiscordUserAgent()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, """{"id":"1","username":"walverbot","bot":true}"""));

        var me = await _harness.Client.GetCurrentUserAsync(CancellationToken.None).Within();

        var request = Assert.Single(_harness.Http.Requests);
        Assert.Equal($"Bot {RestHarness.Token}", request.Header("Authorization"));
        Assert.Equal("DiscordBot (https://github.com/walverbot/walverbot, 0.1.0)", request.Header("User-Agent"));
        Assert.Equal("https://discord.test/api/v10/users/@me", request.Uri.ToString());
        Assert.True(me.Bot);
    }

    [Theory]
    [InlineData("https://discord.test/api/v10")]
    [InlineData("https://discord.test/api/v10/")]
    public async Task ApiBaseUrl_KeepsTheVersionSegment_WithOrWithoutTrailingSlash(string baseUrl)
    {
        using var harness = new RestHarness(apiBaseUrl: baseUrl);
        harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, "[]"));

        await harness.Client.GetGuildRolesAsync(42, CancellationToken.None).Within();

        Assert.Equal("https://discord.test/api/v10/guilds/42/roles", Assert.Single(harness.Http.Requests).Uri.ToString());
    }

    [Fact]
    public async Task AddRole_SendsUrlEncodedAuditLogReason()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NoContent, ""));
        const string reason = "Walver verification vip-pass: wallet 7xKX…9fQ ✓ (50% done)";

        await _harness.Client.AddGuildMemberRoleAsync(1, 2, 3, reason, CancellationToken.None).Within();

        var request = Assert.Single(_harness.Http.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("https://discord.test/api/v10/guilds/1/members/2/roles/3", request.Uri.ToString());
        Assert.Equal(Uri.EscapeDataString(reason), request.Header("X-Audit-Log-Reason"));
        Assert.Equal(reason, Uri.UnescapeDataString(request.Header("X-Audit-Log-Reason")!));
    }

    [Fact]
    public async Task RemoveRole_TrimsAuditLogReasonToDiscordsLimit()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NoContent, ""));

        await _harness.Client.RemoveGuildMemberRoleAsync(1, 2, 3, new string('é', 600), CancellationToken.None).Within();

        var request = Assert.Single(_harness.Http.Requests);
        Assert.Equal(HttpMethod.Delete, request.Method);
        Assert.Equal(512, Uri.UnescapeDataString(request.Header("X-Audit-Log-Reason")!).Length);
    }

    [Fact]
    public async Task AuditLogReason_IsLeftOutWhenEmpty()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NoContent, ""));

        await _harness.Client.AddGuildMemberRoleAsync(1, 2, 3, "  ", CancellationToken.None).Within();

        Assert.Null(Assert.Single(_harness.Http.Requests).Header("X-Audit-Log-Reason"));
    }

    [Fact]
    public async Task GetGuildMember_ReadsSnowflakeStringsWithoutLosingPrecision()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, MemberJson));

        var member = await _harness.Client.GetGuildMemberAsync(1, 1234567890123456789, CancellationToken.None).Within();

        Assert.NotNull(member);
        Assert.Equal(1234567890123456789UL, member.User.Id);
        Assert.Equal([41771983423143936UL], member.Roles);
        Assert.Equal("https://discord.test/api/v10/guilds/1/members/1234567890123456789", _harness.Http.Requests[0].Uri.ToString());
    }

    [Theory]
    [InlineData(DiscordErrorCodes.UnknownMember, "Unknown Member")]
    [InlineData(DiscordErrorCodes.UnknownUser, "Unknown User")]
    public async Task GetGuildMember_ReturnsNull_WhenDiscordSaysUnknown(int code, string message)
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NotFound, $$"""{"message":"{{message}}","code":{{code}}}"""));

        var member = await _harness.Client.GetGuildMemberAsync(1, 2, CancellationToken.None).Within();

        Assert.Null(member);
    }

    [Fact]
    public async Task GetGuildMember_Throws_OnOtherNotFoundCodes()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NotFound, """{"message":"Unknown Guild","code":10004}"""));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => _harness.Client.GetGuildMemberAsync(1, 2, CancellationToken.None).Within());

        Assert.Equal(DiscordErrorCodes.UnknownGuild, error.ErrorCode);
    }

    [Fact]
    public async Task ErrorBody_BecomesExceptionWithStatusCodeMessageAndRouteTemplate()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.Forbidden, """{"message":"Missing Permissions","code":50013}"""));

        var error = await Assert.ThrowsAsync<DiscordRestException>(
            () => _harness.Client.AddGuildMemberRoleAsync(111, 222, 333, "reason", CancellationToken.None).Within());

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal(DiscordErrorCodes.MissingPermissions, error.ErrorCode);
        Assert.Equal("PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}", error.Route);
        Assert.Contains("Missing Permissions", error.Message);
        Assert.DoesNotContain("111", error.Message);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task NonJsonErrorBody_IsToleratedAndTransient()
    {
        _harness.Http.Enqueue(new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            Content = new StringContent("<html><body>502 Bad Gateway</body></html>", System.Text.Encoding.UTF8, "text/html"),
        });

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => _harness.Client.GetGuildRolesAsync(1, CancellationToken.None).Within());

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Null(error.ErrorCode);
        Assert.True(error.IsTransient);
        Assert.Equal("GET /guilds/{guild_id}/roles", error.Route);
    }

    [Fact]
    public async Task InteractionToken_NeverAppearsInExceptionsOrLogs()
    {
        const string secretToken = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZg";
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NotFound, """{"message":"Unknown interaction","code":10062}"""));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => _harness.Client.CreateInteractionResponseAsync(
            987, secretToken, InteractionResponse.Defer(ephemeral: true), CancellationToken.None).Within());

        Assert.Contains(secretToken, _harness.Http.Requests[0].Uri.ToString());
        Assert.Equal("POST /interactions/{interaction_id}/{interaction_token}/callback", error.Route);
        Assert.DoesNotContain(secretToken, error.ToString());
        Assert.NotEmpty(_harness.Logs.Entries);
        Assert.DoesNotContain(_harness.Logs.Entries, entry => entry.Message.Contains(secretToken) || entry.Message.Contains(RestHarness.Token));
    }

    [Fact]
    public async Task Timeout_BecomesTransientExceptionWithoutStatus()
    {
        _harness.Http.Enqueue(Responses.Hang);

        var call = _harness.Client.GetGuildAsync(1, CancellationToken.None);
        await TestWait.UntilAsync(() => _harness.Http.Count == 1);
        _harness.Time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(call.IsCompleted);
        _harness.Time.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => call.Within());
        Assert.Null(error.StatusCode);
        Assert.True(error.IsTransient);
        Assert.Equal("GET /guilds/{guild_id}", error.Route);
    }

    [Fact]
    public async Task CallerCancellation_InFlight_IsOperationCanceledNotDiscordError()
    {
        _harness.Http.Enqueue(Responses.Hang);
        using var cancellation = new CancellationTokenSource();

        var call = _harness.Client.GetGuildAsync(1, cancellation.Token);
        await TestWait.UntilAsync(() => _harness.Http.Count == 1);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
    }

    [Fact]
    public async Task CreateInteractionResponse_PostsCallbackBody()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.NoContent, ""));

        await _harness.Client.CreateInteractionResponseAsync(5, "tok", InteractionResponse.Message("Hi <@1>", ephemeral: true), CancellationToken.None).Within();

        var request = Assert.Single(_harness.Http.Requests);
        Assert.Equal("https://discord.test/api/v10/interactions/5/tok/callback", request.Uri.ToString());
        Assert.Equal("""{"type":4,"data":{"content":"Hi \u003C@1\u003E","flags":64,"allowed_mentions":{"parse":[]}}}""", request.Body);
        Assert.Equal("application/json", request.Header("Content-Type"));
    }

    [Fact]
    public async Task EditOriginalAndFollowup_UseTheInteractionWebhookRoutes()
    {
        const string message = """{"id":"10","channel_id":"20","content":"done"}""";
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, message));
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, message));

        var edited = await _harness.Client.EditOriginalInteractionResponseAsync(7, "tok/en", new MessageEdit(Content: "done"), CancellationToken.None).Within();
        var followup = await _harness.Client.CreateFollowupMessageAsync(7, "tok/en", new MessageCreate("more", Flags: MessageFlags.Ephemeral), CancellationToken.None).Within();

        var requests = _harness.Http.Requests;
        Assert.Equal(HttpMethod.Patch, requests[0].Method);
        Assert.Equal("https://discord.test/api/v10/webhooks/7/tok%2Fen/messages/@original", requests[0].Uri.AbsoluteUri);
        Assert.Equal("""{"content":"done"}""", requests[0].Body);
        Assert.Equal(HttpMethod.Post, requests[1].Method);
        Assert.Equal("https://discord.test/api/v10/webhooks/7/tok%2Fen", requests[1].Uri.AbsoluteUri);
        Assert.Equal("""{"content":"more","flags":64}""", requests[1].Body);
        Assert.Equal(10UL, edited.Id);
        Assert.Equal(20UL, followup.ChannelId);
    }

    [Fact]
    public async Task CreateMessage_PostsLinkButtonAndAllowedMentions()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, """{"id":"1","channel_id":"55"}"""));
        var message = new MessageCreate(
            Content: "Verify your wallet",
            Components: [MessageComponent.ActionRow(MessageComponent.LinkButton("Verify wallet", "https://walver.io/verify/abc"))],
            AllowedMentions: AllowedMentions.None);

        await _harness.Client.CreateMessageAsync(55, message, CancellationToken.None).Within();

        var request = Assert.Single(_harness.Http.Requests);
        Assert.Equal("https://discord.test/api/v10/channels/55/messages", request.Uri.ToString());
        Assert.Equal(
            """{"content":"Verify your wallet","components":[{"type":1,"components":[{"type":2,"style":5,"label":"Verify wallet","url":"https://walver.io/verify/abc"}]}],"allowed_mentions":{"parse":[]}}""",
            request.Body);
    }

    [Fact]
    public async Task BulkOverwriteGuildCommands_PutsDefinitionsAndReadsRegisteredCommands()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK,
            """[{"id":"900","application_id":"7","guild_id":"8","version":"901","type":1,"name":"verify","description":"Show links","default_member_permissions":null}]"""));

        var registered = await _harness.Client.BulkOverwriteGuildApplicationCommandsAsync(
            7, 8, [new ApplicationCommand("verify", "Show links", Contexts: [InteractionContextType.Guild])], CancellationToken.None).Within();

        var request = Assert.Single(_harness.Http.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("https://discord.test/api/v10/applications/7/guilds/8/commands", request.Uri.ToString());
        Assert.Equal("""[{"name":"verify","description":"Show links","type":1,"contexts":[0]}]""", request.Body);
        var command = Assert.Single(registered);
        Assert.Equal(900UL, command.Id);
        Assert.Equal(8UL, command.GuildId);
        Assert.Null(command.DefaultMemberPermissions);
    }

    [Fact]
    public async Task BulkOverwriteGlobalCommands_UsesTheApplicationRoute()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, "[]"));

        await _harness.Client.BulkOverwriteGlobalApplicationCommandsAsync(7, [], CancellationToken.None).Within();

        Assert.Equal("https://discord.test/api/v10/applications/7/commands", Assert.Single(_harness.Http.Requests).Uri.ToString());
    }

    [Fact]
    public async Task GetCurrentUserGuilds_PagesUntilAShortPage()
    {
        var fullPage = "[" + string.Join(",", Enumerable.Range(1, 200).Select(i => $$"""{"id":"{{i}}","name":"g{{i}}","permissions":"268435456"}""")) + "]";
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, fullPage));
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, """[{"id":"500","name":"last","owner":true,"permissions":"8"}]"""));

        var guilds = await _harness.Client.GetCurrentUserGuildsAsync(CancellationToken.None).Within();

        Assert.Equal(201, guilds.Count);
        Assert.Equal(DiscordPermissions.ManageRoles, guilds[0].Permissions);
        Assert.Equal(DiscordPermissions.Administrator, guilds[200].Permissions);
        var requests = _harness.Http.Requests;
        Assert.Equal("https://discord.test/api/v10/users/@me/guilds?after=0&limit=200", requests[0].Uri.ToString());
        Assert.Equal("https://discord.test/api/v10/users/@me/guilds?after=200&limit=200", requests[1].Uri.ToString());
    }

    [Fact]
    public async Task GuildChannelAndChannel_AreRead()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK,
            """{"id":"8","name":"Walver","owner_id":"9","roles":[{"id":"8","name":"@everyone","position":0,"permissions":"1024","managed":false}]}"""));
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK,
            """[{"id":"30","type":0,"guild_id":"8","name":"verify","position":1,"permission_overwrites":[{"id":"8","type":0,"allow":"0","deny":"2048"}]}]"""));
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, """{"id":"31","type":4,"guild_id":"8","name":"Info"}"""));

        var guild = await _harness.Client.GetGuildAsync(8, CancellationToken.None).Within();
        var channels = await _harness.Client.GetGuildChannelsAsync(8, CancellationToken.None).Within();
        var channel = await _harness.Client.GetChannelAsync(31, CancellationToken.None).Within();

        Assert.Equal(9UL, guild.OwnerId);
        Assert.Equal(DiscordPermissions.ViewChannel, Assert.Single(guild.Roles).Permissions);
        Assert.Equal(DiscordPermissions.SendMessages, Assert.Single(Assert.Single(channels).PermissionOverwrites!).Deny);
        Assert.Equal(ChannelType.GuildCategory, channel.Type);
        Assert.Equal(
            ["/api/v10/guilds/8", "/api/v10/guilds/8/channels", "/api/v10/channels/31"],
            _harness.Http.Requests.Select(r => r.Uri.AbsolutePath));
    }

    [Fact]
    public async Task SearchGuildMembers_EscapesQueryAndClampsLimit()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, $"[{MemberJson}]"));

        var members = await _harness.Client.SearchGuildMembersAsync(1, "nelly&co", 5000, CancellationToken.None).Within();

        Assert.Single(members);
        Assert.Equal("https://discord.test/api/v10/guilds/1/members/search?query=nelly%26co&limit=1000", _harness.Http.Requests[0].Uri.AbsoluteUri);
    }

    [Fact]
    public async Task UnexpectedJson_BecomesDiscordRestException()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.OK, "not json"));

        var error = await Assert.ThrowsAsync<DiscordRestException>(() => _harness.Client.GetGuildAsync(1, CancellationToken.None).Within());

        Assert.Equal("GET /guilds/{guild_id}", error.Route);
    }

    [Fact]
    public async Task Unauthorized_StopsFurtherRequests()
    {
        _harness.Http.Enqueue(Responses.Json(HttpStatusCode.Unauthorized, """{"message":"401: Unauthorized","code":0}"""));

        var first = await Assert.ThrowsAsync<DiscordRestException>(() => _harness.Client.GetCurrentUserAsync(CancellationToken.None).Within());
        var second = await Assert.ThrowsAsync<DiscordRestException>(() => _harness.Client.GetGuildAsync(1, CancellationToken.None).Within());

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal(1, _harness.Http.Count);
        Assert.True(_harness.Services.GetRequiredService<InvalidRequestMonitor>().TokenRejected);
    }
}
