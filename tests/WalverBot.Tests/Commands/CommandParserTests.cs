using WalverBot.Commands;
using WalverBot.Discord.Models;
using OptionType = WalverBot.Discord.Models.ApplicationCommandOptionType;

namespace WalverBot.Tests.Commands;

public sealed class CommandParserTests
{
    private const string EvmToken = "0x1111111111111111111111111111111111111111";

    // USDC's mint: a real base58 Solana address.
    private const string SolanaMint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

    [Fact]
    public void A_full_create_command_becomes_a_typed_record()
    {
        var command = Parsed<CreateVerificationCommand>(Walver("create",
            Opt("role", OptionType.Role, "1300000000000000010"), Opt("chain", OptionType.String, "Ethereum"),
            Opt("token_address", OptionType.String, " " + EvmToken.ToUpperInvariant().Replace("0X", "0x") + " "),
            Opt("min_amount", OptionType.Number, "2.5"), Opt("name", OptionType.String, "  Holders  "),
            Opt("one_time", OptionType.Boolean, "true"), Opt("expires_in_days", OptionType.Integer, "30")));

        Assert.Equal(1300000000000000010UL, command.RoleId);
        Assert.Equal("ethereum", command.Chain);
        Assert.Equal(new TokenGate(EvmToken, 2.5m, false), command.Gate);
        Assert.Equal("Holders", command.Name);
        Assert.True(command.OneTime);
        Assert.Equal(30, command.ExpiresInDays);
    }

    [Fact]
    public void A_create_without_options_has_no_gate_no_name_and_no_expiry()
    {
        var command = Parsed<CreateVerificationCommand>(Walver("create",
            Opt("role", OptionType.Role, "5"), Opt("chain", OptionType.String, "solana")));

        Assert.Null(command.Gate);
        Assert.Null(command.Name);
        Assert.Null(command.ExpiresInDays);
        Assert.False(command.OneTime);
    }

