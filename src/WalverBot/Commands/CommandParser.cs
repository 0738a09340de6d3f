using System.Globalization;
using System.Text.RegularExpressions;
using WalverBot.Discord.Models;
using WalverBot.Security;
using WalverBot.Verifications;

namespace WalverBot.Commands;

/// <summary>The outcome of parsing: a command, or what the admin typed wrong.</summary>
public abstract record ParseResult
{
    private ParseResult()
    {
    }

    public sealed record Parsed(SlashCommand Command) : ParseResult;

    public sealed record Invalid(string Message) : ParseResult;

    /// <summary>Not one of our commands (e.g. one registered by an older build).</summary>
    public sealed record Unknown(string Name) : ParseResult;
}

/// <summary>Turns interaction data into <see cref="SlashCommand"/>s and validates every value on the way.</summary>
public static partial class CommandParser
{
    /// <summary>More than any token supply needs, and within decimal's precision.</summary>
    public const decimal MaxAmount = 1_000_000_000_000_000_000m;

    public static ParseResult Parse(InteractionData? data)
    {
        if (data?.Name is not { } name)
        {
            return new ParseResult.Unknown("");
        }

        if (name == CommandDefinitions.Verify)
        {
            return new ParseResult.Parsed(new VerifyCommand());
        }

        if (name != CommandDefinitions.Walver || data.Options.FirstOrDefault(o => o.Type == ApplicationCommandOptionType.SubCommand) is not { } sub)
        {
            return new ParseResult.Unknown(name);
        }

        var options = new Options(sub.Options);
        try
        {
            SlashCommand command = sub.Name switch
            {
                CommandDefinitions.Create => ParseCreate(options),
                CommandDefinitions.Link => ParseLink(options),
                CommandDefinitions.List => new ListVerificationsCommand(),
                CommandDefinitions.Post => new PostVerificationCommand(VerificationId(options.RequiredString("verification")), options.RequiredId("channel")),
                CommandDefinitions.Disable => new DisableVerificationCommand(VerificationId(options.RequiredString("verification")), options.Boolean("remove_roles") ?? false),
                CommandDefinitions.Enable => new EnableVerificationCommand(VerificationId(options.RequiredString("verification"))),
                CommandDefinitions.Status => new MemberStatusCommand(options.RequiredId("member")),
                CommandDefinitions.Revoke => new RevokeMemberCommand(options.RequiredId("member"),
                    options.String("verification") is { } id ? VerificationId(id) : null),
                CommandDefinitions.LogChannel => new LogChannelCommand(options.Id("channel")),
                CommandDefinitions.Tiers => ParseTiers(options),
                CommandDefinitions.Recheck => new RecheckCommand(VerificationId(options.RequiredString("verification")),
                    options.Boolean("dry_run") ?? false, options.Boolean("confirm_removals") ?? false),
                CommandDefinitions.Holders => new HoldersCommand(VerificationId(options.RequiredString("verification"))),
                _ => throw new UnknownSubcommand(),
            };
            return new ParseResult.Parsed(command);
        }
        catch (CommandException ex)
        {
            return new ParseResult.Invalid(ex.Message);
        }
        catch (UnknownSubcommand)
        {
            return new ParseResult.Unknown($"{name} {sub.Name}");
        }
    }

    /// <summary>The focused option of an autocomplete interaction, or null when none is focused.</summary>
    public static AutocompleteRequest? ParseAutocomplete(InteractionData? data)
    {
        var sub = data?.Options.FirstOrDefault(o => o.Type == ApplicationCommandOptionType.SubCommand);
        var focused = sub?.Options.FirstOrDefault(o => o.Focused);
        return sub is null || focused is null ? null : new AutocompleteRequest(sub.Name, focused.Name, focused.Value ?? "");
    }

    private static CreateVerificationCommand ParseCreate(Options options)
    {
        var role = options.RequiredId("role");
        var chain = options.RequiredString("chain").Trim().ToLowerInvariant();
        if (!KnownChains.IsKnown(chain))
        {
            throw new CommandException($"`chain` must be one of {string.Join(", ", KnownChains.All)}.");
        }

        var gate = ParseGate(chain, options.String("token_address"), options.Raw("min_amount"), options.Boolean("nft"),
            options.String("token_standard"), options.String("token_id"));
        var name = options.String("name")?.Trim();
        if (name is { Length: 0 })
        {
            name = null;
        }

        if (name is { Length: > CommandDefinitions.MaxNameLength })
        {
            throw new CommandException($"`name` may have at most {CommandDefinitions.MaxNameLength} characters.");
        }

        var days = options.Integer("expires_in_days");
        if (days is < 1 or > CommandDefinitions.MaxExpiryDays)
        {
            throw new CommandException($"`expires_in_days` must be between 1 and {CommandDefinitions.MaxExpiryDays}.");
        }

        var binding = options.String("binding")?.Trim().ToLowerInvariant() ?? Bindings.Username;
        if (binding is not (Bindings.Username or Bindings.Code))
        {
            throw new CommandException($"`binding` must be `{Bindings.Username}` or `{Bindings.Code}`.");
        }

        var reverify = options.Integer("reverify_after_days");
        if (reverify is < 1 or > CommandDefinitions.MaxReverifyDays)
        {
            throw new CommandException($"`reverify_after_days` must be between 1 and {CommandDefinitions.MaxReverifyDays}.");
        }

        if (reverify is not null && gate is not null)
        {
            throw new CommandException("`reverify_after_days` is for verifications without a token gate: a token gate's roles follow the holdings checks instead.");
        }

        return new CreateVerificationCommand(role, chain, gate, name, options.Boolean("one_time") ?? false, (int?)days, binding, (int?)reverify);
    }

