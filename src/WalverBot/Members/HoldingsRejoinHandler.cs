using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Holdings;
using WalverBot.ScaleOut;

namespace WalverBot.Members;

/// <summary>
/// A member who left and comes back (GUILD_MEMBER_ADD) gets back every role their linked wallets still earn, without
/// verifying again: Discord drops a member's roles when they leave, the bot's wallet links and amounts stay. Only for
/// guilds of this instance's shards (<see cref="ShardOwnership"/>).
/// </summary>
public sealed class HoldingsRejoinHandler(RecheckEngine engine, ILogger<HoldingsRejoinHandler> logger, ShardOwnership? shards = null)
    : IGatewayEventHandler<GuildMemberAddEvent>
{
    public async Task HandleAsync(GuildMemberAddEvent gatewayEvent, CancellationToken cancellationToken)
    {
        var user = gatewayEvent.Member.User;
        if (user.Bot || !(shards ?? ShardOwnership.All).Owns(gatewayEvent.GuildId))
        {
            return;
        }

        var restored = await engine.RestoreMemberAsync(gatewayEvent.GuildId, user.Id, cancellationToken);
        if (restored > 0)
        {
            logger.LogInformation("Member {UserId} rejoined guild {GuildId}; {Count} role(s) their wallets still earn were given back", user.Id, gatewayEvent.GuildId, restored);
        }
    }
}
