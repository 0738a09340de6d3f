using WalverBot.Commands;
using WalverBot.Grants;

namespace WalverBot.Tests.Commands;

public sealed class AdminNoticeTests
{
    [Theory]
    [InlineData(Outcomes.Granted, true)]
    [InlineData(Outcomes.WalletConflict, true)]
    [InlineData(Outcomes.RoleUnsafe, true)]
    [InlineData(Outcomes.DiscordError, true)]
    [InlineData(Outcomes.RejectedSignature, true)]
    [InlineData(Outcomes.Duplicate, false)]
    [InlineData(Outcomes.PendingMember, false)]
    [InlineData(Outcomes.UnresolvedMember, true)] // the member may be in the server already: the admin must ask for the id
    [InlineData(Outcomes.BotAccount, true)]
    [InlineData(Outcomes.NotPassed, false)]
    public void Grants_and_problems_for_admins_are_notable_repeats_and_member_mistakes_are_not(string outcome, bool notable) =>
        Assert.Equal(notable, AdminNoticeText.IsNotable(outcome));

    [Fact]
    public void Notices_are_one_line_with_member_wallet_and_verification()
    {
        var granted = AdminNoticeText.Format(new DecisionNotice(1, "wb_1", 42, "0x12…abcd", new Decision(Outcomes.Granted, "wallet verified; role assigned")));
        var problem = AdminNoticeText.Format(new DecisionNotice(1, "wb_1", null, null, Decision.Reject(Outcomes.RoleUnsafe, "the role is @everyone")));

        Assert.Equal("✅ <@42> (wallet `0x12…abcd`) verified through `wb_1`: wallet verified; role assigned.", granted);
        Assert.Equal("⚠️ `role_unsafe` for a member through `wb_1`: the role is @everyone.", problem);
    }

    [Fact]
    public void Only_notable_decisions_are_queued()
    {
        var notifier = new LogChannelNotifier();

        notifier.DecisionRecorded(new DecisionNotice(1, "v", 2, null, new Decision(Outcomes.Duplicate, "again")));
        notifier.DecisionRecorded(new DecisionNotice(1, "v", 2, null, new Decision(Outcomes.Granted, "ok")));

        Assert.True(notifier.Reader.TryRead(out var queued));
        Assert.Equal(Outcomes.Granted, queued.Decision.Outcome);
        Assert.False(notifier.Reader.TryRead(out _));
    }
}
