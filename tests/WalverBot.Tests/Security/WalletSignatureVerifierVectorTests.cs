using WalverBot.Security;

namespace WalverBot.Tests.Security;

/// <summary>Replays signatures made by ethers and tweetnacl (tools/test-vectors) through the verifier.</summary>
public class WalletSignatureVerifierVectorTests
{
    private readonly WalletSignatureVerifier _verifier = new();

    public static TheoryData<string, string> AllVectors => SignatureVectors.Cases();

    public static TheoryData<string, string> ValidVectors => SignatureVectors.Cases(v => v.Expect.Signature == SignatureReasons.Ok);

    [Theory]
    [MemberData(nameof(AllVectors))]
    public void Verify_GivesTheVectorsExpectedReason(string file, string name)
    {
        var v = SignatureVectors.Get(file, name);

        var result = _verifier.Verify(v.Chain, v.WalletAddress, v.Message, v.Signature);

        Assert.Equal(v.Expect.Signature, result.Reason);
        Assert.Equal(v.Expect.Signature == SignatureReasons.Ok, result.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
    }

    [Theory]
    [MemberData(nameof(AllVectors))]
    public void MessageBinding_GivesTheVectorsExpectedReason(string file, string name)
    {
        var v = SignatureVectors.Get(file, name);

        var result = MessageBinding.Check(v.Message, v.WalletAddress, v.VerificationId);

        Assert.Equal(v.Expect.Binding, result.Reason);
    }

    [Theory]
    [MemberData(nameof(AllVectors))]
    public void VerifyDelivery_RejectsWithTheSignatureReasonFirstThenTheBindingReason(string file, string name)
    {
        var v = SignatureVectors.Get(file, name);
        var expected = v.Expect.Signature != SignatureReasons.Ok ? v.Expect.Signature : v.Expect.Binding;

        var result = _verifier.VerifyDelivery(v.Chain, v.WalletAddress, v.Message, v.Signature, v.VerificationId);

        Assert.Equal(expected, result.Reason);
        Assert.Equal(expected == SignatureReasons.Ok, result.IsValid);
    }

    [Theory]
    [MemberData(nameof(ValidVectors))]
    public void Verify_ValidSignature_FailsOnceTheMessageChangesByOneCharacter(string file, string name)
    {
        var v = SignatureVectors.Get(file, name);

        var appended = _verifier.Verify(v.Chain, v.WalletAddress, v.Message + " ", v.Signature);
        var dropped = _verifier.Verify(v.Chain, v.WalletAddress, v.Message[..^1], v.Signature);

        var expected = file == SignatureVectors.Evm ? SignatureReasons.WrongSigner : SignatureReasons.InvalidSignature;
        Assert.Equal(expected, appended.Reason);
        Assert.Equal(expected, dropped.Reason);
    }

    [Theory]
    [MemberData(nameof(ValidVectors))]
    public void Verify_ValidSignature_FailsForTheOtherKeyOfTheSameFamily(string file, string name)
    {
        var v = SignatureVectors.Get(file, name);
        var mallory = SignatureVectors.File(file).Keys["mallory"];

        var result = _verifier.Verify(v.Chain, mallory, v.Message, v.Signature);

        Assert.False(result.IsValid);
        Assert.Equal(file == SignatureVectors.Evm ? SignatureReasons.WrongSigner : SignatureReasons.InvalidSignature, result.Reason);
    }

    [Theory]
    [InlineData(SignatureVectors.Evm)]
    [InlineData(SignatureVectors.Solana)]
    public void Vectors_CoverEveryEncodingAndEveryKindOfFailure(string file)
    {
        var vectors = SignatureVectors.File(file).Vectors;
        var validEncodings = vectors.Where(v => v.Expect.Signature == SignatureReasons.Ok).Select(v => v.Encoding).ToHashSet();
        var reasons = vectors.Select(v => v.Expect.Signature).Concat(vectors.Select(v => v.Expect.Binding)).ToHashSet();

        Assert.Superset(new HashSet<string> { "0x-hex", "bare-hex", "base58", "base64", "json-array" }, validEncodings);
        Assert.Superset(
            new HashSet<string>
            {
                SignatureReasons.Ok, SignatureReasons.BadEncoding, SignatureReasons.InvalidSignature, SignatureReasons.BadAddress,
                SignatureReasons.AddressNotInMessage, SignatureReasons.VerificationIdNotInMessage,
            },
            reasons);
        Assert.Contains(vectors, v => v.Name.Contains("wrong-key") && v.Expect.Signature != SignatureReasons.Ok);
        Assert.Contains(vectors, v => v.Name.Contains("tampered") && v.Expect.Signature != SignatureReasons.Ok);
        if (file == SignatureVectors.Evm)
        {
            Assert.Contains(SignatureReasons.WrongSigner, reasons);
            Assert.Contains(SignatureReasons.UnsupportedChain, reasons);
            // Checksummed and lowercase forms of the same wallet are both accepted.
            Assert.Contains(vectors, v => v.Expect.Signature == SignatureReasons.Ok && v.WalletAddress == v.WalletAddress.ToLowerInvariant());
            Assert.Contains(vectors, v => v.Expect.Signature == SignatureReasons.Ok && v.WalletAddress != v.WalletAddress.ToLowerInvariant());
        }
    }

    [Fact]
    public void Verify_EvmValidVector_IsAcceptedOnEveryEvmChainAndRefusedOnSolana()
    {
        var v = SignatureVectors.Get(SignatureVectors.Evm, "evm-valid-0x-hex");

        foreach (var chain in new[] { "ethereum", "polygon", "bsc", "base", "arbitrum", "optimism", "avalanche" })
        {
            Assert.True(_verifier.Verify(chain, v.WalletAddress, v.Message, v.Signature).IsValid, chain);
        }

        Assert.Equal(SignatureReasons.BadAddress, _verifier.Verify("solana", v.WalletAddress, v.Message, v.Signature).Reason);
    }
}
