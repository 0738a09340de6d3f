using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Turns dispatches into typed events, applies them to the guild cache, and hands them to the
/// <see cref="IGatewayEventHandler{TEvent}"/>s registered in DI. A shard calls <see cref="Dispatch"/> for its
/// events one at a time (in sequence order) from its own event worker, never from the receive loop;
/// handlers then run on the thread pool, each event in a new DI scope.
/// </summary>
internal sealed class GatewayEventDispatcher(IServiceScopeFactory scopes, GuildCache cache, ILogger<GatewayEventDispatcher> logger)
{
    public void Dispatch(int shardId, string eventName, JsonElement data, CancellationToken cancellationToken)
    {
        GatewayEvent? gatewayEvent;
        try
        {
            gatewayEvent = GatewayEventParser.Parse(eventName, data);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            logger.LogWarning(ex, "Shard {ShardId}: could not read a {EventName} dispatch; it is skipped", shardId, eventName);
            return;
        }

        if (gatewayEvent is null)
        {
            return;
        }

        gatewayEvent = gatewayEvent with { ShardId = shardId };
        cache.Apply(gatewayEvent);
        _ = Task.Run(() => RunHandlersAsync(gatewayEvent, cancellationToken), CancellationToken.None);
    }

    private Task RunHandlersAsync(GatewayEvent gatewayEvent, CancellationToken cancellationToken) => gatewayEvent switch
    {
        ReadyEvent e => RunHandlersAsync(e, cancellationToken),
        GuildCreateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildDeleteEvent e => RunHandlersAsync(e, cancellationToken),
        GuildRoleCreateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildRoleUpdateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildRoleDeleteEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMemberAddEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMemberUpdateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMemberRemoveEvent e => RunHandlersAsync(e, cancellationToken),
        InteractionCreateEvent e => RunHandlersAsync(e, cancellationToken),
        GuildMembersChunkEvent e => RunHandlersAsync(e, cancellationToken),
        _ => Task.CompletedTask,
    };

    private async Task RunHandlersAsync<TEvent>(TEvent gatewayEvent, CancellationToken cancellationToken)
        where TEvent : GatewayEvent
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            foreach (var handler in scope.ServiceProvider.GetServices<IGatewayEventHandler<TEvent>>())
            {
                try
                {
                    await handler.HandleAsync(gatewayEvent, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // A failing handler is the handler's bug; the session and the other handlers carry on.
                    logger.LogError(ex, "Gateway event handler {Handler} failed on {EventType} (shard {ShardId})",
                        handler.GetType().Name, typeof(TEvent).Name, gatewayEvent.ShardId);
                }
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not resolve the handlers of {EventType}", typeof(TEvent).Name);
        }
    }
}
