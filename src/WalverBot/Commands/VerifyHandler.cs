using WalverBot.Binding;
using WalverBot.Discord.Models;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>
/// <c>/verify</c>, for everyone: this server's enabled verification links, privately. Where a verification
/// binds by code, the member also gets a fresh one-time code, tied to their account, to type at Walver.
/// </summary>
public sealed class VerifyHandler(VerificationStore store, IdentityCodes codes)
{
    public const string NothingSetUp = "No wallet verification is set up in this server yet. Ask a server admin to run `/walver create`.";
    public const string NoLinkYet = "This server's wallet verification has no link the bot can show yet. Ask a server admin to add it (`/walver link … url:`, or `Url` of a verification declared in the bot's configuration).";
    private const int MaxButtons = 25;

    public async Task<Reply> HandleAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var enabled = (await store.ListForGuildAsync(context.GuildId, cancellationToken)).Where(v => v.Enabled).ToList();
        var open = enabled.Where(v => v.VerificationUrl is not null).Take(MaxButtons).ToList();
        if (open.Count == 0)
        {
            return new Reply(enabled.Count == 0 ? NothingSetUp : NoLinkYet);
        }

        var lines = open.Select(v => $"- **{Label(v)}** → <@&{v.RoleId}>: {v.VerificationUrl}");
        var content =
            $"Open a link, connect your wallet, and when Walver asks for your Discord username type **{CommandParser.Sanitize(context.User.Username, 40)}**. " +
            "Your role follows within a minute.\n" + string.Join('\n', lines);
        if (open.Any(v => v.Binding == Bindings.Code))
        {
            var (code, expiresAt) = await codes.IssueAsync(context.GuildId, context.User.Id, cancellationToken);
            content += $"\nYour one-time code: **{code}** — type it in the *WalverBot code* field (valid until <t:{expiresAt.ToUnixTimeSeconds()}:t>, for your account only).";
        }

        var buttons = open.Select(v => MessageComponent.LinkButton(Truncate(Label(v), 80), v.VerificationUrl!)).ToList();
        var rows = buttons.Chunk(5).Select(row => MessageComponent.ActionRow(row)).ToList();
        return new Reply(content, rows);
    }

    private static string Label(Verification v) => CommandParser.Sanitize(v.Name ?? "Verify wallet", 80);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
