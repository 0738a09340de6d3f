using WalverBot.Discord;
using WalverBot.Discord.Rest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WalverBot.Testing.FakeDiscord;

namespace WalverBot.Discord.Tests.Contract;

/// <summary>The real REST client against the fake Discord server: both were written from Discord's docs, separately.</summary>
public sealed class FakeAndClientAgreeTests : IAsyncLifetime
{
    private const string Guild = "1200000000000000001";
    private FakeDiscordServer _discord = null!;
    private ServiceProvider _services = null!;
    private IDiscordRestClient _client = null!;

    public async Task InitializeAsync()
    {
        _discord = await FakeDiscordServer.StartAsync();
        _discord.AddGuild(Guild, "Guild");
        _discord.AddRole(Guild, new FakeRole("1300000000000000010", "Holder", 1, "1024"));
        _discord.AddRole(Guild, new FakeRole("1300000000000000050", "Bot", 5, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles), Managed: true));
        _discord.SetBotRoles(Guild, "1300000000000000050");
        _discord.AddMember(Guild, new FakeMember("1400000000000000001", "alice") { GlobalName = "Alice", Nick = "Al", Roles = ["1300000000000000010"] });
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(Options.Create(new DiscordOptions { Token = _discord.Token, ApiBaseUrl = _discord.ApiBaseUrl }))
            .AddDiscordRest()
            .BuildServiceProvider();
        _client = _services.GetRequiredService<IDiscordRestClient>();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _discord.DisposeAsync();
    }

    [Fact]
    public async Task Members_roles_and_the_bot_user_read_back_as_seeded()
    {
        var found = Assert.Single(await _client.SearchGuildMembersAsync(ulong.Parse(Guild), "ali", 100, CancellationToken.None));
        var member = await _client.GetGuildMemberAsync(ulong.Parse(Guild), 1400000000000000001, CancellationToken.None);
        var roles = await _client.GetGuildRolesAsync(ulong.Parse(Guild), CancellationToken.None);
        var me = await _client.GetCurrentUserAsync(CancellationToken.None);

        Assert.Equal("alice", found.User.Username);
        Assert.Equal("Al", member!.Nick);
        Assert.Equal([1300000000000000010UL], member.Roles);
        Assert.Contains(roles, r => r.Name == "Holder" && r.Permissions == Discord.Models.DiscordPermissions.ViewChannel);
        Assert.Equal(ulong.Parse(_discord.BotUserId), me.Id);
        Assert.Null(await _client.GetGuildMemberAsync(ulong.Parse(Guild), 1400000000000000099, CancellationToken.None));
    }

    [Fact]
    public async Task A_role_assignment_reaches_the_fake_with_its_audit_reason()
    {
        await _client.AddGuildMemberRoleAsync(ulong.Parse(Guild), 1400000000000000001, 1300000000000000010, "WalverBot: wallet 0xAbC…1234 verified", CancellationToken.None);

        var change = Assert.Single(_discord.RoleChanges);
        Assert.Equal("WalverBot: wallet 0xAbC…1234 verified", change.AuditLogReason);
    }
}
