using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Verifications;
using static WalverBot.Tests.Commands.CommandScenario;

namespace WalverBot.Tests.Commands;

/// <summary>
/// <c>/walver create</c> with a token standard, an ERC-1155 id or the chain's own coin, <c>/walver tiers</c>, and how
/// <c>/walver list</c> shows them: end to end through the fake gateway, Discord and Walver.
/// </summary>
public sealed class GateCommandsTests : IAsyncLifetime
{
    private const string WhaleRoleId = "1300000000000000030";
    private const string SharkRoleId = "1300000000000000031";
    private const string AboveBotRoleId = "1300000000000000060";
    private const string Contract = "0xAbCdEf0123456789aBcDeF0123456789abCDef01";

    private CommandScenario _s = null!;

    public async Task InitializeAsync() => _s = await CommandScenario.StartAsync(seed: discord =>
    {
        discord.AddRole(GuildId, new FakeRole(WhaleRoleId, "Whale", 3));
        discord.AddRole(GuildId, new FakeRole(SharkRoleId, "Shark", 4));
        discord.AddRole(GuildId, new FakeRole(AboveBotRoleId, "Council", 6));
    });

    public async Task DisposeAsync() => await _s.DisposeAsync();

    private VerificationStore Store => _s.Bot.Services.GetRequiredService<VerificationStore>();

    private async Task<string> CreateAsync(params (string, int, System.Text.Json.Nodes.JsonNode)[] options)
    {
        await _s.AskAsync(AdminId, Create(more: options), c => c.Contains("Created", StringComparison.Ordinal));
        return _s.Walver.Created.Last().Body["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task An_erc1155_gate_is_created_with_its_token_id_stored_and_listed()
    {
        var answer = await _s.AskAsync(AdminId, Create(more: [Text("token_address", Contract), Text("token_standard", "erc1155"), Text("token_id", "42"), Number("min_amount", 2)]),
            c => c.Contains("Created", StringComparison.Ordinal));

        Assert.Contains("(erc1155 id 42)", answer.Content, StringComparison.Ordinal);
        var body = Assert.Single(_s.Walver.Created).Body;
        Assert.True(body["token_gate"]!.GetValue<bool>());
        Assert.True(body["is_nft"]!.GetValue<bool>());
        Assert.Equal(Contract.ToLowerInvariant(), body["token_address"]!.GetValue<string>());
        var stored = (await Store.FindAsync(body["id"]!.GetValue<string>()))!;
        Assert.Equal(TokenStandards.Erc1155, stored.TokenStandard);
        Assert.Equal("42", stored.TokenId);
        Assert.True(stored.IsNft);

        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains("holds ≥ 2 NFT of `0xabcd…ef01` (erc1155 id 42)", list.Content, StringComparison.Ordinal);
        Assert.Contains("no token gate", list.Content, StringComparison.Ordinal); // the declared wb_test_1
    }

    [Fact]
    public async Task A_native_coin_gate_sends_no_token_address_and_grants_on_a_check_without_one()
    {
        var answer = await _s.AskAsync(AdminId, Create(more: [Text("token_standard", "native"), Number("min_amount", 0.5)]),
            c => c.Contains("Created", StringComparison.Ordinal));

        Assert.Contains("holding at least 0.5 of ethereum's own coin", answer.Content, StringComparison.Ordinal);
        var body = Assert.Single(_s.Walver.Created).Body;
        Assert.True(body["token_gate"]!.GetValue<bool>());
        Assert.False(body.ContainsKey("token_address"));
        Assert.Equal(0.5m, body["token_amount"]!.GetValue<decimal>());
        var id = body["id"]!.GetValue<string>();
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains("holds ≥ 0.5 of ethereum's own coin (native)", list.Content, StringComparison.Ordinal);

        // Walver's check of the coin names no token (here EIP-7528's placeholder): the role is granted.
        var secret = body["secret"]!.GetValue<string>();
        await _s.Bot.SendAsync(FakeWalverWebhook.For(id).WithDiscord("alice").WithSecret(secret).Signed()
            .WithToken("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE", 0.5m, 1.2m));
        await _s.Bot.WaitForRolePutsAsync(BotScenario.AliceId);
        Assert.Contains(BotScenario.HolderRoleId, _s.Discord.GetMemberRoles(GuildId, BotScenario.AliceId));
    }

    [Theory]
    [InlineData("solana", "erc20", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", null, "erc20 is an EVM token standard")]
    [InlineData("ethereum", "spl", Contract, null, "spl is Solana's token program")]
    [InlineData("ethereum", "native", Contract, null, "leave `token_address` empty")]
    [InlineData("ethereum", "erc1155", Contract, null, "needs `token_id`")]
    [InlineData("ethereum", "erc20", Contract, "7", "`token_id` belongs to an ERC-1155 gate")]
    [InlineData("ethereum", "erc721", null, null, "needs `token_address`")]
    public async Task A_standard_that_does_not_fit_is_explained_and_nothing_is_created(string chain, string standard, string? address, string? tokenId, string expected)
    {
        List<(string, int, System.Text.Json.Nodes.JsonNode)> options = [Text("token_standard", standard), Number("min_amount", 1)];
        if (address is not null)
        {
            options.Add(Text("token_address", address));
        }

        if (tokenId is not null)
        {
            options.Add(Text("token_id", tokenId));
        }

        var answer = await _s.AskAsync(AdminId, Create(chain: chain, more: [.. options]));

        Assert.Contains(expected, answer.Content, StringComparison.Ordinal);
        Assert.Empty(_s.Walver.Requests);
        Assert.Single(await Store.ListForGuildAsync(ulong.Parse(GuildId, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Tiers_are_added_listed_moved_and_removed_and_list_shows_them()
    {
        var id = await CreateAsync(Text("token_address", Contract), Number("min_amount", 1));

        var added = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id), Role("role", WhaleRoleId), Number("min_amount", 100)));
        Assert.Contains($"Added the tier <@&{WhaleRoleId}> of `{id}` to 100", added.Content, StringComparison.Ordinal);
        await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id), Role("role", SharkRoleId), Number("min_amount", 10)));
        Assert.Equal([new RoleTier(10, ulong.Parse(SharkRoleId)), new RoleTier(100, ulong.Parse(WhaleRoleId))], (await Store.FindAsync(id))!.Tiers);

        var listed = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id)));
        Assert.Contains($"<@&{BotScenario.HolderRoleId}> from 1 (its own role)\n- <@&{SharkRoleId}> from 10\n- <@&{WhaleRoleId}> from 100", listed.Content, StringComparison.Ordinal);
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains($"tiers <@&{SharkRoleId}> ≥ 10, <@&{WhaleRoleId}> ≥ 100", list.Content, StringComparison.Ordinal);

