using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WalverBot.Discord;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;

namespace WalverBot.Bench;

/// <summary>
/// Bytes per member of the member directory alone, in this process: the managed heap after a forced full collection,
/// before and after one guild of <c>members</c> members is filled (GUILD_CREATE with its member_count, then chunks of
/// 1,000 as op 8 answers them; 12-character usernames, one role each from 5 role sets). No RSS, no runtime baseline.
/// </summary>
public static class DirectoryMicro
{
    public static void Run(int members, Action<string> line)
    {
        const ulong guildId = 1200000000000000001;
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();

        var directory = new MemberDirectory(Options.Create(new DiscordOptions { MemberDirectory = true }), TimeProvider.System,
            NullLogger<MemberDirectory>.Instance, meters);
        directory.Apply(new GuildCreateEvent(new GatewayGuild(guildId, "bench", 1, [], [], [], members)));
        _ = directory.BeginFill(guildId, "micro") ?? throw new InvalidOperationException("no fill");
        var chunks = (members + 999) / 1000;
        for (var c = 0; c < chunks; c++)
        {
            var chunk = Enumerable.Range(c * 1000, Math.Min(1000, members - c * 1000))
                .Select(i => new GuildMember(new DiscordUser(1_000_000_000_000_000UL + (ulong)i, $"member{i:D6}"), null, [1300000000000000000UL + (ulong)(i % 5)]))
                .ToArray();
            directory.Apply(new GuildMembersChunkEvent(guildId, chunk, c, chunks, [], "micro"));
        }

        var fill = clock.Elapsed;
        if (!directory.IsComplete(guildId))
        {
            throw new InvalidOperationException("the directory did not complete");
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(directory);
        line($"directory-micro: {members:N0} members applied in {fill.TotalSeconds:0.0} s; managed heap +{(after - before) / 1048576.0:0.0} MB "
            + $"= {(double)(after - before) / members:0.0} bytes per member held (after a full collection); {(double)allocated / members:0} bytes per member allocated during the fill (chunks included)");
    }
}
