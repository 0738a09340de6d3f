using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Tests.Storage;
using WalverBot.Verifications;

namespace WalverBot.Tests.Verifications;

/// <summary>
/// TokenStandard, TokenId, Tiers and ReverifyAfter of a declared verification: each bad value refused with a line
/// naming its key, each good one accepted and stored by the sync.
/// </summary>
public sealed class DeclaredGateValidationTests
{
    private const ulong Guild = 1100000000000000001;
    private const ulong Role = 1100000000000000002;
    private const ulong Whale = 1100000000000000003;
    private const ulong Shark = 1100000000000000004;
    private const string Evm = "0x1111111111111111111111111111111111111111";
    private const string Mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

    private static DeclaredVerification Item(Action<DeclaredVerification>? change = null)
    {
        var item = new DeclaredVerification { Id = "wb_gate", GuildId = Guild, RoleId = Role, Secret = "declared-secret-value-456", Chain = "ethereum" };
        change?.Invoke(item);
        return item;
    }

    private static IReadOnlyList<string> Problems(DeclaredVerification item)
    {
        var options = new DeclaredVerificationsOptions();
        options.Items.Add(item);
        var result = new DeclaredVerificationsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures!] : [];
    }

    /// <summary>(what to change, the one line expected, a fragment of it).</summary>
    public static TheoryData<string, string, string> BadGates { get; } = new()
    {
        { "standard:erc999", "Verifications:0:TokenStandard", "must be one of erc20, erc721, erc1155, spl, native" },
        { "standard:spl", "Verifications:0:TokenStandard", "spl is Solana's token program: it cannot be read on ethereum" },
        { "solana-erc20", "Verifications:0:TokenStandard", "erc20 is an EVM token standard: on solana use spl" },
        { "no-chain-standard", "Verifications:0:TokenStandard", "needs a chain" },
        { "native-with-address", "Verifications:0:TokenStandard", "remove TokenAddress" },
        { "native-without-amount", "Verifications:0:TokenStandard", "native needs MinAmount" },
        { "erc721-without-address", "Verifications:0:TokenStandard", "erc721 needs TokenAddress" },
        { "tokenid-on-erc20", "Verifications:0:TokenId", "belongs to an ERC-1155 gate only" },
        { "erc1155-without-id", "Verifications:0:TokenId", "is required for an erc1155 gate" },
        { "tokenid-not-digits", "Verifications:0:TokenId", "decimal digits" },
        { "tokenid-too-big", "Verifications:0:TokenId", "a uint256" },
        { "tiers-without-gate", "Verifications:0:Tiers", "need a token gate" },
        { "tier-zero", "Verifications:0:Tiers:0:MinAmount", "must be more than 0" },
        { "tier-below-base", "Verifications:0:Tiers:0:MinAmount", "above the verification's MinAmount (10)" },
        { "tier-fraction-nft", "Verifications:0:Tiers:0:MinAmount", "whole number: an erc721 balance is a count" },
        { "tier-same-amount", "Verifications:0:Tiers:1:MinAmount", "repeats the amount of another tier" },
        { "tier-no-role", "Verifications:0:Tiers:0:RoleId", "is required" },
        { "tier-base-role", "Verifications:0:Tiers:0:RoleId", "the verification's own RoleId" },
        { "tier-everyone", "Verifications:0:Tiers:0:RoleId", "@everyone" },
        { "tier-same-role", "Verifications:0:Tiers:1:RoleId", "repeats the role of another tier" },
        { "reverify-zero", "Verifications:0:ReverifyAfter", "must be more than 0" },
        { "reverify-gated", "Verifications:0:ReverifyAfter", "only for verifications without a token gate" },
        { "reverify-native", "Verifications:0:ReverifyAfter", "only for verifications without a token gate" },
    };

    private static DeclaredVerification Bad(string change) => Item(item =>
    {
        switch (change)
        {
            case "standard:erc999": item.TokenStandard = "erc999"; item.TokenAddress = Evm; break;
            case "standard:spl": item.TokenStandard = "spl"; item.TokenAddress = Evm; break;
            case "solana-erc20": item.Chain = "solana"; item.TokenStandard = "erc20"; item.TokenAddress = Mint; break;
            case "no-chain-standard": item.Chain = null; item.TokenStandard = "erc20"; item.TokenAddress = Evm; break;
            case "native-with-address": item.TokenStandard = "native"; item.TokenAddress = Evm; item.MinAmount = 1; break;
            case "native-without-amount": item.TokenStandard = "native"; break;
            case "erc721-without-address": item.TokenStandard = "erc721"; break;
            case "tokenid-on-erc20": item.TokenAddress = Evm; item.TokenId = "7"; break;
            case "erc1155-without-id": item.TokenStandard = "erc1155"; item.TokenAddress = Evm; break;
            case "tokenid-not-digits": item.TokenStandard = "erc1155"; item.TokenAddress = Evm; item.TokenId = "0x07"; break;
            case "tokenid-too-big": item.TokenStandard = "erc1155"; item.TokenAddress = Evm; item.TokenId = "115792089237316195423570985008687907853269984665640564039457584007913129639936"; break;
            case "tiers-without-gate": item.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Whale }); break;
            case "tier-zero": item.TokenAddress = Evm; item.Tiers.Add(new DeclaredTier { MinAmount = 0, RoleId = Whale }); break;
            case "tier-below-base": item.TokenAddress = Evm; item.MinAmount = 10; item.Tiers.Add(new DeclaredTier { MinAmount = 10, RoleId = Whale }); break;
            case "tier-fraction-nft": item.TokenStandard = "erc721"; item.TokenAddress = Evm; item.Tiers.Add(new DeclaredTier { MinAmount = 2.5m, RoleId = Whale }); break;
            case "tier-same-amount":
                item.TokenAddress = Evm;
                item.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Whale });
                item.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Shark });
                break;
            case "tier-no-role": item.TokenAddress = Evm; item.Tiers.Add(new DeclaredTier { MinAmount = 100 }); break;
            case "tier-base-role": item.TokenAddress = Evm; item.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Role }); break;
            case "tier-everyone": item.TokenAddress = Evm; item.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Guild }); break;
            case "tier-same-role":
                item.TokenAddress = Evm;
                item.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Whale });
                item.Tiers.Add(new DeclaredTier { MinAmount = 1000, RoleId = Whale });
                break;
            case "reverify-zero": item.ReverifyAfter = TimeSpan.Zero; break;
            case "reverify-gated": item.TokenAddress = Evm; item.ReverifyAfter = TimeSpan.FromDays(90); break;
            case "reverify-native": item.TokenStandard = "native"; item.MinAmount = 0.5m; item.ReverifyAfter = TimeSpan.FromDays(90); break;
            default: throw new ArgumentOutOfRangeException(nameof(change), change, null);
        }
    });

    [Theory]
    [MemberData(nameof(BadGates))]
    public void A_bad_gate_is_refused_with_one_line_naming_its_key(string change, string key, string fragment)
    {
        var line = Assert.Single(Problems(Bad(change)));

        Assert.StartsWith(key + " ", line, StringComparison.Ordinal);
        Assert.Contains(fragment, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_gates_of_every_standard_are_accepted()
    {
        Assert.Empty(Problems(Item(i => { i.TokenAddress = Evm; i.MinAmount = 1; i.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Whale }); })));
        Assert.Empty(Problems(Item(i => { i.TokenStandard = "ERC721"; i.TokenAddress = Evm; i.Tiers.Add(new DeclaredTier { MinAmount = 5, RoleId = Whale }); })));
        Assert.Empty(Problems(Item(i => { i.TokenStandard = "erc1155"; i.TokenAddress = Evm; i.TokenId = "115792089237316195423570985008687907853269984665640564039457584007913129639935"; })));
        Assert.Empty(Problems(Item(i => { i.Chain = "solana"; i.TokenStandard = "spl"; i.TokenAddress = Mint; i.MinAmount = 1; })));
        Assert.Empty(Problems(Item(i => { i.Chain = "solana"; i.TokenStandard = "native"; i.MinAmount = 0.1m; i.Tiers.Add(new DeclaredTier { MinAmount = 10, RoleId = Whale }); })));
        Assert.Empty(Problems(Item(i => { i.TokenStandard = "native"; i.MinAmount = 0.01m; })));
        Assert.Empty(Problems(Item(i => i.ReverifyAfter = TimeSpan.FromDays(90))));
    }

    [Fact]
    public async Task The_sync_stores_standard_token_id_tiers_in_amount_order_and_ReverifyAfter()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new VerificationStore(db.Database, new FakeTimeProvider(DateTimeOffset.UnixEpoch));
        var sync = new DeclaredVerificationSync(store, NullLogger<DeclaredVerificationSync>.Instance);
        var gated = Item(i =>
        {
            i.Id = "wb_1155";
            i.TokenStandard = " ERC1155 ";
            i.TokenAddress = Evm;
            i.TokenId = " 42 ";
            i.MinAmount = 1;
            i.Tiers.Add(new DeclaredTier { MinAmount = 100, RoleId = Shark });
            i.Tiers.Add(new DeclaredTier { MinAmount = 10, RoleId = Whale });
        });
        var plain = Item(i => { i.Id = "wb_plain"; i.ReverifyAfter = TimeSpan.FromDays(90); });

        await sync.SyncAsync([gated, plain], CancellationToken.None);

        var stored = (await store.FindAsync("wb_1155", CancellationToken.None))!;
        Assert.Equal(TokenStandards.Erc1155, stored.TokenStandard);
        Assert.Equal("42", stored.TokenId);
        Assert.Equal([new RoleTier(10, Whale), new RoleTier(100, Shark)], stored.Tiers);
        Assert.Equal([new RoleTier(1, Role), new RoleTier(10, Whale), new RoleTier(100, Shark)], stored.AllTiers);
        Assert.Null(stored.ReverifyAfter);
        var storedPlain = (await store.FindAsync("wb_plain", CancellationToken.None))!;
        Assert.Equal(TimeSpan.FromDays(90), storedPlain.ReverifyAfter);
        Assert.Empty(storedPlain.Tiers);
        Assert.Null(storedPlain.TokenStandard);

        // Configuration owns a declared verification's tiers: a tier removed there is removed from the row.
        gated.Tiers.RemoveAt(0);
        await sync.SyncAsync([gated, plain], CancellationToken.None);
        Assert.Equal([new RoleTier(10, Whale)], (await store.FindAsync("wb_1155", CancellationToken.None))!.Tiers);
    }
}
