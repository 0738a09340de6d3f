using WalverBot.Grants;
using WalverBot.Tests.Hosting;
using static WalverBot.Tests.Holdings.HoldingsScenario;

namespace WalverBot.Tests.Holdings;

/// <summary>At grant time the bot reads the chain itself when it can: the payload's "passed" is necessary, not sufficient.</summary>
public sealed class GrantTimeChainTests
{
    private const string Alice = BotScenario.AliceId;

    [Fact]
    public async Task A_payload_claiming_more_than_the_chain_shows_is_a_token_mismatch_with_both_figures()
    {
        await using var s = await StartAsync();
        s.Chain.Block = 4242;
        var decision = await s.GrantAsync("alice", Alice, Wallet(1), onChain: 3m, claimed: 50m);

        Assert.Equal(Outcomes.TokenMismatch, decision.Outcome);
        Assert.Contains("claims 50", decision.Reason);
        Assert.Contains("chain shows 3 at block/slot 4242", decision.Reason);
        Assert.Equal(0, s.Bot.RolePuts(Alice));
    }

    [Fact]
    public async Task The_tiers_the_chain_shows_are_granted_whatever_the_payload_says()
    {
        await using var s = await StartAsync();
        var decision = await s.GrantAsync("alice", Alice, Wallet(1), onChain: 250m, claimed: 2m);

        Assert.Equal(Outcomes.Granted, decision.Outcome);
        Assert.Superset(new HashSet<string> { BotScenario.HolderRoleId, WhaleRoleId }, s.RolesOf(Alice));
    }

    [Fact]
    public async Task A_chain_read_error_at_grant_time_is_retried_never_a_rejection_nor_a_grant_on_the_payload()
    {
        await using var s = await StartAsync();
        s.Chain.SetAmount(Wallet(1), 5m);
        s.Chain.Fail("timeout", times: 1);
        Assert.Equal(200, (await s.VerifyAsync("alice", Wallet(1), 5m)).Status);

        // The first read fails: no decision yet, no role; the retry (backoff 2 s) reads and grants.
        var decision = await s.WaitForDecisionAsync(Alice, 1);
        Assert.Equal(Outcomes.Granted, decision.Outcome);
        Assert.Single(await s.DecisionsAsync(Alice));
        Assert.True(s.Chain.Calls >= 2);
        s.Bot.AssertOneRolePut(Alice);
    }

    [Fact]
    public async Task Without_an_RPC_endpoint_the_payloads_token_check_decides_as_before()
    {
        await using var s = await StartAsync();
        s.Chain.SetUnreadable("ethereum");
        var decision = await s.GrantAsync("alice", Alice, Wallet(1), onChain: 0m, claimed: 5m);

        Assert.Equal(Outcomes.Granted, decision.Outcome);
        Assert.Equal(0, s.Chain.Calls);
        Assert.Contains(BotScenario.HolderRoleId, s.RolesOf(Alice));
        Assert.DoesNotContain(WhaleRoleId, s.RolesOf(Alice));
    }
}
