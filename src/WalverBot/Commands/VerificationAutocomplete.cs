using WalverBot.Discord.Models;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>Suggests this server's verification ids while an admin types one.</summary>
public sealed class VerificationAutocomplete(VerificationStore store)
{
    private const int MaxChoices = 25;

    public async Task<IReadOnlyList<ApplicationCommandOptionChoice>> SuggestAsync(ulong guildId, AutocompleteRequest request, CancellationToken cancellationToken)
    {
        if (request.Option != "verification")
        {
            return [];
        }

        var text = request.Text.Trim();
        return (await store.ListForGuildAsync(guildId, cancellationToken))
            .Where(v => text.Length == 0 || v.Id.Contains(text, StringComparison.OrdinalIgnoreCase)
                || (v.Name?.Contains(text, StringComparison.OrdinalIgnoreCase) ?? false))
            // For post, only enabled ones make sense, for enable only disabled ones; both stay visible elsewhere
            // (e.g. to remove roles).
            .Where(v => request.Subcommand switch
            {
                CommandDefinitions.Post => v.Enabled,
                CommandDefinitions.Enable => !v.Enabled,
                _ => true,
            })
            .OrderByDescending(v => v.Enabled)
            .Take(MaxChoices)
            .Select(v => new ApplicationCommandOptionChoice(Label(v), v.Id))
            .ToList();
    }

    private static string Label(Verification v)
    {
        var label = $"{v.Id}{(v.Name is null ? "" : $" – {v.Name}")}{(v.Enabled ? "" : " (disabled)")}";
        return label.Length <= 100 ? label : label[..99] + "…";
    }
}
