using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NSec.Cryptography;
using Nethereum.Signer;
using WalverBot.Security;

namespace WalverBot.Tests.Security;

public class WalletSignatureVerifierTests
{
    private const string Message = "Example Guild asks you to verify this wallet.\nWallet: {0}\nVerification ID: wb-roundtrip";

    private readonly WalletSignatureVerifier _verifier = new();

    [Fact]
    public void Ed25519_LibsodiumLoadsOnThisMachine_AndNSecSignaturesVerify()
    {
        // NSec calls the native libsodium shipped in its package; this fails loudly if the
        // runtime asset for this platform (e.g. linux-x64) is missing from the output.
        using var key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var address = SimpleBase.Base58.Bitcoin.Encode(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        var message = string.Format(Message, address);
        var signature = SignatureAlgorithm.Ed25519.Sign(key, System.Text.Encoding.UTF8.GetBytes(message));

        var result = _verifier.Verify("solana", address, message, SimpleBase.Base58.Bitcoin.Encode(signature));

        Assert.True(result.IsValid, $"{result.Reason}: {result.Detail} on {RuntimeInformation.RuntimeIdentifier}");
        Assert.False(_verifier.Verify("solana", address, message + ".", SimpleBase.Base58.Bitcoin.Encode(signature)).IsValid);
    }

    [Fact]
    public void Evm_NethereumSignature_RoundTrips()
    {
        var key = new EthECKey("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
        var address = key.GetPublicAddress();
        var message = string.Format(Message, address);
        var signature = new EthereumMessageSigner().EncodeUTF8AndSign(message, key);

        Assert.True(_verifier.Verify("ethereum", address, message, signature).IsValid);
        Assert.True(_verifier.Verify("base", address.ToLowerInvariant(), message, signature).IsValid);
        Assert.Equal(SignatureReasons.WrongSigner, _verifier.Verify("ethereum", EthECKey.GenerateKey().GetPublicAddress(), message, signature).Reason);
    }

    [Fact]
    public void Evm_HighSTwinOfAValidSignature_IsRefusedEvenThoughItRecoversTheSameSigner()
    {
        var v = SignatureVectors.Get(SignatureVectors.Evm, "evm-invalid-high-s");

        var result = _verifier.Verify(v.Chain, v.WalletAddress, v.Message, v.Signature);

        Assert.Equal(SignatureReasons.InvalidSignature, result.Reason);
        Assert.Contains("EIP-2", result.Detail);
    }

    [Fact]
    public void WrongSigner_DetailNamesTheRecoveredAddressShortened()
    {
        var v = SignatureVectors.Get(SignatureVectors.Evm, "evm-wrong-key");
        var mallory = SignatureVectors.File(SignatureVectors.Evm).Keys["mallory"];

        var result = _verifier.Verify(v.Chain, v.WalletAddress, v.Message, v.Signature);

        Assert.Contains(WalletAddresses.Shorten(mallory), result.Detail);
    }

    [Fact]
    public void Verify_NeverEchoesTheSignatureOrMessageInTheDetail()
    {
        const string marker = "SECRETMARKER";
        var results = new[]
        {
            _verifier.Verify("ethereum", "0x" + new string('a', 40), marker, marker),
            _verifier.Verify("solana", "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT", marker, marker),
            _verifier.Verify("bitcoin", marker, marker, marker),
            _verifier.Verify("ethereum", marker, marker, marker),
        };

        Assert.All(results, r => Assert.DoesNotContain(marker, r.Detail));
        // Chain names are echoed only when they look like a name.
        Assert.Equal("Chain 'bitcoin' is not one Walver supports.", _verifier.Verify("bitcoin", null, null, null).Detail);
        Assert.Equal("Chain (unprintable) is not one Walver supports.", _verifier.Verify("eth\nereum", null, null, null).Detail);
    }

    [Fact]
    public void AddWalletSignatureVerification_RegistersOneVerifier()
    {
        using var provider = new ServiceCollection().AddWalletSignatureVerification().AddWalletSignatureVerification().BuildServiceProvider();

        var first = provider.GetRequiredService<IWalletSignatureVerifier>();

        Assert.IsType<WalletSignatureVerifier>(first);
        Assert.Same(first, provider.GetRequiredService<IWalletSignatureVerifier>());
        Assert.Single(provider.GetServices<IWalletSignatureVerifier>());
    }
}

public class SignaturePolicyTests
{
    private static readonly SignatureCheck Valid = SignatureCheck.Valid("ok");
    private static readonly SignatureCheck Invalid = SignatureCheck.Reject(SignatureReasons.WrongSigner, "no");

    [Fact]
    public void AllowsGrant_OnlyEnforceBlocksAFailedCheck()
    {
        Assert.False(SignaturePolicy.Enforce.AllowsGrant(Invalid));
        Assert.True(SignaturePolicy.Enforce.AllowsGrant(Valid));
        Assert.True(SignaturePolicy.Warn.AllowsGrant(Invalid));
        Assert.True(SignaturePolicy.Off.AllowsGrant(Invalid));
    }

    [Fact]
    public void SecurityOptions_DefaultsToEnforce()
    {
        Assert.Equal(SignaturePolicy.Enforce, new SecurityOptions().Signatures);
        Assert.Equal("Security", SecurityOptions.SectionName);
    }

    [Theory]
    [InlineData(null, SignaturePolicy.Enforce)]
    [InlineData("Enforce", SignaturePolicy.Enforce)]
    [InlineData("warn", SignaturePolicy.Warn)]
    [InlineData("OFF", SignaturePolicy.Off)]
    public void SecurityOptions_BindsFromTheSecuritySection(string? value, SignaturePolicy expected)
    {
        var settings = new Dictionary<string, string?>();
        if (value is not null)
        {
            settings["Security:Signatures"] = value;
        }

        var options = new SecurityOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(SecurityOptions.SectionName).Bind(options);

        Assert.Equal(expected, options.Signatures);
    }
}
