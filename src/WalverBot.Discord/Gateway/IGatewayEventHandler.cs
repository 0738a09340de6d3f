using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Reacts to one kind of gateway event. Register implementations in DI (scoped or transient; see
/// <see cref="DiscordGatewayServiceCollectionExtensions.AddGatewayEventHandler{THandler}"/>); each event gets
/// a new DI scope. Handlers run off the gateway's receive loop, so a slow handler never delays heartbeats,
/// and an exception is logged without ending the session. The guild cache is already updated with the
/// event when a handler runs. One guild's events are handled one at a time, in the order Discord sent them (a
/// member's ADD before its UPDATE); other guilds' events and interactions may run at the same time. A slow handler
/// holds up its guild's later events and, once its lane is full, the shard's reading.
/// </summary>
/// <typeparam name="TEvent">The event record, e.g. <see cref="GuildMemberAddEvent"/>.</typeparam>
public interface IGatewayEventHandler<in TEvent>
    where TEvent : GatewayEvent
{
    /// <summary>
    /// Handles the event. At shutdown, handlers already running and events already received are finished; the token
    /// is cancelled only when the host's shutdown budget runs out.
    /// </summary>
    Task HandleAsync(TEvent gatewayEvent, CancellationToken cancellationToken);
}
