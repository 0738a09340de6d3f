using System.Buffers;
using System.Text.Json;
using SimpleBase;

namespace WalverBot.Security;

/// <summary>One reading of a signature string: the encoding it was read as, and its bytes.</summary>
internal sealed record DecodedSignature(string Encoding, byte[] Bytes);

/// <summary>
/// Turns the <c>signature</c> text of a webhook into bytes. Walver does not say how it encodes
/// signatures (its examples show <c>0x…</c> for EVM, base58 is Solana's custom), so these are
/// accepted: a JSON array of byte values, <c>0x</c>-hex, bare hex, base58 (Bitcoin alphabet), and
/// base64 (standard or URL-safe, padding optional).
/// </summary>
/// <remarks>
/// The same text can be valid in several encodings (bare hex is also base64, and base58's alphabet
/// is a subset of base64's). Ambiguity is settled by length: a reading counts only when it yields
/// exactly the chain family's signature length (EVM 65 bytes, Solana 64). Readings are produced
/// in the order JSON array, 0x-hex, bare hex, base58, base64; the verifier tries them in that order
/// and accepts the first that verifies. By length, hex never collides with the others; base58 and
/// base64 can both yield the right length only for rare strings (a leading '1', only base58
/// characters), and then both readings are tried: two candidates instead of one changes nothing
/// about forgery odds. One consequence: base58 text of the wrong length (63 bytes, 86 characters)
/// can still be unpadded base64 of the right length, and is then reported as a signature that does
/// not verify rather than as unreadable. Either way it is rejected.
/// </remarks>
internal static class SignatureEncodings
{
    /// <summary>Longest signature text looked at; a spaced JSON array of 65 bytes needs under 400.</summary>
    public const int MaxSignatureChars = 1024;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private static readonly SearchValues<char> Base58Chars =
        SearchValues.Create("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz");

    private static readonly SearchValues<char> Base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_");

    public static DecodeResult Decode(string? signature, int expectedLength)
    {
        if (string.IsNullOrWhiteSpace(signature))
        {
            return DecodeResult.Fail("the signature is empty");
        }

        if (signature.Length > MaxSignatureChars)
        {
            return DecodeResult.Fail($"the signature is longer than {MaxSignatureChars} characters");
        }

        var text = signature.Trim();
        var readings = new List<DecodedSignature>(2);
        var lengthsSeen = new List<string>(4);

        void Consider(string encoding, byte[]? bytes)
        {
            if (bytes is null)
            {
                return;
            }

            if (bytes.Length == expectedLength)
            {
                readings.Add(new DecodedSignature(encoding, bytes));
            }
            else
            {
                lengthsSeen.Add($"{bytes.Length} bytes as {encoding}");
            }
        }

        if (text.StartsWith('['))
        {
            Consider("json-array", TryDecodeJsonArray(text));
        }
        else if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            Consider("0x-hex", TryDecodeHex(text.AsSpan(2)));
        }
        else
        {
            Consider("hex", TryDecodeHex(text));
            Consider("base58", TryDecodeBase58(text));
            Consider("base64", TryDecodeBase64(text));
        }

        if (readings.Count > 0)
        {
            return new DecodeResult(readings, null);
        }

        return DecodeResult.Fail(lengthsSeen.Count > 0
            ? $"the signature must be {expectedLength} bytes; it reads as {string.Join(", ", lengthsSeen)}"
            : "the signature is not 0x-hex, hex, base58, base64 or a JSON array of bytes");
    }

    public static byte[]? TryDecodeHex(ReadOnlySpan<char> hex)
    {
        if (hex.IsEmpty || hex.Length % 2 != 0 || hex.ContainsAnyExcept(HexDigits))
        {
            return null;
        }

        return Convert.FromHexString(hex);
    }

    public static byte[]? TryDecodeBase58(string text)
    {
        // Checked here first: SimpleBase 5.6.4 indexes a table by character and throws
        // IndexOutOfRangeException on non-ASCII input instead of returning false.
        if (text.Length == 0 || text.AsSpan().ContainsAnyExcept(Base58Chars))
        {
            return null;
        }

        try
        {
            var buffer = new byte[Base58.Bitcoin.GetSafeByteCountForDecoding(text)];
            return Base58.Bitcoin.TryDecode(text, buffer, out var written) ? buffer[..written] : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public static byte[]? TryDecodeBase64(string text)
    {
        // Only the base64 alphabets; Convert would otherwise skip embedded whitespace.
        if (text.Length % 4 == 1 || text.AsSpan().TrimEnd('=').ContainsAnyExcept(Base64Chars))
        {
            return null;
        }

        var standard = text.Replace('-', '+').Replace('_', '/');
        if (standard.Length % 4 != 0)
        {
            standard = standard.PadRight(standard.Length + (4 - standard.Length % 4), '=');
        }

        var buffer = new byte[standard.Length / 4 * 3];
        return Convert.TryFromBase64String(standard, buffer, out var written) ? buffer[..written] : null;
    }

    public static byte[]? TryDecodeJsonArray(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 1 });
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var bytes = new byte[document.RootElement.GetArrayLength()];
            var i = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Number || !element.TryGetByte(out bytes[i++]))
                {
                    return null;
                }
            }

            return bytes;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            // ArgumentException: the text holds a lone surrogate and cannot be transcoded to UTF-8.
            return null;
        }
    }
}

/// <summary>The readings of a signature that have the expected length, or why there are none.</summary>
internal sealed record DecodeResult(IReadOnlyList<DecodedSignature> Readings, string? Problem)
{
    public static DecodeResult Fail(string problem) => new([], problem);
}
