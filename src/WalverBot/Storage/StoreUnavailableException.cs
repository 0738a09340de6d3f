namespace WalverBot.Storage;

/// <summary>The store cannot keep what it is given right now (see <see cref="StoreHealth"/>).</summary>
public sealed class StoreUnavailableException(string message) : Exception(message);
