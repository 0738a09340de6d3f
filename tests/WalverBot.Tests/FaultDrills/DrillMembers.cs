using System.Globalization;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;
using WalverBot.Tests.Hosting;

namespace WalverBot.Tests.FaultDrills;

/// <summary>Many members with a wallet each, so every webhook is its own member/role pair.</summary>
public static class DrillMembers
{
    /// <summary>Wallets are distinct and not signed: drills run with Security:Signatures=Off.</summary>
    public static readonly KeyValuePair<string, string?> SignaturesOff = new("Security:Signatures", "Off");

    public static string UserId(int i) => (1500000000000000000L + i).ToString(CultureInfo.InvariantCulture);

    public static string Username(int i) => $"member{i:D3}";

    public static void Seed(FakeDiscordServer discord, int count)
    {
        for (var i = 0; i < count; i++)
        {
            discord.AddMember(BotScenario.GuildId, new FakeMember(UserId(i), Username(i)));
        }
    }

    public static FakeWalverWebhook Webhook(int i) =>
        FakeWalverWebhook.For(BotScenario.VerificationId)
            .WithDiscord(Username(i))
            .WithSecret(BotScenario.Secret)
            .WithChain("ethereum")
            .WithWallet($"0x{i:x40}")
            .WithSignature($"0x{i:x130}");

    /// <summary>Role assignments the fake applied, per member, for the drill's role.</summary>
    public static Dictionary<string, int> AssignmentsPerMember(FakeDiscordServer discord) =>
        discord.RoleChanges
            .Where(c => c.Method == "PUT" && c.RoleId == BotScenario.HolderRoleId && c.UserId.StartsWith("15", StringComparison.Ordinal))
            .GroupBy(c => c.UserId)
            .ToDictionary(g => g.Key, g => g.Count());
}
