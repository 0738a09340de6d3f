using WalverBot.Security;

namespace WalverBot.Tests.Security;

public class MessageBindingTests
{
    private const string Evm = "0x859F987DE29031279126AbAb7021458AA61734f0";
    private const string Sol = "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT";
    private const string Id = "wb-7f3a9c21-holders";

    private static string Message(string wallet, string? id = Id) =>
        $"Example Guild asks you to verify this wallet.\nWallet: {wallet}\n" + (id is null ? "" : $"Verification ID: {id}\n") + "Nonce: 1a2b";

    [Fact]
    public void Check_AddressAndIdPresent_IsValid()
    {
        Assert.True(MessageBinding.Check(Message(Evm), Evm, Id).IsValid);
        Assert.True(MessageBinding.Check(Message(Sol), Sol, Id).IsValid);
    }

    [Fact]
    public void Check_EvmAddressInAnotherCase_IsStillTheSameAddress()
    {
        Assert.True(MessageBinding.Check(Message(Evm.ToLowerInvariant()), Evm, Id).IsValid);
        Assert.True(MessageBinding.Check(Message(Evm), Evm.ToLowerInvariant(), Id).IsValid);
        Assert.True(MessageBinding.Check(Message(Evm), "0X" + Evm[2..].ToUpperInvariant(), Id).IsValid);
    }

    [Fact]
    public void Check_SolanaAddressInAnotherCase_IsADifferentAddress()
    {
        var result = MessageBinding.Check(Message(Sol.ToLowerInvariant()), Sol, Id);

        Assert.Equal(SignatureReasons.AddressNotInMessage, result.Reason);
    }

    [Theory]
    [InlineData(Evm + "00")] // address followed by more hex: a different, longer value
    [InlineData("a" + Evm)]
    [InlineData("0x859F987DE29031279126AbAb7021458AA61734f")] // one digit short
    public void Check_AddressOnlyInsideALongerToken_IsNotFound(string inMessage)
    {
        var result = MessageBinding.Check(Message(inMessage), Evm, Id);

        Assert.Equal(SignatureReasons.AddressNotInMessage, result.Reason);
    }

    [Theory]
    [InlineData("Wallet: {0}.")]
    [InlineData("({0})")]
    [InlineData("{0}")]
    [InlineData("wallet={0}&id=" + Id)]
    [InlineData("“{0}”")]
    public void Check_AddressNextToPunctuation_IsFound(string template)
    {
        var message = string.Format(template, Evm) + $"\nVerification ID: {Id}";

        Assert.True(MessageBinding.Check(message, Evm, Id).IsValid);
    }

    [Fact]
    public void Check_MessageForAnotherVerification_IsRefused()
    {
        var result = MessageBinding.Check(Message(Evm, "wb-other-guild-vip"), Evm, Id);

        Assert.Equal(SignatureReasons.VerificationIdNotInMessage, result.Reason);
    }

    [Fact]
    public void Check_IdThatOnlyExtendsOurs_IsAnotherVerification()
    {
        var result = MessageBinding.Check(Message(Evm, Id + "-eth"), Evm, Id);

        Assert.Equal(SignatureReasons.VerificationIdNotInMessage, result.Reason);
    }

    [Theory]
    [InlineData("ID: wb-other")]
    [InlineData("id=wb-other")]
    [InlineData("verification_id: wb-other")]
    [InlineData("VerificationId=wb-other")]
    [InlineData("verification-id :wb-other")]
    public void Check_AnyIdLabelWithoutOurId_IsRefused(string line)
    {
        var result = MessageBinding.Check($"Wallet: {Evm}\n{line}", Evm, Id);

        Assert.Equal(SignatureReasons.VerificationIdNotInMessage, result.Reason);
    }

    [Fact]
    public void Check_NoIdLabelAtAll_BindsOnTheAddressAlone()
    {
        var result = MessageBinding.Check(Message(Evm, id: null), Evm, Id);

        Assert.True(result.IsValid);
        Assert.Contains("no verification id", result.Detail);
    }

    [Fact]
    public void Check_NoIdLabel_IsRefusedWhenTheIdIsRequired()
    {
        var result = MessageBinding.Check(Message(Evm, id: null), Evm, Id, requireVerificationId: true);

        Assert.Equal(SignatureReasons.VerificationIdNotInMessage, result.Reason);
    }

    [Fact]
    public void Check_WordsMerelyContainingId_AreNotALabel()
    {
        // "valid:" and "Paid=" end in "id" followed by a separator, but are not id labels.
        var result = MessageBinding.Check($"Wallet: {Evm}\nvalid: yes\nPaid=0", Evm, Id);

        Assert.True(result.IsValid);
    }

    [Fact]
    public void Check_IdIsCaseSensitive()
    {
        var result = MessageBinding.Check(Message(Evm, Id.ToUpperInvariant()), Evm, Id);

        Assert.Equal(SignatureReasons.VerificationIdNotInMessage, result.Reason);
    }

    [Theory]
    [InlineData(null, Evm, SignatureReasons.BadMessage)]
    [InlineData("", Evm, SignatureReasons.BadMessage)]
    [InlineData("Wallet: x", null, SignatureReasons.BadAddress)]
    [InlineData("Wallet: x", " ", SignatureReasons.BadAddress)]
    [InlineData("nothing here", Evm, SignatureReasons.AddressNotInMessage)]
    public void Check_MissingParts_AreRejectedWithAReason(string? message, string? wallet, string reason)
    {
        Assert.Equal(reason, MessageBinding.Check(message, wallet, Id).Reason);
    }

    [Fact]
    public void Check_NullOrEmptyVerificationId_BindsOnTheAddress()
    {
        Assert.True(MessageBinding.Check(Message(Evm), Evm, null).IsValid);
        Assert.True(MessageBinding.Check(Message(Evm), Evm, "").IsValid);
        Assert.False(MessageBinding.Check(Message(Evm), Evm, null, requireVerificationId: true).IsValid);
    }
}
