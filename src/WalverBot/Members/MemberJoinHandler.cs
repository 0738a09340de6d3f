using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Grants;
using WalverBot.ScaleOut;
using WalverBot.Webhooks;

namespace WalverBot.Members;

/// <summary>
/// A member who joins (GUILD_MEMBER_ADD) may have verified before joining: their pending grants become due
/// now, matched by user id or by exact username, and the worker assigns the role within seconds. Only for guilds of
/// this instance's shards: their grants are this instance's work (<see cref="ShardOwnership"/>).
/// </summary>
public sealed class MemberJoinHandler(
    WebhookInbox inbox, GrantSignal signal, PendingMembers pendingMembers, ILogger<MemberJoinHandler> logger, ShardOwnership? shards = null)
    : IGatewayEventHandler<GuildMemberAddEvent>
{
    public async Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken)
    {
        var user = gatewayEvent.Member.User;
        // The gateway delivers only the guilds of the shards this instance runs; the check keeps joins that reach it
        // another way from waking work that belongs to another instance.
        if (user.Bot || !(shards ?? ShardOwnership.All).Owns(gatewayEvent.GuildId))
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
