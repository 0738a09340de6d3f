using WalverBot.Discord.Models;

using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>A slash command turned into plain values at the edge; handlers never see the interaction.</summary>
public abstract record SlashCommand
{
    /// <summary>Admin commands need Manage Roles (or Administrator), checked on every call.</summary>
    public virtual bool RequiresAdmin => true;
}

/// <summary>
/// Optional token gate of <c>/walver create</c>, already validated for the chain. <paramref name="TokenAddress"/> is null for a
/// <c>native</c> gate; <paramref name="Standard"/> is null when the admin left the chain's default.
/// </summary>
public sealed record TokenGate(string? TokenAddress, decimal MinAmount, bool IsNft, string? Standard = null, string? TokenId = null);

public sealed record CreateVerificationCommand(ulong RoleId, string Chain, TokenGate? Gate, string? Name, bool OneTime, int? ExpiresInDays, string Binding = Bindings.Username, int? ReverifyAfterDays = null) : SlashCommand;

public sealed record LinkVerificationCommand(string VerificationId, ulong RoleId, string Secret, string? Url, string? Chain) : SlashCommand
{
    /// <summary>Keeps the secret out of logs.</summary>
    public override string ToString() => $"LinkVerificationCommand {{ VerificationId = {VerificationId}, RoleId = {RoleId} }}";
}

public sealed record ListVerificationsCommand : SlashCommand;

public sealed record PostVerificationCommand(string VerificationId, ulong ChannelId) : SlashCommand;

public sealed record DisableVerificationCommand(string VerificationId, bool RemoveRoles) : SlashCommand;

public sealed record EnableVerificationCommand(string VerificationId) : SlashCommand;

public sealed record MemberStatusCommand(ulong UserId) : SlashCommand;

/// <summary><c>/walver recheck</c>: a holdings pass now, optionally without changes or releasing a paused verification.</summary>
public sealed record RecheckCommand(string VerificationId, bool DryRun, bool ConfirmRemovals) : SlashCommand;

/// <summary><c>/walver holders</c>: the verification's holders as a CSV file.</summary>
public sealed record HoldersCommand(string VerificationId) : SlashCommand;

public sealed record RevokeMemberCommand(ulong UserId, string? VerificationId) : SlashCommand;

/// <summary>
/// <c>/walver tiers</c>: with <paramref name="RoleId"/> null, list the tiers; with <paramref name="Remove"/>, drop the tier of
/// that role; otherwise add it at <paramref name="MinAmount"/> (or move it there).
/// </summary>
public sealed record TiersCommand(string VerificationId, ulong? RoleId, decimal? MinAmount, bool Remove) : SlashCommand;

/// <summary>Null channel turns notices off.</summary>
public sealed record LogChannelCommand(ulong? ChannelId) : SlashCommand;

public sealed record VerifyCommand : SlashCommand
{
    public override bool RequiresAdmin => false;
}

/// <summary>The option being typed in an autocomplete interaction.</summary>
public sealed record AutocompleteRequest(string Subcommand, string Option, string Text);

/// <summary>Who ran a command, where, with which permissions.</summary>
public sealed record CommandContext(ulong GuildId, ulong? ChannelId, DiscordUser User, DiscordPermissions Permissions)
{
    public bool IsAdmin => (Permissions & (DiscordPermissions.ManageRoles | DiscordPermissions.Administrator)) != 0;
}

/// <summary>The answer to a command; always ephemeral (only the caller sees it).</summary>
public sealed record Reply(string Content, IReadOnlyList<MessageComponent>? Components = null);

/// <summary>An expected refusal whose message tells the admin what to fix.</summary>
public sealed class CommandException(string message) : Exception(message);
