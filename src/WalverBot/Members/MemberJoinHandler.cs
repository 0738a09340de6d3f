using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Grants;
using WalverBot.Webhooks;

namespace WalverBot.Members;

/// <summary>
/// A member who joins (GUILD_MEMBER_ADD) may have verified before joining: their pending grants become due
/// now, matched by user id or by exact username, and the worker assigns the role within seconds.
/// </summary>
public sealed class MemberJoinHandler(WebhookInbox inbox, GrantSignal signal, PendingMembers pendingMembers, ILogger<MemberJoinHandler> logger)
    : IGatewayEventHandler<GuildMemberAddEvent>
{
    public async Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken)
    {
        var user = gatewayEvent.Member.User;
        if (user.Bot)
        {
            return;
        }

        string[] keys = [MemberQuery.KeyFor(user.Id), MemberQuery.KeyFor(user.Username)];
        // Recorded before waking: a grant whose wait commits after this wake-up finds the join here instead.
        pendingMembers.Joined(gatewayEvent.GuildId, keys);
        var woken = await inbox.WakeWaitingAsync(gatewayEvent.GuildId, keys, cancellationToken);
        if (woken > 0)
        {
            logger.LogInformation("Member {UserId} joined guild {GuildId}; {Count} pending grant(s) are due now", user.Id, gatewayEvent.GuildId, woken);
            signal.Notify();
        }
    }
}
