namespace WalverBot.Grants;

public static class Wallets
{
    /// <summary>A short form for logs and audit reasons: enough to recognise a wallet, not to copy it.</summary>
    public static string Shorten(string walletAddress)
    {
        var trimmed = walletAddress.Trim();
        return trimmed.Length <= 12 ? trimmed : $"{trimmed[..6]}…{trimmed[^4..]}";
    }
}
