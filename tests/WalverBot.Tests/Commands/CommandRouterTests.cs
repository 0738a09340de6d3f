using WalverBot.Commands;
using WalverBot.Discord.Models;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.Commands;

public sealed class CommandRouterTests
{
    private static readonly CommandContext Context = new(1, 2, new DiscordUser(3, "admin"), DiscordPermissions.ManageRoles);

    [Fact]
    public async Task A_command_goes_to_the_handler_registered_for_its_type_with_the_callers_context_and_progress()
    {
        var statusHandler = new RecordingHandler<MemberStatusCommand>("status");
        var enableHandler = new RecordingHandler<EnableVerificationCommand>("enable");
        await using var services = new ServiceCollection()
            .AddSingleton<ICommandHandler<MemberStatusCommand>>(statusHandler)
            .AddSingleton<ICommandHandler<EnableVerificationCommand>>(enableHandler)
            .BuildServiceProvider();
        var router = new CommandRouter(services);
        var progress = new NoProgress();

        var reply = await router.RouteAsync(new MemberStatusCommand(42), Context, progress, CancellationToken.None);

        Assert.Equal("status", reply.Content);
        var (command, context, seenProgress) = Assert.Single(statusHandler.Calls);
        Assert.Equal(new MemberStatusCommand(42), command);
        Assert.Same(Context, context);
        Assert.Same(progress, seenProgress);
        Assert.Empty(enableHandler.Calls);
        Assert.Equal("enable", (await router.RouteAsync(new EnableVerificationCommand("wb_1"), Context, progress, CancellationToken.None)).Content);
    }

    [Fact]
    public async Task A_command_without_a_handler_is_a_clear_error()
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        var router = new CommandRouter(services);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => router.RouteAsync(new VerifyCommand(), Context, new NoProgress(), CancellationToken.None));
        Assert.Contains(nameof(VerifyCommand), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_slash_command_has_a_handler_in_the_running_bot()
    {
        await using var bot = await BotScenario.StartAsync();
        using var scope = bot.Services.CreateScope();
        var commandTypes = typeof(SlashCommand).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(SlashCommand)) && !t.IsAbstract).ToList();

        Assert.Equal(13, commandTypes.Count);
        Assert.All(commandTypes, type => Assert.NotNull(scope.ServiceProvider.GetService(typeof(ICommandHandler<>).MakeGenericType(type))));
    }

    private sealed class RecordingHandler<TCommand>(string answer) : ICommandHandler<TCommand>
        where TCommand : SlashCommand
    {
        public List<(TCommand Command, CommandContext Context, IReplyProgress Progress)> Calls { get; } = [];

        public Task<Reply> HandleAsync(TCommand command, CommandContext context, IReplyProgress progress, CancellationToken cancellationToken)
        {
            Calls.Add((command, context, progress));
            return Task.FromResult(new Reply(answer));
        }
    }

    private sealed class NoProgress : IReplyProgress
    {
        public Task DeferAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ProgressAsync(string content, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task AttachFilesAsync(string content, IReadOnlyList<FileUpload> files, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
