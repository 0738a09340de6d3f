using System.Security.Cryptography;
using System.Text.Json;
using WalverBot.Discord.Models;
using WalverBot.Verifications;
using Option = WalverBot.Discord.Models.ApplicationCommandOption;
using OptionType = WalverBot.Discord.Models.ApplicationCommandOptionType;

namespace WalverBot.Commands;

/// <summary>The slash commands, defined once; registered at READY when they differ from what was registered last.</summary>
public static class CommandDefinitions
{
    public const string Walver = "walver";
    public const string Verify = "verify";

    public const string Create = "create";
    public const string Link = "link";
    public const string List = "list";
    public const string Post = "post";
    public const string Disable = "disable";
    public const string Enable = "enable";
    public const string Status = "status";
    public const string Revoke = "revoke";
    public const string LogChannel = "log-channel";
    public const string Tiers = "tiers";
    public const string Recheck = "recheck";
    public const string Holders = "holders";

    public const int MaxExpiryDays = 365;
    public const int MaxReverifyDays = 3650;
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 256;
    public const int MaxIdLength = 100;
    public const int MaxNameLength = 100;

    /// <summary>Who may run <c>/walver</c>: set as its default permissions and checked again on every call.</summary>
    public const DiscordPermissions AdminPermissions = DiscordPermissions.ManageRoles;

    private static readonly ChannelType[] PostableChannels = [ChannelType.GuildText, ChannelType.GuildAnnouncement];

    private static readonly ApplicationCommandOptionChoice[] TokenStandardChoices =
    [
        new("erc20 (fungible token, EVM)", TokenStandards.Erc20), new("erc721 (NFT collection, EVM)", TokenStandards.Erc721),
        new("erc1155 (multi-token, EVM; needs token_id)", TokenStandards.Erc1155), new("spl (Solana token or NFT)", TokenStandards.Spl),
        new("native (the chain's own coin, e.g. ETH or SOL)", TokenStandards.Native),
    ];

