using WalverBot.Testing.Http;

namespace WalverBot.Discord.Tests.Fakes;

/// <summary>Which queued faults one request takes: the rule every HTTP fake's pipeline applies.</summary>
public sealed class FakeFaultPlanTests
{
    private const string Path = "/users/@me";

    [Fact]
    public void A_fault_queued_for_two_requests_applies_once_to_each_of_the_next_two()
    {
        var plan = new FakeFaultPlan();
        var delay = FakeFault.Delay(TimeSpan.FromSeconds(1));
        plan.Add("GET", Path, delay, times: 2);
        plan.Add("GET", Path, FakeFault.Status(500), times: 1);

        // The first request takes the delay once, then the answer queued after it.
        var first = Request();
        Assert.True(plan.TryTake("GET", Path, first, out var firstDelay));
        Assert.Same(delay, firstDelay);
        Assert.True(plan.TryTake("GET", Path, first, out var firstAnswer));
        Assert.Equal(500, Assert.IsType<FakeStatusFault>(firstAnswer).StatusCode);
        Assert.False(plan.TryTake("GET", Path, first, out _));

        // The second request gets the delay's second turn; nothing is left for a third.
        var second = Request();
        Assert.True(plan.TryTake("GET", Path, second, out var secondDelay));
        Assert.Same(delay, secondDelay);
        Assert.False(plan.TryTake("GET", Path, second, out _));
        Assert.False(plan.TryTake("GET", Path, Request(), out _));
    }

    [Fact]
    public void Faults_apply_only_to_their_method_and_path()
    {
        var plan = new FakeFaultPlan();
        plan.Add("PUT", "/guilds/*/members/*/roles/*", FakeFault.Abort(), times: 1);

        Assert.False(plan.TryTake("GET", "/guilds/1/members/2/roles/3", Request(), out _));
        Assert.False(plan.TryTake("PUT", "/guilds/1/members/2", Request(), out _));
        Assert.True(plan.TryTake("PUT", "/guilds/1/members/2/roles/3", Request(), out var fault));
        Assert.IsType<FakeAbortFault>(fault);
    }

    private static HashSet<object> Request() => new(ReferenceEqualityComparer.Instance);
}