        var moved = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id), Role("role", WhaleRoleId), Number("min_amount", 1000)));
        Assert.Contains("Moved", moved.Content, StringComparison.Ordinal);
        Assert.Equal(1000m, (await Store.FindAsync(id))!.Tiers.Single(t => t.RoleId == ulong.Parse(WhaleRoleId)).MinAmount);

        var removed = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id), Role("role", SharkRoleId), Flag("remove", true)));
        Assert.Contains($"Removed the tier of <@&{SharkRoleId}>", removed.Content, StringComparison.Ordinal);
        Assert.Equal([new RoleTier(1000, ulong.Parse(WhaleRoleId))], (await Store.FindAsync(id))!.Tiers);
    }

    [Theory]
    [InlineData(AboveBotRoleId, 100, "not below the bot's highest role")]
    [InlineData(BotScenario.BotRoleId, 100, "managed by an integration")]
    [InlineData(GuildId, 100, "@everyone")]
    [InlineData(ModeratorRoleId, 100, "dangerous permissions")]
    [InlineData(BotScenario.HolderRoleId, 100, "the verification's own role")]
    [InlineData(WhaleRoleId, 5, "above the verification's MinAmount (5)")]
    [InlineData(WhaleRoleId, 0, "more than 0")]
    [InlineData(WhaleRoleId, 50, "already starts at 50")]
    public async Task A_refused_tier_is_explained_and_the_tiers_stay_as_they_were(string roleId, double amount, string expected)
    {
        var id = await CreateAsync(Text("token_address", Contract), Number("min_amount", 5));
        await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id), Role("role", SharkRoleId), Number("min_amount", 50)));
        var before = (await Store.FindAsync(id))!.Tiers;

        var answer = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", id), Role("role", roleId), Number("min_amount", amount)));

        Assert.Contains(expected, answer.Content, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", answer.Content, StringComparison.Ordinal);
        Assert.Equal(before, (await Store.FindAsync(id))!.Tiers);
    }

    [Fact]
    public async Task Reverify_after_days_is_stored_and_listed_and_refused_with_a_token_gate()
    {
        var answer = await _s.AskAsync(AdminId, Create(more: [Integer("reverify_after_days", 30)]), c => c.Contains("Created", StringComparison.Ordinal));
        Assert.Contains("re-verify every 30 day(s)", answer.Content, StringComparison.Ordinal);
        var id = _s.Walver.Created.Last().Body["id"]!.GetValue<string>();
        Assert.Equal(TimeSpan.FromDays(30), (await Store.FindAsync(id))!.ReverifyAfter);
        var list = await _s.AskAsync(AdminId, Slash("list"));
        Assert.Contains($"`{id}`", list.Content, StringComparison.Ordinal);
        Assert.Contains("no token gate · re-verify every 30 day(s)", list.Content, StringComparison.Ordinal);

        var gated = await _s.AskAsync(AdminId, Create(more: [Integer("reverify_after_days", 30), Text("token_address", Contract), Number("min_amount", 1)]));
        Assert.Contains("`reverify_after_days` is for verifications without a token gate", gated.Content, StringComparison.Ordinal);
        Assert.Single(_s.Walver.Requests);
    }

    [Fact]
    public async Task Tiers_are_refused_on_a_verification_without_a_gate_and_on_one_from_configuration()
    {
        var ungated = await CreateAsync();
        var noGate = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", ungated), Role("role", WhaleRoleId), Number("min_amount", 100)));
        Assert.Contains("has no token gate", noGate.Content, StringComparison.Ordinal);
        Assert.Empty((await Store.FindAsync(ungated))!.Tiers);

        var declared = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", BotScenario.VerificationId), Role("role", WhaleRoleId), Number("min_amount", 100)));
        Assert.Contains("declared in the bot's configuration", declared.Content, StringComparison.Ordinal);

        var elsewhere = await _s.AskAsync(AdminId, Slash("tiers", Text("verification", "wb_not_here"), Role("role", WhaleRoleId), Number("min_amount", 100)));
        Assert.Contains("There is no verification `wb_not_here` in this server", elsewhere.Content, StringComparison.Ordinal);
    }
}
