using System.Text;
using WalverBot.Security;

namespace WalverBot.Tests.Security;

public class SignatureEncodingsTests
{
    private static readonly byte[] Bytes65 = Enumerable.Range(0, 65).Select(i => (byte)(i * 7 + 3)).ToArray();

    [Fact]
    public void Decode_SameBytesInEveryAcceptedEncoding_YieldsThoseBytes()
    {
        var inputs = new Dictionary<string, string>
        {
            ["0x-hex"] = "0x" + Convert.ToHexStringLower(Bytes65),
            ["hex"] = Convert.ToHexString(Bytes65),
            ["base58"] = SimpleBase.Base58.Bitcoin.Encode(Bytes65),
            ["base64"] = Convert.ToBase64String(Bytes65),
            ["json-array"] = "[" + string.Join(",", Bytes65) + "]",
        };

        foreach (var (encoding, text) in inputs)
        {
            var result = SignatureEncodings.Decode(text, 65);

            Assert.Null(result.Problem);
            var reading = Assert.Single(result.Readings);
            Assert.Equal(encoding, reading.Encoding);
            Assert.Equal(Bytes65, reading.Bytes);
        }
    }

    [Fact]
    public void Decode_Base64UrlSafeAndUnpadded_AreAccepted()
    {
        var bytes = Enumerable.Range(0, 64).Select(i => (byte)(255 - i * 3)).ToArray(); // yields '+', '/' in standard base64
        var standard = Convert.ToBase64String(bytes);
        Assert.True(standard.Contains('+') || standard.Contains('/'), "test bytes should exercise the URL-safe alphabet");
        var urlSafe = standard.TrimEnd('=').Replace('+', '-').Replace('/', '_');

        var result = SignatureEncodings.Decode(urlSafe, 64);

        Assert.Equal(bytes, Assert.Single(result.Readings, r => r.Encoding == "base64").Bytes);
    }

    [Fact]
    public void Decode_TextValidAsBase58AndBase64OfTheSameLength_OffersBothReadingsBase58First()
    {
        // 86 characters: unpadded base64 of 64 bytes; and with a leading '1' (a zero byte) base58 of 64 bytes.
        var text = "1" + new string('z', 85);

        var result = SignatureEncodings.Decode(text, 64);

        Assert.Equal(["base58", "base64"], result.Readings.Select(r => r.Encoding));
        Assert.All(result.Readings, r => Assert.Equal(64, r.Bytes.Length));
        Assert.NotEqual(result.Readings[0].Bytes, result.Readings[1].Bytes);
    }

    [Fact]
    public void Decode_BareHexOfTheRightLength_IsReadOnlyAsHex()
    {
        var text = Convert.ToHexStringLower(Bytes65); // also valid base64 characters, but of the wrong length there

        var result = SignatureEncodings.Decode(text, 65);

        Assert.Equal("hex", Assert.Single(result.Readings).Encoding);
    }

    [Theory]
    [InlineData("0x")]
    [InlineData("0X")]
    [InlineData("0xabc")]
    [InlineData("[]")]
    [InlineData("[1,2,3]")]
    [InlineData("[\"1\"]")]
    [InlineData("[1,null]")]
    [InlineData("[[1]]")]
    [InlineData("{\"0\":1}")]
    [InlineData("[1,2,")]
    [InlineData("not a signature")]
    [InlineData("====")]
    [InlineData("AAAA=AAA")]
    public void Decode_Malformed_ReportsAProblemAndNoReading(string text)
    {
        var result = SignatureEncodings.Decode(text, 65);

        Assert.Empty(result.Readings);
        Assert.False(string.IsNullOrWhiteSpace(result.Problem));
    }

    [Fact]
    public void Decode_WrongLength_SaysHowManyBytesItRead()
    {
        var result = SignatureEncodings.Decode("0x" + Convert.ToHexStringLower(Bytes65[..64]), 65);

        Assert.Contains("64 bytes as 0x-hex", result.Problem);
    }

    [Fact]
    public void Decode_JsonArrayWithWhitespaceAndByteBounds_IsAccepted()
    {
        var bytes = new byte[65];
        bytes[0] = 255;
        var text = " [ " + string.Join(" ,\n", bytes) + " ] ";

        var result = SignatureEncodings.Decode(text, 65);

        Assert.Equal(bytes, Assert.Single(result.Readings).Bytes);
    }

    [Fact]
    public void Decode_OverTheLengthCap_IsRefusedBeforeDecoding()
    {
        var text = "0x" + new string('a', SignatureEncodings.MaxSignatureChars);

        var result = SignatureEncodings.Decode(text, 65);

        Assert.Contains("longer than", result.Problem);
    }

    [Theory]
    [InlineData("¯\\_(ツ)_/¯")]
    [InlineData("١٢٣٤٥٦٧٨٩")] // Arabic-Indic digits
    [InlineData("ｚｚｚｚ")] // full-width letters
    [InlineData("\u0000\u0001")]
    public void TryDecodeBase58_NonAsciiOrControlCharacters_ReturnsNullInsteadOfThrowing(string text)
    {
        Assert.Null(SignatureEncodings.TryDecodeBase58(text));
    }

    [Fact]
    public void TryDecodeBase58_KnownValue_MatchesTheBitcoinAlphabet()
    {
        // "Hello World!" in Bitcoin base58, the alphabet Solana uses.
        Assert.Equal("Hello World!", Encoding.ASCII.GetString(SignatureEncodings.TryDecodeBase58("2NEpo7TZRRrLZSi2U")!));
    }
}
