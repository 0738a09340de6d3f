using WalverBot.Grants;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Verifications;

/// <summary>GrantGate for a gate on the chain's own coin (ETH, SOL…), which has no token address, and the rules it keeps for the others.</summary>
public sealed class NativeGateTests
{
    private static Verification Native(decimal? minAmount = 0.5m, string chain = "ethereum") => new()
    {
        Id = "wb_n", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config",
        Chain = chain, TokenStandard = TokenStandards.Native, MinAmount = minAmount,
    };

    private static WalverWebhook Delivery(TokenVerification? check, string chain = "ethereum") => new()
    {
        VerificationId = "wb_n", WalletAddress = "0xabc", TokenVerification = check, Chain = chain,
    };

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0x0000000000000000000000000000000000000000")]
    [InlineData("0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    public void A_passed_check_without_a_token_address_grants(string? tokenAddress)
    {
        var verification = Native();

        Assert.True(verification.IsTokenGated);
        Assert.Null(GrantGate.Check(verification, Delivery(new(tokenAddress, 0.5m, 2m, true))));
    }

    [Fact]
    public void A_native_gate_on_solana_grants_on_a_check_without_a_token_address() =>
        Assert.Null(GrantGate.Check(Native(chain: "solana"), Delivery(new(null, 1m, 3m, true), chain: "solana")));

    [Fact]
    public void A_check_of_a_token_contract_is_not_a_check_of_the_coin()
    {
        var decision = GrantGate.Check(Native(), Delivery(new("0x1111111111111111111111111111111111111111", 0.5m, 2m, true)));

        Assert.Equal(Outcomes.TokenMismatch, decision!.Outcome);
        Assert.Contains("own coin", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_native_gate_still_needs_the_check_the_amount_and_passed()
    {
        Assert.Equal(Outcomes.NotPassed, GrantGate.Check(Native(), Delivery(null))!.Outcome);
        Assert.Equal(Outcomes.TokenMismatch, GrantGate.Check(Native(minAmount: 1m), Delivery(new(null, 0.5m, 2m, true)))!.Outcome);
        Assert.Equal(Outcomes.NotPassed, GrantGate.Check(Native(), Delivery(new(null, 0.5m, 0.1m, false)))!.Outcome);
        Assert.Equal(Outcomes.NotPassed, GrantGate.Check(Native(), Delivery(new(null, 0.5m, 0.4m, true)))!.Outcome);
        Assert.Equal(Outcomes.TokenMismatch, GrantGate.Check(Native(), Delivery(new(null, 0.5m, 2m, true), chain: "polygon"))!.Outcome);
    }

    [Fact]
    public void A_token_gate_still_refuses_a_check_without_a_token_address()
    {
        var erc20 = Native() with { TokenStandard = TokenStandards.Erc20, TokenAddress = "0x1111111111111111111111111111111111111111" };

        Assert.Equal(Outcomes.TokenMismatch, GrantGate.Check(erc20, Delivery(new(null, 0.5m, 2m, true)))!.Outcome);
        Assert.Equal(Outcomes.TokenMismatch, GrantGate.Check(erc20, Delivery(new("0x0000000000000000000000000000000000000000", 0.5m, 2m, true)))!.Outcome);
        Assert.Null(GrantGate.Check(erc20, Delivery(new("0x1111111111111111111111111111111111111111", 0.5m, 2m, true))));
    }
}