    /// <summary>
    /// Token gate rules: a standard that can be read on the chain; an address valid for the chain (none for the chain's own
    /// coin); an ERC-1155 token id for erc1155 only; an amount above 0 (1 for an NFT when not given).
    /// </summary>
    public static TokenGate? ParseGate(string chain, string? tokenAddress, string? minAmount, bool? nft, string? standard = null, string? tokenId = null)
    {
        tokenAddress = string.IsNullOrWhiteSpace(tokenAddress) ? null : tokenAddress.Trim();
        standard = string.IsNullOrWhiteSpace(standard) ? null : standard.Trim().ToLowerInvariant();
        tokenId = string.IsNullOrWhiteSpace(tokenId) ? null : tokenId.Trim();
        if (standard is not null)
        {
            if (!TokenStandards.IsKnown(standard))
            {
                throw new CommandException($"`token_standard` must be one of {string.Join(", ", TokenStandards.All)}.");
            }

            if (GateRules.StandardProblem(standard, chain) is { } problem)
            {
                throw new CommandException($"`token_standard` {problem}.");
            }

            if (nft == true && standard is TokenStandards.Erc20 or TokenStandards.Native)
            {
                throw new CommandException($"`nft` does not fit `token_standard:{standard}`: an NFT collection is erc721 or erc1155 (spl on Solana).");
            }
        }

        if (tokenId is not null && standard != TokenStandards.Erc1155)
        {
            throw new CommandException("`token_id` belongs to an ERC-1155 gate: set `token_standard:erc1155` too.");
        }

        if (standard == TokenStandards.Native)
        {
            if (tokenAddress is not null)
            {
                throw new CommandException("`token_standard:native` is the chain's own coin, which has no contract or mint: leave `token_address` empty.");
            }

            if (minAmount is null)
            {
                throw new CommandException("A gate on the chain's own coin needs `min_amount` (the least amount a wallet must hold).");
            }

            return new TokenGate(null, ParseAmount(minAmount, wholeNumber: false), false, standard);
        }

        if (tokenAddress is null)
        {
            if (standard is not null)
            {
                throw new CommandException($"`token_standard:{standard}` needs `token_address`, the {(standard == TokenStandards.Spl ? "mint" : "contract")} address.");
            }

            if (minAmount is not null || nft == true)
            {
                throw new CommandException("`min_amount` and `nft` belong to a token gate: give `token_address` too.");
            }

            return null;
        }

        if (!KnownChains.TryGetFamily(chain, out var family))
        {
            throw new CommandException($"`chain` must be one of {string.Join(", ", KnownChains.All)}.");
        }

        if (family == ChainFamily.Evm && !WalletAddresses.IsEvmAddress(tokenAddress))
        {
            throw new CommandException($"`token_address` is not a {chain} address: it must be 0x followed by 40 hex digits.");
        }

        if (family == ChainFamily.Solana && !WalletAddresses.TryDecodeSolanaAddress(tokenAddress, out _))
        {
            throw new CommandException("`token_address` is not a Solana address: it must be a base58 mint address (32 to 44 characters).");
        }

        if (standard == TokenStandards.Erc1155 && (tokenId is null || !GateRules.IsTokenId(tokenId)))
        {
            throw new CommandException("`token_standard:erc1155` needs `token_id`: the id of the token within the contract, in decimal digits (e.g. 1).");
        }

        var isNft = nft == true || standard is not null && GateRules.CountsWholeUnits(standard);
        decimal amount;
        if (minAmount is null)
        {
            if (!isNft)
            {
                throw new CommandException("A token gate needs `min_amount` (the least amount a wallet must hold), unless `nft` is true.");
            }

            amount = 1;
        }
        else
        {
            amount = ParseAmount(minAmount, isNft);
        }

        return new TokenGate(family == ChainFamily.Evm ? tokenAddress.ToLowerInvariant() : tokenAddress, amount, isNft, standard, tokenId);
    }

