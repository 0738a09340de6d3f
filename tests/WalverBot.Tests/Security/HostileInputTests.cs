using WalverBot.Security;

namespace WalverBot.Tests.Security;

/// <summary>Garbage in must give a rejection with a known reason, never an exception or a pass.</summary>
public class HostileInputTests
{
    private static readonly HashSet<string> KnownReasons =
    [
        SignatureReasons.UnsupportedChain, SignatureReasons.BadAddress, SignatureReasons.BadMessage, SignatureReasons.BadEncoding,
        SignatureReasons.InvalidSignature, SignatureReasons.WrongSigner, SignatureReasons.AddressNotInMessage,
        SignatureReasons.VerificationIdNotInMessage,
    ];

    private readonly WalletSignatureVerifier _verifier = new();

    public static TheoryData<string?, string?, string?, string?, string> Cases => new()
    {
        { null, null, null, null, SignatureReasons.UnsupportedChain },
        { "ethereum", null, "m", "0x00", SignatureReasons.BadAddress },
        { "solana", "", "m", "x", SignatureReasons.BadAddress },
        { "ethereum", "0x" + new string('a', 40), null, "0x00", SignatureReasons.BadMessage },
        { "ethereum", "0x" + new string('a', 40), "", "0x00", SignatureReasons.BadMessage },
        { "ethereum", "0x" + new string('a', 40), "m", null, SignatureReasons.BadEncoding },
        { "solana", "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT", "m", "   ", SignatureReasons.BadEncoding },
        { "еthereum", "0x" + new string('a', 40), "m", "0x00", SignatureReasons.UnsupportedChain }, // Cyrillic 'е'
        { " ethereum", "0x" + new string('a', 40), "m", "0x00", SignatureReasons.UnsupportedChain },
        { "ethereum\0", "0x" + new string('a', 40), "m", "0x00", SignatureReasons.UnsupportedChain },
        { "ethereum", "0x" + new string('g', 40), "m", "0x00", SignatureReasons.BadAddress },
        { "ethereum", "0x" + new string('a', 39) + "\0", "m", "0x00", SignatureReasons.BadAddress },
        { "ethereum", "0x" + new string('ａ', 40), "m", "0x00", SignatureReasons.BadAddress }, // full-width 'a'
        { "solana", "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzv\u0422", "m", "x", SignatureReasons.BadAddress }, // Cyrillic 'Т'
        { "solana", new string('1', 32), "m", "x", SignatureReasons.BadEncoding }, // the all-zero key: shape is fine, signature is not
        { "ethereum", "0x" + new string('a', 40), "m", "0x" + new string('1', 130) + "\u200B", SignatureReasons.BadEncoding }, // zero-width space
        { "ethereum", "0x" + new string('a', 40), "m", "\uFEFF0x" + new string('1', 130), SignatureReasons.BadEncoding }, // BOM
        { "ethereum", "0x" + new string('a', 40), "m", "0x" + new string('١', 130), SignatureReasons.BadEncoding }, // Arabic-Indic digits
        { "ethereum", "0x" + new string('a', 40), "m", "[" + string.Join(",", Enumerable.Repeat("1e0", 65)) + "]", SignatureReasons.BadEncoding },
        { "ethereum", "0x" + new string('a', 40), "m", "[" + string.Join(",", Enumerable.Repeat("01", 65)) + "]", SignatureReasons.BadEncoding },
        { "ethereum", "0x" + new string('a', 40), "m", new string('[', 500), SignatureReasons.BadEncoding },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Verify_HostileInput_IsRejectedWithItsReason(string? chain, string? wallet, string? message, string? signature, string reason)
    {
        var result = _verifier.Verify(chain, wallet, message, signature);

        Assert.False(result.IsValid);
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public void Verify_MessageWithALoneSurrogate_IsNotValidTextToSign()
    {
        // A Fact, not a case above: xunit's serialization of theory data would repair the string.
        var message = "Wallet: 0x" + new string('a', 40) + " lone \uD800 surrogate";

        var result = _verifier.Verify("ethereum", "0x" + new string('a', 40), message, "0x" + new string('1', 130));

        Assert.Equal(SignatureReasons.BadMessage, result.Reason);
    }

    [Theory]
    [InlineData("ethereum", "0x" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("solana", "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT")]
    public void Verify_SignatureWithALoneSurrogate_IsUnreadable(string chain, string wallet)
    {
        foreach (var signature in new[] { "[1,\uD800]", "[\uDC00", "0x\uD800", "\uD800abc", "abc\uDFFF" })
        {
            var result = _verifier.Verify(chain, wallet, "Wallet: " + wallet, signature);

            Assert.Equal(SignatureReasons.BadEncoding, result.Reason);
        }
    }

    [Fact]
    public void Verify_HugeInputs_AreRejectedQuickly()
    {
        var huge = new string('f', 4_000_000);
        var address = "0x" + new string('a', 40);

        // Processor time, not wall time: on a loaded machine the thread mostly waits for a core, which says nothing
        // about how much work the checks do.
        var took = ThreadCpuTime.Measure(() =>
        {
            Assert.Equal(SignatureReasons.BadEncoding, _verifier.Verify("ethereum", address, "m", "0x" + huge).Reason);
            Assert.Equal(SignatureReasons.BadEncoding, _verifier.Verify("solana", "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT", "m", "[" + huge).Reason);
            Assert.Equal(SignatureReasons.BadMessage, _verifier.Verify("ethereum", address, huge, "0x00").Reason);
            Assert.Equal(SignatureReasons.BadAddress, _verifier.Verify("ethereum", huge, "m", "0x00").Reason);
            Assert.Equal(SignatureReasons.BadAddress, _verifier.Verify("solana", huge, "m", "x").Reason);
            Assert.Equal(SignatureReasons.UnsupportedChain, _verifier.Verify(huge, address, "m", "0x00").Reason);
            Assert.Equal(SignatureReasons.BadMessage, MessageBinding.Check(huge, address, "id").Reason);
        });

        Assert.True(took < TimeSpan.FromSeconds(5), $"took {took} of processor time");
    }

    [Fact]
    public void MessageBinding_LongestAllowedMessageFullOfNearMatches_IsCheckedQuickly()
    {
        var address = "0x" + new string('a', 40);
        // Every position starts a near match of the address and of an id label.
        var message = string.Concat(Enumerable.Repeat("0x" + new string('a', 39) + "b id \t", 64 * 1024 / 48));

        SignatureCheck? result = null;
        // Processor time, not wall time: on a loaded machine the thread mostly waits for a core.
        var took = ThreadCpuTime.Measure(() => result = MessageBinding.Check(message, address, "wb-1"));

        Assert.Equal(SignatureReasons.AddressNotInMessage, result?.Reason);
        Assert.True(took < TimeSpan.FromSeconds(2), $"took {took} of processor time");
    }

    [Fact]
    public void Verify_RandomGarbage_NeverThrowsAndNeverPasses()
    {
        var random = new Random(20250601);
        const string alphabet = "0123456789abcdefABCDEFxX[],-=+/_ 123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz\"{}:.\n\0é🦆\uD800\uDC00";
        string RandomText(int max) => new(Enumerable.Range(0, random.Next(max)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        string[] chains = ["ethereum", "solana", "polygon", "base", "", "bitcoin"];

        for (var i = 0; i < 3000; i++)
        {
            var chain = chains[random.Next(chains.Length)];
            var wallet = random.Next(3) switch
            {
                0 => "0x" + Convert.ToHexString(RandomBytes(random, 20)),
                1 => SimpleBase.Base58.Bitcoin.Encode(RandomBytes(random, 32)),
                _ => RandomText(60),
            };
            var signature = random.Next(4) switch
            {
                0 => "0x" + Convert.ToHexString(RandomBytes(random, 65)),
                1 => SimpleBase.Base58.Bitcoin.Encode(RandomBytes(random, 64)),
                2 => "[" + string.Join(",", RandomBytes(random, 64 + random.Next(2))) + "]",
                _ => RandomText(200),
            };
            var message = RandomText(300) + wallet;
            if (random.Next(4) != 0)
            {
                // Mostly well-formed text, so that the signature decoding behind the message check is reached.
                message = message.Replace('\uD800', '?').Replace('\uDC00', '?');
            }

            var result = _verifier.Verify(chain, wallet, message, signature);
            var binding = MessageBinding.Check(message, wallet, RandomText(20));

            Assert.False(result.IsValid, $"iteration {i} passed: {result.Detail}");
            Assert.Contains(result.Reason, KnownReasons);
            Assert.True(binding.IsValid || KnownReasons.Contains(binding.Reason));
        }
    }

    [Theory]
    [InlineData(SignatureVectors.Evm, "evm-valid-0x-hex")]
    [InlineData(SignatureVectors.Solana, "sol-valid-base58")]
    [InlineData(SignatureVectors.Solana, "sol-valid-base64")]
    public void Verify_AnySingleCharacterChangeOfAValidSignature_IsRejected(string file, string name)
    {
        var v = SignatureVectors.Get(file, name);
        var alphabet = v.Encoding switch
        {
            "base58" => "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
            "base64" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            _ => "0123456789abcdef",
        };
        var start = v.Signature.StartsWith("0x", StringComparison.Ordinal) ? 2 : 0;
        var end = v.Signature.TrimEnd('=').Length;
        var random = new Random(7);

        for (var position = start; position < end; position++)
        {
            var original = v.Signature[position];
            var candidates = alphabet.Where(c => char.ToLowerInvariant(c) != char.ToLowerInvariant(original) || (v.Encoding != "0x-hex" && c != original)).ToArray();
            var replacement = candidates[random.Next(candidates.Length)];
            var mutated = string.Concat(v.Signature.AsSpan(0, position), replacement.ToString(), v.Signature.AsSpan(position + 1));

            var result = _verifier.Verify(v.Chain, v.WalletAddress, v.Message, mutated);

            Assert.False(result.IsValid, $"position {position}: '{original}' -> '{replacement}' still verified");
        }
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
