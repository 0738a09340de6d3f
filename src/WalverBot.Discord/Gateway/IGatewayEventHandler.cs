using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Reacts to one kind of gateway event. Register implementations in DI (scoped or transient; see
/// <see cref="DiscordGatewayServiceCollectionExtensions.AddGatewayEventHandler{THandler}"/>); each event gets
/// a new DI scope. Handlers run off the gateway's receive loop, so a slow handler never delays heartbeats,
/// and an exception is logged without ending the session. The guild cache is already updated with the
/// event when a handler runs. Handlers of different events may run concurrently.
/// </summary>
/// <typeparam name="TEvent">The event record, e.g. <see cref="GuildMemberAddEvent"/>.</typeparam>
public interface IGatewayEventHandler<in TEvent>
    where TEvent : GatewayEvent
{
    /// <summary>Handles the event. The token is cancelled when the application stops.</summary>
    Task HandleAsync(TEvent gatewayEvent, CancellationToken cancellationToken);
}
