using Nethereum.Signer;
using NSec.Cryptography;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.Hosting;

/// <summary>Wallets with fixed keys that sign webhook messages the way a member's wallet would.</summary>
public static class TestWallets
{
    private static readonly EthECKey EvmKey = new("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    private static readonly Key SolanaKey = Key.Import(SignatureAlgorithm.Ed25519, Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), KeyBlobFormat.RawPrivateKey);

    /// <summary>
    /// Signs with Nethereum's libsecp256k1 port (NBitcoin.Secp256k1, already a dependency of Nethereum.Signer) instead of
    /// its default BouncyCastle signer: deterministic (RFC 6979), low-s signatures either way, and about 0.9 ms a signature
    /// instead of 4–10 ms on a busy two-core machine, where signing was the largest part of the hostile-body fuzz. Only
    /// signing changes: the bot under test never signs.
    /// </summary>
    static TestWallets() => EthECKey.SignRecoverable = true;

    public static string EvmAddress => EvmKey.GetPublicAddress();

    public static string SolanaAddress => SimpleBase.Base58.Bitcoin.Encode(SolanaKey.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    /// <summary>Signs a Walver-style message naming the wallet and the verification, as the wallet on <paramref name="chain"/>.</summary>
    public static FakeWalverWebhook Signed(this FakeWalverWebhook webhook, string chain = "ethereum")
    {
        if (chain != "solana")
        {
            return webhook.SignedBy(EvmKey, chain);
        }

        var message = Message(webhook, SolanaAddress);
        var signature = SimpleBase.Base58.Bitcoin.Encode(SignatureAlgorithm.Ed25519.Sign(SolanaKey, System.Text.Encoding.UTF8.GetBytes(message)));
        return webhook with { Chain = chain, WalletAddress = SolanaAddress, Message = message, Signature = signature };
    }

    /// <summary>Signs as EVM wallet <paramref name="key"/> (see <see cref="EvmWallet"/>) on <paramref name="chain"/>.</summary>
    public static FakeWalverWebhook SignedBy(this FakeWalverWebhook webhook, EthECKey key, string chain = "ethereum")
    {
        var wallet = key.GetPublicAddress();
        var message = Message(webhook, wallet);
        return webhook with { Chain = chain, WalletAddress = wallet, Message = message, Signature = new EthereumMessageSigner().EncodeUTF8AndSign(message, key) };
    }

    /// <summary>
    /// EVM wallet number <paramref name="number"/>, the same key for the same number: for members who must not share a
    /// wallet (the bot runs one wallet's events one after another).
    /// </summary>
    public static EthECKey EvmWallet(int number)
    {
        var key = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(number));
        while (key[0] == 0)
        {
            // Nethereum hands the libsecp256k1 signer the key without its leading zero bytes, which it refuses (31 bytes).
            key = System.Security.Cryptography.SHA256.HashData(key);
        }

        return new EthECKey(key, isPrivate: true);
    }

    private static string Message(FakeWalverWebhook webhook, string wallet) =>
        $"Walver verification {webhook.Id}\nWallet: {wallet}\nNonce: {Guid.NewGuid():N}";
}