    [Theory]
    [InlineData("ethereum", EvmToken, true)]
    [InlineData("base", "0xABCDEFabcdef0123456789012345678901234567", true)]
    [InlineData("polygon", "0x111111111111111111111111111111111111111", false)] // 39 hex digits
    [InlineData("bsc", "0x111111111111111111111111111111111111111g", false)]
    [InlineData("arbitrum", "1111111111111111111111111111111111111111", false)] // no 0x
    [InlineData("ethereum", SolanaMint, false)]
    [InlineData("solana", SolanaMint, true)]
    [InlineData("solana", EvmToken, false)]
    [InlineData("solana", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt10", false)] // '0' is not base58
    [InlineData("solana", "EPjFWdd5AufqSSqe", false)] // too short for a 32-byte key
    public void Token_addresses_are_checked_per_chain(string chain, string address, bool valid)
    {
        if (valid)
        {
            Assert.NotNull(CommandParser.ParseGate(chain, address, "1", null));
        }
        else
        {
            var error = Assert.Throws<CommandException>(() => CommandParser.ParseGate(chain, address, "1", null));
            Assert.Contains("token_address", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("0.0")]
    [InlineData("abc")]
    [InlineData("1e30")]
    public void The_minimum_amount_must_be_above_zero_and_sane(string amount) =>
        Assert.Throws<CommandException>(() => CommandParser.ParseGate("ethereum", EvmToken, amount, null));

    [Theory]
    [InlineData("0.000001", 0.000001)]
    [InlineData("1e-7", 0.0000001)]
    [InlineData("1000000", 1000000)]
    public void Small_and_large_amounts_are_kept_exactly(string amount, double expected) =>
        Assert.Equal((decimal)expected, CommandParser.ParseGate("ethereum", EvmToken, amount, null)!.MinAmount);

    [Fact]
    public void A_token_gate_needs_an_amount_unless_it_is_an_NFT()
    {
        Assert.Contains("min_amount", Assert.Throws<CommandException>(() => CommandParser.ParseGate("ethereum", EvmToken, null, null)).Message, StringComparison.Ordinal);
        Assert.Equal(new TokenGate(EvmToken, 1, true), CommandParser.ParseGate("ethereum", EvmToken, null, true));
        Assert.Throws<CommandException>(() => CommandParser.ParseGate("ethereum", EvmToken, "1.5", true));
    }

    [Fact]
    public void Gate_options_without_a_token_address_are_refused()
    {
        Assert.Throws<CommandException>(() => CommandParser.ParseGate("ethereum", null, "5", null));
        Assert.Throws<CommandException>(() => CommandParser.ParseGate("ethereum", "  ", null, true));
        Assert.Null(CommandParser.ParseGate("ethereum", null, null, false));
    }

    [Fact]
    public void Solana_mints_keep_their_case_and_EVM_addresses_are_lower_cased()
    {
        Assert.Equal(SolanaMint, CommandParser.ParseGate("solana", SolanaMint, "1", null)!.TokenAddress);
        Assert.Equal("0xabcdefabcdef0123456789012345678901234567", CommandParser.ParseGate("ethereum", "0xABCDEFabcdef0123456789012345678901234567", "1", null)!.TokenAddress);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("366")]
    [InlineData("-3")]
    public void The_expiry_must_be_between_1_and_365_days(string days)
    {
        var result = CommandParser.Parse(Walver("create",
            Opt("role", OptionType.Role, "5"), Opt("chain", OptionType.String, "ethereum"), Opt("expires_in_days", OptionType.Integer, days)));

        Assert.Contains("expires_in_days", Assert.IsType<ParseResult.Invalid>(result).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_chain_is_refused()
    {
        var result = CommandParser.Parse(Walver("create", Opt("role", OptionType.Role, "5"), Opt("chain", OptionType.String, "dogecoin")));

        Assert.Contains("chain", Assert.IsType<ParseResult.Invalid>(result).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Link_keeps_the_secret_but_never_shows_it()
    {
        var command = Parsed<LinkVerificationCommand>(Walver("link",
            Opt("id", OptionType.String, "dash-1"), Opt("role", OptionType.Role, "7"), Opt("secret", OptionType.String, "0123456789abcdefXYZ"),
            Opt("url", OptionType.String, "https://walver.io/verify/dash-1")));

        Assert.Equal("0123456789abcdefXYZ", command.Secret);
        Assert.Equal("https://walver.io/verify/dash-1", command.Url);
        Assert.DoesNotContain("0123456789abcdefXYZ", command.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short", "secret")]
    [InlineData("has spaces in the secret", "spaces")]
    public void Weak_secrets_are_refused(string secret, string expected)
    {
        var result = CommandParser.Parse(Walver("link",
            Opt("id", OptionType.String, "dash-1"), Opt("role", OptionType.Role, "7"), Opt("secret", OptionType.String, secret)));

        Assert.Contains(expected, Assert.IsType<ParseResult.Invalid>(result).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://walver.io/verify/x")]
    [InlineData("walver.io/verify/x")]
    [InlineData("javascript:alert(1)")]
    public void Link_urls_must_be_https(string url)
    {
        var result = CommandParser.Parse(Walver("link",
            Opt("id", OptionType.String, "dash-1"), Opt("role", OptionType.Role, "7"), Opt("secret", OptionType.String, "0123456789abcdefXYZ"),
            Opt("url", OptionType.String, url)));

        Assert.Contains("https://", Assert.IsType<ParseResult.Invalid>(result).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wb_1_abc", true)]
    [InlineData("my-verification.v2:eu", true)]
    [InlineData("has space", false)]
    [InlineData("back`tick", false)]
    [InlineData("<@123>", false)]
    public void Verification_ids_are_plain(string id, bool valid)
    {
        var result = CommandParser.Parse(Walver("disable", Opt("verification", OptionType.String, id)));

        if (valid)
        {
            Assert.Equal(id, Assert.IsType<DisableVerificationCommand>(Assert.IsType<ParseResult.Parsed>(result).Command).VerificationId);
        }
        else
        {
            Assert.IsType<ParseResult.Invalid>(result);
        }
    }

    [Fact]
    public void Member_and_channel_commands_carry_ids()
    {
        Assert.Equal(new RevokeMemberCommand(42, null), Parsed<RevokeMemberCommand>(Walver("revoke", Opt("member", OptionType.User, "42"))));
        Assert.Equal(new RevokeMemberCommand(42, "v1"), Parsed<RevokeMemberCommand>(Walver("revoke", Opt("member", OptionType.User, "42"), Opt("verification", OptionType.String, "v1"))));
        Assert.Equal(new MemberStatusCommand(42), Parsed<MemberStatusCommand>(Walver("status", Opt("member", OptionType.User, "42"))));
        Assert.Equal(new LogChannelCommand(null), Parsed<LogChannelCommand>(Walver("log-channel")));
        Assert.Equal(new PostVerificationCommand("v1", 9), Parsed<PostVerificationCommand>(Walver("post", Opt("verification", OptionType.String, "v1"), Opt("channel", OptionType.Channel, "9"))));
        Assert.Equal(new DisableVerificationCommand("v1", true), Parsed<DisableVerificationCommand>(Walver("disable", Opt("verification", OptionType.String, "v1"), Opt("remove_roles", OptionType.Boolean, "true"))));
    }

    [Fact]
    public void Verify_is_for_everyone_and_walver_is_for_admins()
    {
        var verify = Assert.IsType<ParseResult.Parsed>(CommandParser.Parse(Data("verify", []))).Command;

        Assert.False(verify.RequiresAdmin);
        Assert.True(new ListVerificationsCommand().RequiresAdmin);
    }

    [Fact]
    public void Unknown_commands_and_subcommands_are_reported_as_unknown()
    {
        Assert.IsType<ParseResult.Unknown>(CommandParser.Parse(Data("ping", [])));
        Assert.IsType<ParseResult.Unknown>(CommandParser.Parse(Walver("frobnicate")));
        Assert.IsType<ParseResult.Unknown>(CommandParser.Parse(Data("walver", [])));
        Assert.IsType<ParseResult.Unknown>(CommandParser.Parse(null));
    }

    [Fact]
    public void A_missing_required_option_is_explained()
    {
        var result = CommandParser.Parse(Walver("status"));

        Assert.Equal("`member` is required.", Assert.IsType<ParseResult.Invalid>(result).Message);
    }

    [Fact]
    public void Autocomplete_finds_the_focused_option()
    {
        var data = Data("walver", [new InteractionOption("disable", OptionType.SubCommand, null,
            [new InteractionOption("verification", OptionType.String, "wb_", [], Focused: true)], false)]);

        Assert.Equal(new AutocompleteRequest("disable", "verification", "wb_"), CommandParser.ParseAutocomplete(data));
        Assert.Null(CommandParser.ParseAutocomplete(Walver("list")));
    }

    [Fact]
    public void Admin_means_Manage_Roles_or_Administrator()
    {
        var user = new DiscordUser(1, "u");
        Assert.True(new CommandContext(1, 1, user, DiscordPermissions.ManageRoles | DiscordPermissions.SendMessages).IsAdmin);
        Assert.True(new CommandContext(1, 1, user, DiscordPermissions.Administrator).IsAdmin);
        Assert.False(new CommandContext(1, 1, user, DiscordPermissions.ManageGuild | DiscordPermissions.KickMembers).IsAdmin);
    }

    private static T Parsed<T>(InteractionData data) where T : SlashCommand =>
        Assert.IsType<T>(Assert.IsType<ParseResult.Parsed>(CommandParser.Parse(data)).Command);

    private static InteractionOption Opt(string name, OptionType type, string value) => new(name, type, value, [], false);

    private static InteractionData Walver(string subcommand, params InteractionOption[] options) =>
        Data("walver", [new InteractionOption(subcommand, OptionType.SubCommand, null, options, false)]);

    private static InteractionData Data(string name, IReadOnlyList<InteractionOption> options) =>
        new(1, name, 1, options, null, null, null, [], null);
}
