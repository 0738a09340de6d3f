using System.Collections.Concurrent;

namespace WalverBot.Commands;

/// <summary>Handles one kind of slash command; registered in DI as <c>ICommandHandler&lt;TCommand&gt;</c>.</summary>
public interface ICommandHandler<in TCommand>
    where TCommand : SlashCommand
{
    Task<Reply> HandleAsync(TCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken);
}

/// <summary>Sends each command to the <see cref="ICommandHandler{TCommand}"/> registered for its type.</summary>
public sealed class CommandRouter(IServiceProvider services)
{
    // One small typed invoker per command type, built once: the dispatch stays a DI lookup, without reflection per call.
    private static readonly ConcurrentDictionary<Type, Invoker> Invokers = new();

    public Task<Reply> RouteAsync(SlashCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken) =>
        Invokers.GetOrAdd(command.GetType(), type => (Invoker)Activator.CreateInstance(typeof(Invoker<>).MakeGenericType(type))!)
            .InvokeAsync(services, command, context, progress, cancellationToken);

    private abstract class Invoker
    {
        public abstract Task<Reply> InvokeAsync(IServiceProvider services, SlashCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken);
    }

    private sealed class Invoker<TCommand> : Invoker
        where TCommand : SlashCommand
    {
        public override Task<Reply> InvokeAsync(IServiceProvider services, SlashCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken) =>
            (services.GetService<ICommandHandler<TCommand>>() ?? throw new InvalidOperationException($"no handler for {typeof(TCommand).Name}"))
                .HandleAsync((TCommand)command, context, progress, cancellationToken);
    }
}
