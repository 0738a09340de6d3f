using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Commands;

/// <summary>How a handler acknowledges early and shows progress; the only transport it sees.</summary>
public interface IReplyProgress
{
    /// <summary>Acknowledges now (the caller sees "thinking…"); the final reply then edits this answer. Does nothing the second time.</summary>
    Task DeferAsync(CancellationToken cancellationToken);

    /// <summary>Shows an intermediate state (deferring first when needed), e.g. "removing roles… 20/80".</summary>
    Task ProgressAsync(string content, CancellationToken cancellationToken);

    /// <summary>Sends files to the caller (only they see them) as a follow-up message, deferring first when needed.</summary>
    Task AttachFilesAsync(string content, IReadOnlyList<FileUpload> files, CancellationToken cancellationToken);
}

/// <summary>
/// Answers one interaction exactly once within Discord's 3 s: a direct message when the handler is quick, or a
/// deferral (type 5, ephemeral) followed by edits of <c>@original</c>. A timer defers on the handler's behalf
/// when it runs long, so a slow database or Discord never leaves "The application did not respond".
/// </summary>
public sealed class InteractionReply(IDiscordRestClient discord, Interaction interaction, TimeProvider time, ILogger logger) : IReplyProgress, IAsyncDisposable
{
    public const int MaxContentLength = 2000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private State _state;
    private ITimer? _autoDefer;

    private enum State
    {
        Unanswered,
        Deferred,
        Answered,
    }

    /// <summary>Defers automatically when no answer was sent within <paramref name="budget"/>.</summary>
    public void DeferAfter(TimeSpan budget, CancellationToken cancellationToken) =>
        _autoDefer = time.CreateTimer(_ => _ = AutoDeferAsync(cancellationToken), null, budget, Timeout.InfiniteTimeSpan);

    public async Task DeferAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_state == State.Unanswered)
            {
                await discord.CreateInteractionResponseAsync(interaction.Id, interaction.Token, InteractionResponse.Defer(ephemeral: true), cancellationToken);
                _state = State.Deferred;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task ProgressAsync(string content, CancellationToken cancellationToken)
    {
        await DeferAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_state == State.Deferred)
            {
                await discord.EditOriginalInteractionResponseAsync(interaction.ApplicationId, interaction.Token,
                    new MessageEdit(Content: Limit(content), AllowedMentions: AllowedMentions.None), cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task AttachFilesAsync(string content, IReadOnlyList<FileUpload> files, CancellationToken cancellationToken)
    {
        // A follow-up needs the interaction acknowledged first.
        await DeferAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await discord.CreateFollowupMessageWithFilesAsync(interaction.ApplicationId, interaction.Token,
                new MessageCreate(Content: Limit(content), AllowedMentions: AllowedMentions.None, Flags: MessageFlags.Ephemeral), files, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The final answer: the first response, or an edit of the deferred one.</summary>
    public async Task FinishAsync(Reply reply, CancellationToken cancellationToken)
    {
        _autoDefer?.Dispose();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var content = Limit(reply.Content);
            switch (_state)
            {
                case State.Unanswered:
                    await discord.CreateInteractionResponseAsync(interaction.Id, interaction.Token,
                        new InteractionResponse(InteractionCallbackType.ChannelMessageWithSource, new InteractionCallbackData(
                            Content: content, Flags: MessageFlags.Ephemeral, Components: reply.Components, AllowedMentions: AllowedMentions.None)),
                        cancellationToken);
                    break;
                case State.Deferred:
                    await discord.EditOriginalInteractionResponseAsync(interaction.ApplicationId, interaction.Token,
                        new MessageEdit(Content: content, Components: reply.Components ?? [], AllowedMentions: AllowedMentions.None), cancellationToken);
                    break;
                case State.Answered:
                    await discord.CreateFollowupMessageAsync(interaction.ApplicationId, interaction.Token,
                        new MessageCreate(Content: content, Components: reply.Components, AllowedMentions: AllowedMentions.None, Flags: MessageFlags.Ephemeral),
                        cancellationToken);
                    break;
            }

            _state = State.Answered;
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _autoDefer?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task AutoDeferAsync(CancellationToken cancellationToken)
    {
        try
        {
            await DeferAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DiscordRestException or OperationCanceledException)
        {
            logger.LogWarning("Could not defer the answer to {Interaction}: {Error}", interaction, ex.Message);
        }
    }

    private static string Limit(string content) =>
        content.Length <= MaxContentLength ? content : content[..(MaxContentLength - 1)] + "…";
}
