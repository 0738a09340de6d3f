using WalverBot.Grants;
using WalverBot.Verifications;
using WalverBot.Webhooks;

namespace WalverBot.Tests.Grants;

public class GrantGateTests
{
    private static Verification Gated(decimal? minAmount = 10m, string chain = "ethereum") => new()
    {
        Id = "wb_1", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config",
        Chain = chain, TokenAddress = "0xToken00000000000000000000000000000000AA", MinAmount = minAmount,
    };

    private static Verification Plain() => new() { Id = "wb_1", GuildId = 1, RoleId = 2, SecretHash = "x", Source = "config" };

    private static WalverWebhook Delivery(TokenVerification? check = null, string? chain = "ethereum") => new()
    {
        VerificationId = "wb_1", WalletAddress = "0xabc", TokenVerification = check, Chain = chain,
    };

    [Fact]
    public void A_plain_verification_passes_without_a_token_check() =>
        Assert.Null(GrantGate.Check(Plain(), Delivery()));

    [Fact]
    public void A_gated_verification_passes_when_the_check_passed_for_its_token_and_amount() =>
        Assert.Null(GrantGate.Check(Gated(), Delivery(new("0xtoken00000000000000000000000000000000aa", 10m, 15m, true))));

    [Fact]
    public void Passed_false_is_refused()
    {
        var decision = GrantGate.Check(Gated(), Delivery(new("0xToken00000000000000000000000000000000AA", 10m, 3m, false)));
        Assert.Equal(Outcomes.NotPassed, decision!.Outcome);
    }

    [Fact]
    public void Passed_false_is_refused_even_when_the_verification_is_not_gated()
    {
        var decision = GrantGate.Check(Plain(), Delivery(new("0xT", 1m, 0m, false)));
        Assert.Equal(Outcomes.NotPassed, decision!.Outcome);
    }

    [Fact]
    public void A_gated_verification_without_a_token_check_is_refused() =>
        Assert.Equal(Outcomes.NotPassed, GrantGate.Check(Gated(), Delivery())!.Outcome);

    [Fact]
    public void Another_token_is_refused() =>
        Assert.Equal(Outcomes.TokenMismatch,
            GrantGate.Check(Gated(), Delivery(new("0xOther0000000000000000000000000000000000", 10m, 15m, true)))!.Outcome);

    [Fact]
    public void A_lower_required_amount_than_asked_is_refused() =>
        Assert.Equal(Outcomes.TokenMismatch,
            GrantGate.Check(Gated(minAmount: 10m), Delivery(new("0xToken00000000000000000000000000000000AA", 1m, 15m, true)))!.Outcome);

    [Fact]
    public void Passed_with_less_than_required_is_refused() =>
        Assert.Equal(Outcomes.NotPassed,
            GrantGate.Check(Gated(), Delivery(new("0xToken00000000000000000000000000000000AA", 10m, 9.99m, true)))!.Outcome);

    [Fact]
    public void Solana_token_addresses_compare_case_sensitively()
    {
        var verification = Gated(chain: "solana") with { TokenAddress = "So11111111111111111111111111111111111111112" };
        var lowered = Delivery(new("so11111111111111111111111111111111111111112", 10m, 15m, true), chain: "solana");

        Assert.Equal(Outcomes.TokenMismatch, GrantGate.Check(verification, lowered)!.Outcome);
    }

    [Fact]
    public void Another_chain_is_refused() =>
        Assert.NotNull(GrantGate.Check(Gated(), Delivery(new("0xToken00000000000000000000000000000000AA", 10m, 15m, true), chain: "polygon")));

    [Fact]
    public void A_disabled_verification_grants_nothing() =>
        Assert.Equal(Outcomes.VerificationDisabled, GrantGate.Check(Plain() with { Enabled = false }, Delivery())!.Outcome);
}
