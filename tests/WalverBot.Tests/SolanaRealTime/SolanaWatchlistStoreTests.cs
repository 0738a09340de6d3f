using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Chains;
using WalverBot.Holdings;
using WalverBot.SolanaRealTime;
using WalverBot.Storage;
using WalverBot.Testing.Chains;
using WalverBot.Tests.Storage;
using WalverBot.Verifications;

namespace WalverBot.Tests.SolanaRealTime;

/// <summary>
/// <see cref="SolanaWatchlist"/> on a real store (SQLite here, PostgreSQL in <see cref="PostgresSolanaWatchlistStoreTests"/>):
/// which linked wallets its query finds, and which accounts it watches for them (token accounts from the fake RPC).
/// </summary>
public class SolanaWatchlistStoreTests
{
    /// <summary>Which store the tests run against.</summary>
    protected virtual string Provider => StorageProviders.Sqlite;

    private static readonly string Mint = SolanaRealTimeScenario.Address("mint");
    private static readonly string Alice = SolanaRealTimeScenario.Address("alice");
    private static readonly string Bob = SolanaRealTimeScenario.Address("bob");
    private static readonly string Carol = SolanaRealTimeScenario.Address("carol");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [SkippableFact]
    public async Task Wallets_of_enabled_token_gated_Solana_verifications_are_watched_through_their_token_accounts()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        await using var rpc = await FakeSolanaRpc.StartAsync();
        var readers = Readers(rpc);
        var store = new VerificationStore(db.Database, _time);
        var gated = await AddAsync(db, store, Verification("wb_sol", "solana", Mint), (1, Alice), (2, Bob));
        // Not watched: a disabled verification (its wallet has an account of the mint) and another chain.
        await AddAsync(db, store, Verification("wb_off", "solana", Mint), (3, Carol));
        Assert.True(await store.SetEnabledAsync("wb_off", false));
        await AddAsync(db, store, Verification("wb_eth", "ethereum", "0x" + new string('a', 40)), (4, "0x" + new string('b', 40)));
        var aliceAccount = rpc.AddTokenAccount(Alice, Mint, 5_000_000, 6);
        rpc.AddTokenAccount(Carol, Mint, 5_000_000, 6);

        var watch = await Watchlist(db, store, readers).ReadAsync(CancellationToken.None);

        // Bob has no token account yet: nothing of his to watch until he opens one.
        var (account, wallets) = Assert.Single(watch);
        Assert.Equal(aliceAccount, account);
        Assert.Equal([new WatchedWallet(gated.Id, Alice)], wallets);
    }

    [SkippableFact]
    public async Task A_native_SOL_gate_watches_the_wallets_themselves_until_the_verification_is_disabled()
    {
        await using var db = await TestDatabase.CreateAsync(Provider);
        await using var rpc = await FakeSolanaRpc.StartAsync();
        var readers = Readers(rpc);
        var store = new VerificationStore(db.Database, _time);
        await AddAsync(db, store, Verification("wb_sol", "solana", null) with { TokenStandard = TokenStandards.Native }, (1, Alice), (2, Bob));
        var watchlist = Watchlist(db, store, readers);

        var watch = await watchlist.ReadAsync(CancellationToken.None);

        Assert.Equal(new[] { Alice, Bob }.Order(StringComparer.Ordinal), watch.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([new WatchedWallet("wb_sol", Alice)], watch[Alice]);
        Assert.Equal([new WatchedWallet("wb_sol", Bob)], watch[Bob]);
        Assert.Equal(0, rpc.HttpRequests); // the wallet's own account: no token accounts to list

        Assert.True(await store.SetEnabledAsync("wb_sol", false));
        Assert.Empty(await watchlist.ReadAsync(CancellationToken.None));
    }

    private static Verification Verification(string id, string chain, string? token) => new()
    {
        Id = id, GuildId = 1_234_567_890_123_456_789, RoleId = 9_000_000_000_000_000_001, SecretHash = SecretHasher.Hash("s"),
        Source = "config", Chain = chain, TokenAddress = token, MinAmount = 1m,
    };

    /// <summary>Stores the verification and links each wallet to its member as a grant does (in the grant's transaction).</summary>
    private async Task<Verification> AddAsync(TestDatabase db, VerificationStore store, Verification verification, params (ulong UserId, string Wallet)[] links)
    {
        await store.UpsertAsync(verification);
        await using var connection = await db.Database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var (userId, wallet) in links)
        {
            await HoldingsStore.RecordGrantAsync(connection, transaction, verification, userId, wallet, [], new HashSet<ulong> { verification.RoleId },
                _time.GetUtcNow(), TimeSpan.FromDays(1));
        }

        await transaction.CommitAsync();
        return verification;
    }

    private SolanaWatchlist Watchlist(TestDatabase db, VerificationStore store, ChainReaders readers) =>
        new(db.Database, store, readers, readers, Options.Create(new SolanaSubscriptionTuning()), _time, NullLogger<SolanaWatchlist>.Instance);

    /// <summary>The bot's readers with one endpoint, Chains:solana:RpcUrl on the fake.</summary>
    private static ChainReaders Readers(FakeSolanaRpc rpc)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chains:solana:RpcUrl"] = rpc.RpcUrl.ToString(),
        }).Build();
        var options = new ChainsOptions();
        ChainsOptions.Read(configuration, options);
        Assert.Empty(options.Problems);
        var clients = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        return new ChainReaders(Options.Create(options), Options.Create(new ChainReadTuning()), clients,
            new RpcEndpointHealth(NullLogger<RpcEndpointHealth>.Instance));
    }
}

/// <summary>The same tests on a real PostgreSQL server.</summary>
[Trait("Needs", "postgres")]
public sealed class PostgresSolanaWatchlistStoreTests : SolanaWatchlistStoreTests
{
    protected override string Provider => StorageProviders.Postgres;
}
