using WalverBot.Commands;
using WalverBot.Discord.Models;
using WalverBot.Verifications;

namespace WalverBot.Tests.Commands;

/// <summary>The token standard, token id and tiers options as the parser reads them.</summary>
public sealed class GateOptionParserTests
{
    private const string Contract = "0x1111111111111111111111111111111111111111";
    private const string Mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

    [Fact]
    public void Each_standard_gives_its_gate()
    {
        Assert.Equal(new TokenGate(Contract, 3, false, "erc20"), CommandParser.ParseGate("ethereum", Contract, "3", null, "ERC20"));
        Assert.Equal(new TokenGate(Contract, 1, true, "erc721"), CommandParser.ParseGate("base", Contract, null, null, "erc721"));
        Assert.Equal(new TokenGate(Contract, 2, true, "erc1155", "7"), CommandParser.ParseGate("polygon", Contract, "2", null, "erc1155", "7"));
        Assert.Equal(new TokenGate(Mint, 5, false, "spl"), CommandParser.ParseGate("solana", Mint, "5", null, "spl"));
        Assert.Equal(new TokenGate(null, 0.25m, false, "native"), CommandParser.ParseGate("solana", null, "0.25", null, "native"));
        Assert.Null(CommandParser.ParseGate("ethereum", null, null, null, null, null));
    }

    [Theory]
    [InlineData("ethereum", Contract, "1", null, "erc999", null, "must be one of erc20, erc721, erc1155, spl, native")]
    [InlineData("ethereum", Contract, "1.5", null, "erc721", null, "whole number")]
    [InlineData("ethereum", Contract, "1", true, "erc20", null, "`nft` does not fit")]
    [InlineData("ethereum", null, null, null, "native", null, "needs `min_amount`")]
    [InlineData("ethereum", Contract, "1", null, "erc1155", "0x1", "decimal digits")]
    [InlineData("ethereum", null, null, null, null, "7", "`token_id` belongs to an ERC-1155 gate")]
    public void A_gate_that_does_not_fit_is_refused(string chain, string? address, string? amount, bool? nft, string? standard, string? tokenId, string expected) =>
        Assert.Contains(expected, Assert.Throws<CommandException>(() => CommandParser.ParseGate(chain, address, amount, nft, standard, tokenId)).Message, StringComparison.Ordinal);

    [Fact]
    public void Tiers_options_become_a_command()
    {
        Assert.Equal(new TiersCommand("wb_1", null, null, false), Parse(("verification", 3, "wb_1")));
        Assert.Equal(new TiersCommand("wb_1", 99, 100m, false), Parse(("verification", 3, "wb_1"), ("role", 8, "99"), ("min_amount", 10, 100)));
        Assert.Equal(new TiersCommand("wb_1", 99, null, true), Parse(("verification", 3, "wb_1"), ("role", 8, "99"), ("remove", 5, true)));
    }

    [Theory]
    [InlineData("remove-without-role", "`role` is required")]
    [InlineData("role-without-amount", "`min_amount` is required")]
    [InlineData("remove-with-amount", "leave `min_amount` empty")]
    public void Tiers_options_that_do_not_fit_are_explained(string shape, string expected)
    {
        var result = shape switch
        {
            "remove-without-role" => ParseResult(("verification", 3, "wb_1"), ("remove", 5, true)),
            "role-without-amount" => ParseResult(("verification", 3, "wb_1"), ("role", 8, "99")),
            _ => ParseResult(("verification", 3, "wb_1"), ("role", 8, "99"), ("min_amount", 10, 5), ("remove", 5, true)),
        };

        Assert.Contains(expected, Assert.IsType<ParseResult.Invalid>(result).Message, StringComparison.Ordinal);
    }

    private static TiersCommand Parse(params (string Name, int Type, object Value)[] options) =>
        Assert.IsType<TiersCommand>(Assert.IsType<ParseResult.Parsed>(ParseResult(options)).Command);

    private static ParseResult ParseResult(params (string Name, int Type, object Value)[] options)
    {
        var items = options.Select(o => new InteractionOption(o.Name, (ApplicationCommandOptionType)o.Type,
            Convert.ToString(o.Value, System.Globalization.CultureInfo.InvariantCulture)!.ToLowerInvariant(), [], false)).ToList();
        var sub = new InteractionOption("tiers", ApplicationCommandOptionType.SubCommand, null, items, false);
        return CommandParser.Parse(new InteractionData(1, "walver", 1, [sub], null, null, null, [], null));
    }
}
