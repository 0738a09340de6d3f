using System.Threading.Channels;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.Grants;

namespace WalverBot.Commands;

/// <summary>A decision the grant worker recorded, as the log channel needs it.</summary>
/// <param name="Wallet">Already shortened.</param>
public sealed record DecisionNotice(ulong GuildId, string VerificationId, ulong? UserId, string? Wallet, Decision Decision);

/// <summary>
/// Tells a guild's admins about grants and problems through the channel set with <c>/walver log-channel</c>.
/// Called where decisions are recorded; never blocks and never throws, so it cannot slow or break the worker.
/// </summary>
public interface IAdminNotifier
{
    void DecisionRecorded(DecisionNotice notice);
}

/// <summary>Which decisions are worth a notice, and their one-line text.</summary>
public static class AdminNoticeText
{
    /// <summary>Outcomes an admin should see: grants, and problems they can act on (not the member's own mistakes or repeats).</summary>
    private static readonly HashSet<string> Notable =
    [
        Outcomes.Granted, Outcomes.RoleUnsafe, Outcomes.DiscordError, Outcomes.WalletConflict, Outcomes.AmbiguousMember,
        Outcomes.RejectedSignature, Outcomes.CodeRejected, Outcomes.TokenMismatch, Outcomes.PendingExpired, Outcomes.UnreadablePayload,
        Outcomes.InternalError,
        Outcomes.UnresolvedMember, Outcomes.BotAccount,
        Outcomes.RevokedReverify,
        Outcomes.RevokedHoldings, Outcomes.Regranted, Outcomes.RecheckPaused, Outcomes.ChainUnavailable,
    ];

    public static bool IsNotable(string outcome) => Notable.Contains(outcome);

    public static string Format(DecisionNotice notice)
    {
        var member = notice.UserId is { } id ? $"<@{id}>" : "a member";
        var wallet = notice.Wallet is null ? "" : $" (wallet `{notice.Wallet}`)";
        if (notice.Decision.Outcome == Outcomes.RecheckPaused)
        {
            return $"⏸️ Re-checks of `{notice.VerificationId}` are paused and removed nothing: {notice.Decision.Reason}.";
        }

        return notice.Decision.Outcome is Outcomes.Granted or Outcomes.Regranted
            ? $"✅ {member}{wallet} verified through `{notice.VerificationId}`: {notice.Decision.Reason}."
            : $"⚠️ `{notice.Decision.Outcome}` for {member}{wallet} through `{notice.VerificationId}`: {notice.Decision.Reason}.";
    }
}

/// <summary>
/// Queues notices in memory (bounded; the oldest are dropped under a flood) and posts them from
/// <see cref="AdminNoticeWorker"/>, so the Discord call happens outside the grant worker's path.
/// </summary>
public sealed class LogChannelNotifier : IAdminNotifier
{
    private readonly Channel<DecisionNotice> _queue = Channel.CreateBounded<DecisionNotice>(
        new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    public ChannelReader<DecisionNotice> Reader => _queue.Reader;

    public void DecisionRecorded(DecisionNotice notice)
    {
        if (AdminNoticeText.IsNotable(notice.Decision.Outcome))
        {
            _queue.Writer.TryWrite(notice);
        }
    }
}

/// <summary>Posts queued notices to each guild's log channel, if it has one.</summary>
public sealed class AdminNoticeWorker(LogChannelNotifier notifier, IServiceProvider services, ILogger<AdminNoticeWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notice in notifier.Reader.ReadAllAsync(stoppingToken))
            {
                await PostAsync(notice, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PostAsync(DecisionNotice notice, CancellationToken cancellationToken)
    {
        ulong? channelId = null;
        try
        {
            // A scope per notice: the REST client is a typed HttpClient, meant to be short-lived.
            await using var scope = services.CreateAsyncScope();
            channelId = await scope.ServiceProvider.GetRequiredService<CommandStore>().LogChannelAsync(notice.GuildId, cancellationToken);
            if (channelId is { } channel)
            {
                await scope.ServiceProvider.GetRequiredService<IDiscordRestClient>().CreateMessageAsync(channel,
                    new MessageCreate(Content: AdminNoticeText.Format(notice), AllowedMentions: AllowedMentions.None, Flags: MessageFlags.SuppressEmbeds),
                    cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A notice is a courtesy: the decision is in the log and /walver status either way.
            logger.LogWarning("Could not post a notice to log channel {ChannelId} of guild {GuildId}: {Error}", channelId, notice.GuildId, ex.Message);
        }
    }
}