    private static decimal ParseAmount(string minAmount, bool wholeNumber)
    {
        if (!decimal.TryParse(minAmount, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            throw new CommandException("`min_amount` must be more than 0.");
        }

        if (amount > MaxAmount)
        {
            throw new CommandException("`min_amount` is larger than any token supply.");
        }

        if (wholeNumber && amount != decimal.Truncate(amount))
        {
            throw new CommandException("`min_amount` of an NFT gate must be a whole number.");
        }

        return amount;
    }

    private static TiersCommand ParseTiers(Options options)
    {
        var id = VerificationId(options.RequiredString("verification"));
        var role = options.Id("role");
        var remove = options.Boolean("remove") ?? false;
        var rawAmount = options.Raw("min_amount");
        if (role is null)
        {
            return remove || rawAmount is not null
                ? throw new CommandException("`role` is required to add or remove a tier; without options the command lists the tiers.")
                : new TiersCommand(id, null, null, false);
        }

        if (remove)
        {
            return rawAmount is not null
                ? throw new CommandException("`remove:True` drops the tier of `role`: leave `min_amount` empty.")
                : new TiersCommand(id, role, null, true);
        }

        if (rawAmount is null)
        {
            throw new CommandException("`min_amount` is required to add a tier: the least amount that earns `role` (or `remove:True` to drop its tier).");
        }

        if (!decimal.TryParse(rawAmount, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
        {
            throw new CommandException("`min_amount` must be a number more than 0.");
        }

        return new TiersCommand(id, role, amount, false);
    }

    private static LinkVerificationCommand ParseLink(Options options)
    {
        var id = VerificationId(options.RequiredString("id"));
        var role = options.RequiredId("role");
        var secret = options.RequiredString("secret");
        if (secret.Length < CommandDefinitions.MinSecretLength || secret.Length > CommandDefinitions.MaxSecretLength)
        {
            throw new CommandException($"`secret` must have {CommandDefinitions.MinSecretLength} to {CommandDefinitions.MaxSecretLength} characters; a short secret is easy to guess. Set a longer one in Walver's dashboard.");
        }

        if (secret.Any(char.IsWhiteSpace))
        {
            throw new CommandException("`secret` must not contain spaces.");
        }

        var url = options.String("url")?.Trim();
        if (url is { Length: > 0 } && (!Uri.TryCreate(url, UriKind.Absolute, out var link) || link.Scheme != Uri.UriSchemeHttps))
        {
            throw new CommandException("`url` must be the https:// link members open, as shown in Walver's dashboard.");
        }

        var chain = options.String("chain")?.Trim().ToLowerInvariant();
        if (chain is not null && !KnownChains.IsKnown(chain))
        {
            throw new CommandException($"`chain` must be one of {string.Join(", ", KnownChains.All)}.");
        }

        return new LinkVerificationCommand(id, role, secret, url is { Length: > 0 } ? url : null, chain);
    }

    /// <summary>Verification ids: letters, digits and <c>_ - . :</c>, up to 100 characters.</summary>
    public static string VerificationId(string text)
    {
        var id = text.Trim();
        if (!IdPattern().IsMatch(id))
        {
            throw new CommandException($"`{Sanitize(id)}` is not a verification id: use letters, digits, `_`, `-`, `.` or `:` (at most {CommandDefinitions.MaxIdLength} characters).");
        }

        return id;
    }

    /// <summary>Text echoed back to Discord without markdown tricks.</summary>
    public static string Sanitize(string text, int maxLength = 60)
    {
        var cleaned = new string([.. text.Where(c => !char.IsControl(c) && c != '`')]);
        return cleaned.Length <= maxLength ? cleaned : cleaned[..(maxLength - 1)] + "…";
    }

    [GeneratedRegex(@"^[A-Za-z0-9_\-.:]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    private sealed class UnknownSubcommand : Exception;

    private sealed class Options(IReadOnlyList<InteractionOption> options)
    {
        public string? Raw(string name) => options.FirstOrDefault(o => o.Name == name)?.Value;

        public string? String(string name) => Raw(name);

        public string RequiredString(string name) =>
            String(name) is { } value && value.Trim().Length > 0 ? value : throw new CommandException($"`{name}` is required.");

        public bool? Boolean(string name) => options.FirstOrDefault(o => o.Name == name)?.AsBoolean();

        public long? Integer(string name)
        {
            var option = options.FirstOrDefault(o => o.Name == name);
            return option is null ? null : option.AsInt64() ?? throw new CommandException($"`{name}` must be a whole number.");
        }

        public ulong? Id(string name)
        {
            var option = options.FirstOrDefault(o => o.Name == name);
            return option is null ? null : option.AsSnowflake() ?? throw new CommandException($"`{name}` is not a Discord id.");
        }

        public ulong RequiredId(string name) => Id(name) ?? throw new CommandException($"`{name}` is required.");
    }
}
