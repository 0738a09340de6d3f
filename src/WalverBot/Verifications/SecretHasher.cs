using System.Security.Cryptography;
using System.Text;

namespace WalverBot.Verifications;

/// <summary>
/// Webhook secrets are stored only as salted SHA-256 hashes and compared in constant time.
/// The bot generates 32 random bytes per secret, so a fast hash is enough; operators who declare
/// their own secrets are told in the README to make them at least as strong.
/// </summary>
public static class SecretHasher
{
    private const string Scheme = "sha256";

    public static string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return $"{Scheme}${Convert.ToBase64String(salt)}${Convert.ToBase64String(Digest(salt, secret))}";
    }

    public static bool Verify(string? secret, string storedHash)
    {
        var parts = storedHash.Split('$');
        if (secret is null || parts.Length != 3 || parts[0] != Scheme)
        {
            return false;
        }

        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[1]);
            expected = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Digest(salt, secret), expected);
    }

    /// <summary>A fresh secret of 32 random bytes, base64url without padding.</summary>
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static byte[] Digest(byte[] salt, string secret)
    {
        var secretBytes = Encoding.UTF8.GetBytes(secret);
        var input = new byte[salt.Length + secretBytes.Length];
        salt.CopyTo(input, 0);
        secretBytes.CopyTo(input, salt.Length);
        return SHA256.HashData(input);
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
