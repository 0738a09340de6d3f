namespace WalverBot.Commands;

// These handlers keep their own method shapes for now; each adapter only fits one onto ICommandHandler<T>.
// Folding the interface into the handler classes themselves removes these.

internal sealed class PostVerificationCommandHandler(PostVerificationHandler handler) : ICommandHandler<PostVerificationCommand>
{
    public Task<Reply> HandleAsync(PostVerificationCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken) =>
        handler.HandleAsync(command, context, progress, cancellationToken);
}

internal sealed class DisableVerificationCommandHandler(RoleRemovalHandler handler) : ICommandHandler<DisableVerificationCommand>
{
    public Task<Reply> HandleAsync(DisableVerificationCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken) =>
        handler.DisableAsync(command, context, progress, cancellationToken);
}

internal sealed class RevokeMemberCommandHandler(RoleRemovalHandler handler) : ICommandHandler<RevokeMemberCommand>
{
    public Task<Reply> HandleAsync(RevokeMemberCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken) =>
        handler.RevokeAsync(command, context, progress, cancellationToken);
}

internal sealed class VerifyCommandHandler(VerifyHandler handler) : ICommandHandler<VerifyCommand>
{
    public Task<Reply> HandleAsync(VerifyCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken) =>
        handler.HandleAsync(context, cancellationToken);
}
