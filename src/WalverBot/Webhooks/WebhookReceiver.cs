using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using WalverBot.Grants;
using WalverBot.Operations;
using WalverBot.Security;
using WalverBot.Storage;
using WalverBot.Verifications;

namespace WalverBot.Webhooks;

/// <summary>What became of a delivery at the door, mapped to HTTP by <see cref="WebhookEndpoints"/>.</summary>
public enum Acceptance
{
    Accepted,
    Duplicate,
    Malformed,
    UnknownVerification,
    WrongSecret,
    StorageUnavailable,
}

public sealed record AcceptanceResult(Acceptance Outcome, string? Error = null);

/// <summary>
/// Checks a webhook body and stores it durably. Answers "accepted" only after the event is committed,
/// so a crash after the answer loses nothing.
/// </summary>
public sealed class WebhookReceiver(
    VerificationStore verifications,
    InboxWriter inbox,
    GrantLedger ledger,
    GrantSignal signal,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookReceiver> logger,
    BotMetrics metrics)
{
    public async Task<AcceptanceResult> ReceiveAsync(ReadOnlyMemory<byte> body, string remoteAddress, CancellationToken cancellationToken)
    {
        var result = await ReceiveCoreAsync(body, remoteAddress, cancellationToken);
        metrics.WebhookReceived(result.Outcome);
        return result;
    }

    private async Task<AcceptanceResult> ReceiveCoreAsync(ReadOnlyMemory<byte> body, string remoteAddress, CancellationToken cancellationToken)
    {
        if (!WalverWebhookParser.TryParseForStorage(body, out var webhook, out var payload, out var error))
        {
            logger.LogWarning("Refused a malformed webhook from {RemoteAddress}: {Error}", remoteAddress, error);
            return new(Acceptance.Malformed, error);
        }

        Verification? verification;
        try
        {
            verification = await verifications.FindAsync(webhook!.VerificationId, cancellationToken);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or System.Data.Common.DbException)
        {
            // A verification not cached yet (on PostgreSQL: or due for a re-read) is read from a store that is gone or
            // refuses connections: not stored, so not acknowledged.
            logger.LogError("Could not store a webhook for verification {VerificationId}: {Problem}", webhook!.VerificationId, ex.Message);
            return new(Acceptance.StorageUnavailable, "storage unavailable, try again later");
        }

        if (verification is null || !verification.Enabled)
        {
            logger.LogWarning("Refused a webhook for {State} verification {VerificationId} from {RemoteAddress}",
                verification is null ? "unknown" : "disabled", webhook.VerificationId, remoteAddress);
            return new(Acceptance.UnknownVerification, "unknown or disabled verification");
        }

        if (!SecretHasher.Verify(webhook.Secret, verification.SecretHash))
        {
            logger.LogWarning("Refused a webhook for verification {VerificationId} from {RemoteAddress}: {Problem}",
                verification.Id, remoteAddress, webhook.Secret is null ? "no secret" : "wrong secret");
            return new(Acceptance.WrongSecret, "wrong or missing secret");
        }

        if (CheckAge(webhook) is { } tooOld)
        {
            logger.LogWarning("Refused a webhook for verification {VerificationId}, wallet {Wallet}: {Problem}",
                verification.Id, WalletAddresses.Shorten(webhook.WalletAddress), tooOld);
            return new(Acceptance.Malformed, tooOld);
        }

        var deliveryKey = WebhookInbox.DeliveryKey(webhook.VerificationId, webhook.WalletAddress, webhook.Signature, webhook.Message);
        var query = MemberQuery.Parse(webhook.DiscordName);
        var memberQuery = query is MemberQuery.Invalid ? null : query.Key;

        long? eventId;
        try
        {
            // Not cancelled by the request timeout: the answer must say whether the event is stored, and the store
            // answers within Storage:BusyTimeout twice (a failing batch ahead, then this one), inside the 10 s limit.
            // Cancelling here answered 408 for deliveries that were committed a moment later.
            eventId = await inbox.AcceptAsync(new NewInboxEvent(deliveryKey, verification.Id, verification.GuildId, webhook.WalletAddress, memberQuery, payload), CancellationToken.None);
        }
        catch (SqliteException ex)
        {
            // Disk full, database locked past the busy timeout, read-only volume: not stored, so not acknowledged.
            logger.LogError("Could not store a webhook for verification {VerificationId}: SQLite error {SqliteError} ({Message})",
                verification.Id, ex.SqliteErrorCode, ex.Message);
            return new(Acceptance.StorageUnavailable, "storage unavailable, try again later");
        }
        catch (System.Data.Common.DbException ex)
        {
            // PostgreSQL down, failed over or out of space: the commit did not happen, so not acknowledged.
            logger.LogError("Could not store a webhook for verification {VerificationId}: database error {Message}", verification.Id, ex.Message);
            return new(Acceptance.StorageUnavailable, "storage unavailable, try again later");
        }
        catch (StoreUnavailableException ex)
        {
            logger.LogError("Could not store a webhook for verification {VerificationId}: {Problem}", verification.Id, ex.Message);
            return new(Acceptance.StorageUnavailable, "storage unavailable, try again later");
        }

        if (eventId is null)
        {
            ledger.Announce(verification.Id, verification.GuildId, webhook.WalletAddress, GrantLedger.Repeat);
            return new(Acceptance.Duplicate);
        }

        logger.LogInformation("Accepted webhook event {EventId} for verification {VerificationId}, wallet {Wallet}",
            eventId, verification.Id, WalletAddresses.Shorten(webhook.WalletAddress));
        signal.Notify();
        return new(Acceptance.Accepted);
    }

    private string? CheckAge(WalverWebhook webhook)
    {
        // Webhook:MaxEventAge is always set (it must be positive): without a time, a delivery of any age would pass.
        var maxAge = options.Value.MaxEventAge;
        if (webhook.VerificationTime is not { } at)
        {
            return "verification_time is required";
        }

        var now = time.GetUtcNow();
        if (at > now + WebhookOptions.MaxClockSkew)
        {
            return "verification_time is in the future";
        }

        if (now - at > maxAge)
        {
            return $"verification_time is older than {maxAge.TotalHours:0.#} h";
        }

        // The wallet signs before Walver completes the verification. A fresh verification_time around an old signed
        // message is an old proof sent again, which Walver's own timestamp check would have refused.
        if (SignedMessageTime.Find(webhook.Message) is { } signedAt)
        {
            if (signedAt > at + WebhookOptions.MaxClockSkew)
            {
                return "the signed message's timestamp is later than verification_time";
            }

            if (at - signedAt > maxAge)
            {
                return $"the signed message's timestamp is more than {maxAge.TotalHours:0.#} h before verification_time";
            }
        }

        return null;
    }
}
