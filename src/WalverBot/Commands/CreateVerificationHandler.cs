using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Models;
using WalverBot.Grants;
using WalverBot.Verifications;
using WalverBot.Walver;
using WalverBot.Webhooks;

namespace WalverBot.Commands;

/// <summary>
/// <c>/walver create</c>: checks settings and the role, then creates the verification at Walver with a fresh
/// secret and our webhook, and stores it only once Walver has accepted it (nothing half-stored).
/// </summary>
public sealed class CreateVerificationHandler(
    IWalverApi walver,
    VerificationStore store,
    GuildDirectory guilds,
    IOptions<WalverOptions> walverOptions,
    IOptions<WebhookOptions> webhookOptions,
    IOptions<RoleOptions> roleOptions,
    TimeProvider time,
    ILogger<CreateVerificationHandler> logger) : ICommandHandler<CreateVerificationCommand>
{
    /// <summary>The custom field Walver shows for the member's Discord username; webhooks carry it as <c>custom_fields.discord</c>.</summary>
    public static readonly WalverCustomField DiscordField = new("discord", "discord", "Discord username", Required: true,
        "Your Discord username, so the bot can give you the role");

    /// <summary>With binding "code": the one-time code from /verify, which ties the wallet to the account that asked for it.</summary>
    public static readonly WalverCustomField CodeField = new(Bindings.CodeField, "text", "WalverBot code", Required: true,
        "The 8-character code that /verify gave you in Discord");

    public async Task<Reply> HandleAsync(CreateVerificationCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
    {
        if (MissingSettings(walverOptions.Value, webhookOptions.Value) is { } missing)
        {
            return new Reply(missing);
        }

        var roles = await guilds.RolesAsync(context.GuildId, cancellationToken);
        if (RoleSafety.Check(context.GuildId, command.RoleId, roles.Roles, roles.BotRoleIds, roleOptions.Value.AllowPrivileged) is { } unsafeReason)
        {
            return new Reply($"I can't hand out that role: {unsafeReason}. Nothing was created.");
        }

        // Walver may take seconds (and retries): acknowledge first.
        await progress.DeferAsync(cancellationToken);
        var name = command.Name ?? Truncate(await guilds.NameAsync(context.GuildId, cancellationToken), CommandDefinitions.MaxNameLength);
        var id = NewVerificationId(context.GuildId);
        var secret = SecretHasher.NewSecret();
        var request = BuildRequest(command, id, secret, webhookOptions.Value.WebhookUrl!, name, time.GetUtcNow());

        var result = await walver.CreateVerificationAsync(request, cancellationToken);
        if (result is not WalverCreateResult.Created created)
        {
            return new Reply(Explain(result, id));
        }

        try
        {
            await store.UpsertAsync(new Verification
            {
                Id = id,
                GuildId = context.GuildId,
                RoleId = command.RoleId,
                SecretHash = SecretHasher.Hash(secret),
                Chain = command.Chain,
                TokenAddress = command.Gate?.TokenAddress,
                MinAmount = command.Gate?.MinAmount,
                IsNft = command.Gate?.IsNft ?? false,
                Name = name,
                Source = "command",
                Enabled = true,
                VerificationUrl = created.VerificationUrl,
                Binding = command.Binding,
                TokenStandard = command.Gate?.Standard,
                TokenId = command.Gate?.TokenId,
                ReverifyAfter = command.ReverifyAfterDays is { } reverifyDays ? TimeSpan.FromDays(reverifyDays) : null,
            }, cancellationToken);
        }
        catch (System.Data.Common.DbException ex)
        {
            logger.LogError(ex, "Verification {VerificationId} was created at Walver but could not be stored", id);
            throw new CommandException($"Walver created verification `{id}`, but the bot could not store it (database error). Delete it in Walver's dashboard and try again once the operator has checked the database.");
        }

        logger.LogInformation("Admin {UserId} created verification {VerificationId} for role {RoleId} in guild {GuildId}",
            context.User.Id, id, command.RoleId, context.GuildId);
        return new Reply(
            $"Created verification `{id}` ({Describe(command)}) for <@&{command.RoleId}>.\n" +
            $"Members open: {created.VerificationUrl}\n" +
            $"Post it with `/walver post verification:{id}`, or members can find it with `/verify`.",
            [MessageComponent.ActionRow(MessageComponent.LinkButton("Open verification", created.VerificationUrl))]);
    }

    /// <summary>What the operator must set before verifications can be created from Discord; null when all is there.</summary>
    public static string? MissingSettings(WalverOptions walver, WebhookOptions webhook)
    {
        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(walver.ApiKey))
        {
            missing.Add("`Walver:ApiKey` (environment variable `Walver__ApiKey`): the Walver API key");
        }

        if (string.IsNullOrWhiteSpace(webhook.PublicBaseUrl))
        {
            missing.Add("`Webhook:PublicBaseUrl` (environment variable `Webhook__PublicBaseUrl`): the public https:// address where Walver reaches this bot");
        }

        return missing.Count == 0
            ? null
            : "`/walver create` is not set up yet. The bot operator must set " + string.Join(" and ", missing) +
              " and restart the bot. Meanwhile, `/walver link` registers a verification made in Walver's dashboard.";
    }

    /// <summary>The body sent to Walver: our id, secret and webhook, the Discord field, Discord verification forced on, and the gate.</summary>
    public static WalverCreateRequest BuildRequest(CreateVerificationCommand command, string id, string secret, Uri webhookUrl, string serviceName, DateTimeOffset now) => new()
    {
        Id = id,
        ServiceName = serviceName,
        Chain = command.Chain,
        Webhook = webhookUrl.ToString(),
        Secret = secret,
        OneTime = command.OneTime,
        Expiration = command.ExpiresInDays is { } days
            ? (now + TimeSpan.FromDays(days)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : null,
        CustomFields = command.Binding == Bindings.Code ? [DiscordField, CodeField] : [DiscordField],
        ForceDiscordVerification = true,
        TokenGate = command.Gate is not null,
        // Walver's API has no field for the standard or an ERC-1155 id: it gets the address (none for the chain's own coin),
        // the amount and the NFT flag, and the bot reads the rest on chain itself.
        TokenAddress = command.Gate?.TokenAddress,
        TokenAmount = command.Gate?.MinAmount,
        IsNft = command.Gate?.IsNft,
    };

    /// <summary><c>wb_&lt;guild&gt;_&lt;random&gt;</c>: unique, and says which server it belongs to when seen in Walver's dashboard.</summary>
    public static string NewVerificationId(ulong guildId) =>
        $"wb_{guildId.ToString(CultureInfo.InvariantCulture)}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";

    public static string Explain(WalverCreateResult result, string id) => result switch
    {
        WalverCreateResult.RateLimited { RetryAfter: { } wait } =>
            $"Walver's rate limit is reached (about 10 requests per minute). Try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} seconds. Nothing was created.",
        WalverCreateResult.RateLimited =>
            "Walver's rate limit is reached (about 10 requests per minute). Try again in a minute. Nothing was created.",
        WalverCreateResult.AlreadyExists { AfterRetry: true } =>
            $"Walver did not answer in time and then said verification `{id}` already exists: the first attempt probably created it, but its link never reached the bot. Nothing was stored here; delete `{id}` in Walver's dashboard and run `/walver create` again.",
        WalverCreateResult.AlreadyExists =>
            $"Walver already has a verification with id `{id}`. Nothing was stored; run the command again (each run uses a new id).",
        WalverCreateResult.Unauthorized =>
            "Walver refused the API key. The bot operator must check `Walver:ApiKey`. Nothing was created.",
        WalverCreateResult.Rejected rejected =>
            $"Walver refused the verification ({rejected.Status}): {CommandParser.Sanitize(rejected.Detail, 300)}. Nothing was created.",
        WalverCreateResult.Unavailable unavailable =>
            $"Walver is not reachable right now ({unavailable.Reason}). Nothing was stored; try again in a few minutes.",
        _ => "Walver gave an unexpected answer. Nothing was stored.",
    };

    private static string Describe(CreateVerificationCommand command)
    {
        var parts = new List<string> { command.Chain };
        if (command.Gate is { } gate)
        {
            parts.Add(gate.TokenAddress is null
                ? $"holding at least {gate.MinAmount.ToString(CultureInfo.InvariantCulture)} of {command.Chain}'s own coin"
                : $"holding at least {gate.MinAmount.ToString(CultureInfo.InvariantCulture)} {(gate.IsNft ? "NFT(s) of" : "of")} `{gate.TokenAddress}`" +
                  (gate.Standard is null ? "" : $" ({gate.Standard}{(gate.TokenId is null ? "" : $" id {gate.TokenId}")})"));
        }

        if (command.ReverifyAfterDays is { } reverify)
        {
            parts.Add($"re-verify every {reverify} day(s)");
        }

        if (command.OneTime)
        {
            parts.Add("one-time");
        }

        if (command.ExpiresInDays is { } days)
        {
            parts.Add($"expires in {days} day(s)");
        }

        return string.Join(", ", parts);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