    public static IReadOnlyList<ApplicationCommand> All { get; } =
    [
        new(Walver, "Set up and manage Walver wallet verifications (Manage Roles)",
            Options:
            [
                Sub(Create, "Create a verification at Walver that grants a role; answers with its link",
                    new Option(OptionType.Role, "role", "The role members get once their wallet is verified", Required: true),
                    new Option(OptionType.String, "chain", "The chain the wallet is on", Required: true,
                        Choices: [.. KnownChains.All.Select(c => new ApplicationCommandOptionChoice(c, c))]),
                    new Option(OptionType.String, "token_address", "Gate on holding this token or NFT collection (contract / mint address)", MinLength: 32, MaxLength: 64),
                    new Option(OptionType.Number, "min_amount", "Token gate: the least amount the wallet must hold (more than 0)", MinValue: 0),
                    new Option(OptionType.Boolean, "nft", "Token gate: the token is an NFT collection"),
                    new Option(OptionType.String, "name", "Name shown to members on Walver's page (default: the server's name)", MaxLength: MaxNameLength),
                    new Option(OptionType.Boolean, "one_time", "The link works for one verification only"),
                    new Option(OptionType.Integer, "expires_in_days", "The link stops working after this many days", MinValue: 1, MaxValue: MaxExpiryDays),
                    new Option(OptionType.String, "binding", "How the member's Discord account is identified (default: the username they type)",
                        Choices: [new ApplicationCommandOptionChoice("username they type", Bindings.Username), new ApplicationCommandOptionChoice("one-time code from /verify (safest)", Bindings.Code)]),
                    new Option(OptionType.String, "token_standard", "Token gate: what to read (default: erc20 on EVM chains, erc721 with nft, spl on Solana)",
                        Choices: [.. TokenStandardChoices]),
                    new Option(OptionType.String, "token_id", "ERC-1155 gate: the token id within the contract (decimal digits)", MaxLength: 78),
                    new Option(OptionType.Integer, "reverify_after_days", "No token gate only: remove the role this many days after the member's last verification",
                        MinValue: 1, MaxValue: MaxReverifyDays)),
                Sub(Link, "Register a verification made in Walver's dashboard",
                    new Option(OptionType.String, "id", "The verification's id in Walver", Required: true, MaxLength: MaxIdLength),
                    new Option(OptionType.Role, "role", "The role members get once their wallet is verified", Required: true),
                    new Option(OptionType.String, "secret", "The webhook secret set in Walver's dashboard", Required: true, MinLength: MinSecretLength, MaxLength: MaxSecretLength),
                    new Option(OptionType.String, "url", "The verification link members open (shown by /verify and /walver post)", MaxLength: 300),
                    new Option(OptionType.String, "chain", "The chain the wallet is on",
                        Choices: [.. KnownChains.All.Select(c => new ApplicationCommandOptionChoice(c, c))])),
                Sub(List, "This server's verifications with their roles, gates, state and counts"),
                Sub(Post, "Post a public message with a \"Verify wallet\" button",
                    VerificationOption(required: true),
                    new Option(OptionType.Channel, "channel", "Where to post it", Required: true, ChannelTypes: PostableChannels)),
                Sub(Disable, "Stop honouring a verification's webhooks",
                    VerificationOption(required: true),
                    new Option(OptionType.Boolean, "remove_roles", "Also remove the roles it granted")),
                Sub(Enable, "Honour a disabled verification's webhooks again",
                    VerificationOption(required: true)),
                Sub(Status, "A member's wallets, grants and the bot's last decisions about them",
                    new Option(OptionType.User, "member", "The member", Required: true)),
                Sub(Revoke, "Remove the roles a member got through verifications, and their wallet link",
                    new Option(OptionType.User, "member", "The member", Required: true),
                    VerificationOption(required: false)),
                Sub(LogChannel, "Where the bot posts a short notice per grant and per problem (leave empty to turn off)",
                    new Option(OptionType.Channel, "channel", "The channel for notices", ChannelTypes: PostableChannels)),
                Sub(Tiers, "Extra roles by amount held (e.g. Whale from 100): add, change or remove a tier, or list them",
                    VerificationOption(required: true),
                    new Option(OptionType.Role, "role", "The tier's role (leave empty to list the tiers)"),
                    new Option(OptionType.Number, "min_amount", "The least amount (whole tokens or NFT count) for this role", MinValue: 0),
                    new Option(OptionType.Boolean, "remove", "Remove the tier of this role")),
                Sub(Recheck, "Re-check a token-gated verification's holdings now: add and remove tier roles",
                    VerificationOption(required: true),
                    new Option(OptionType.Boolean, "dry_run", "Only answer what would be added and removed; change nothing"),
                    new Option(OptionType.Boolean, "confirm_removals", "Release a paused verification and apply the removals the breaker held back")),
                Sub(Holders, "The verification's holders as a CSV file (member, wallets, amount, tier, last check)",
                    VerificationOption(required: true)),
            ],
            DefaultMemberPermissions: AdminPermissions,
            Contexts: [InteractionContextType.Guild],
            IntegrationTypes: [ApplicationIntegrationType.GuildInstall]),
        new(Verify, "Show this server's wallet verification links (only you see them)",
            Contexts: [InteractionContextType.Guild],
            IntegrationTypes: [ApplicationIntegrationType.GuildInstall]),
    ];

    /// <summary>SHA-256 of the definitions as sent to Discord: a changed description or option changes it.</summary>
    public static string Hash { get; } = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(All, DiscordJson.Options)));

    private static Option Sub(string name, string description, params Option[] options) =>
        new(OptionType.SubCommand, name, description, Options: options);

    private static Option VerificationOption(bool required) =>
        new(OptionType.String, "verification", "The verification's id", Required: required, MaxLength: MaxIdLength, Autocomplete: true);
}
