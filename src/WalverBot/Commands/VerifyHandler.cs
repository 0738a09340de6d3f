using WalverBot.Discord.Models;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>
/// <c>/verify</c>, for everyone: this server's enabled verification links, privately. Identity binding
/// (<c>binding: code</c>) will hand out the member's one-time code here, next to the link it belongs to.
/// </summary>
public sealed class VerifyHandler(VerificationStore store)
{
    public const string NothingSetUp = "No wallet verification is set up in this server yet. Ask a server admin to run `/walver create`.";
    private const int MaxButtons = 25;

    public async Task<Reply> HandleAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var open = (await store.ListForGuildAsync(context.GuildId, cancellationToken))
            .Where(v => v.Enabled && v.VerificationUrl is not null)
            .Take(MaxButtons)
            .ToList();
        if (open.Count == 0)
        {
            return new Reply(NothingSetUp);
        }

        var lines = open.Select(v => $"- **{Label(v)}** → <@&{v.RoleId}>: {v.VerificationUrl}");
        var content =
            $"Open a link, connect your wallet, and when Walver asks for your Discord username type **{CommandParser.Sanitize(context.User.Username, 40)}**. " +
            "Your role follows within a minute.\n" + string.Join('\n', lines);
        var buttons = open.Select(v => MessageComponent.LinkButton(Truncate(Label(v), 80), v.VerificationUrl!)).ToList();
        var rows = buttons.Chunk(5).Select(row => MessageComponent.ActionRow(row)).ToList();
        return new Reply(content, rows);
    }

    private static string Label(Verification v) => CommandParser.Sanitize(v.Name ?? "Verify wallet", 80);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
