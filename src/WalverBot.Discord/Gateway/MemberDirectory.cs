using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Every member of the bot's guilds as the gateway reported them: user id, username (legacy discriminator and bot
/// flag) and role ids, filled by Request Guild Members (op 8, all members) after each GUILD_CREATE and kept current by
/// GUILD_MEMBER_ADD/UPDATE/REMOVE. Nicknames and display names are not kept: they never identify a member.
/// A guild's answers count only once its directory is <em>complete</em> (every chunk of its last fill arrived in the
/// current session); before that every lookup says "not known" so the caller asks Discord instead.
/// </summary>
public interface IMemberDirectory
{
    /// <summary>False when the operator turned the directory off (<c>Discord:MemberDirectory=false</c>).</summary>
    bool Enabled { get; }

    /// <summary>True when the guild's directory holds every member.</summary>
    bool IsComplete(ulong guildId);

    /// <summary>
    /// The member with <paramref name="userId"/>, or null when the guild does not have it. Returns false (and nothing)
    /// when the guild's directory is not complete, so absence proves nothing.
    /// </summary>
    bool TryGetMember(ulong guildId, ulong userId, out GuildMember? member);

    /// <summary>
    /// The members whose username equals <paramref name="username"/> (A-Z compared case-insensitively, every other
    /// character exactly; several only for legacy accounts that share a name with different discriminators). Returns
    /// false when the guild's directory is not complete.
    /// </summary>
    bool TryFindByUsername(ulong guildId, string username, out IReadOnlyList<GuildMember> members);

    /// <summary>Guilds held, complete ones and members over all guilds, for metrics and the log.</summary>
    MemberDirectoryStats Stats { get; }
}

/// <summary>A count of what the directory holds.</summary>
/// <param name="Guilds">Guilds the directory knows.</param>
/// <param name="CompleteGuilds">Guilds whose member list is complete.</param>
/// <param name="Members">Members held over all guilds.</param>
public sealed record MemberDirectoryStats(int Guilds, int CompleteGuilds, long Members);

/// <summary>Names of the directory's metrics, on the <see cref="DiscordMetrics.MeterName"/> meter.</summary>
public static class MemberDirectoryMetrics
{
    /// <summary>Gauge of guilds in the directory, tagged <c>state</c> (complete, incomplete).</summary>
    public const string Guilds = "walverbot.discord.member_directory.guilds";

    /// <summary>Gauge of members held over all guilds.</summary>
    public const string Members = "walverbot.discord.member_directory.members";
}

/// <summary>How a fill (one op 8 for all members of a guild) ended.</summary>
internal enum FillOutcome
{
    /// <summary>Every chunk of the nonce arrived: the guild is complete.</summary>
    Completed,

    /// <summary>Discord answered RATE_LIMITED; ask again after the fill's <see cref="MemberDirectory.FillHandle.RetryAfter"/>.</summary>
    RateLimited,

    /// <summary>A new GUILD_CREATE, READY or GUILD_DELETE replaced the guild; its chunks will not come on this session.</summary>
    Superseded,
}

/// <summary>
/// The in-memory <see cref="IMemberDirectory"/>. Applied by the event dispatcher in each shard's sequence order (like
/// <see cref="GuildCache"/>), read from any thread under one lock per guild. Compact by design, for guilds of a
/// million members: each guild's members in a <see cref="MemberTable"/> (about 50 bytes a member), role lists interned
/// per guild (most members share a handful of role sets).
/// </summary>
internal sealed class MemberDirectory : IMemberDirectory
{
    // A guild whose members hold more distinct role sets than this stops interning new ones (each then keeps its own).
    private const int MaxInternedRoleSets = 50_000;

    // Members in a completed fill above which its garbage is handed back to the OS at once.
    private const int LargeFill = 100_000;

    private readonly ConcurrentDictionary<ulong, GuildMembers> _guilds = new();
    private readonly Channel<ulong> _wanted = Channel.CreateUnbounded<ulong>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public MemberDirectory(IOptions<DiscordOptions> options, TimeProvider time, ILogger<MemberDirectory> logger, IMeterFactory meters)
    {
        Enabled = options.Value.MemberDirectory;
        _time = time;
        _logger = logger;
        var meter = meters.Create(DiscordMetrics.MeterName);
        meter.CreateObservableGauge(MemberDirectoryMetrics.Guilds, () =>
        {
            var stats = Stats;
            return new[]
            {
                new Measurement<int>(stats.CompleteGuilds, new KeyValuePair<string, object?>("state", "complete")),
                new Measurement<int>(stats.Guilds - stats.CompleteGuilds, new KeyValuePair<string, object?>("state", "incomplete")),
            };
        }, "{guild}", "Guilds in the member directory, by whether their member list is complete.");
        meter.CreateObservableGauge(MemberDirectoryMetrics.Members, () => Stats.Members, "{member}", "Members held in the member directory.");
    }

    public bool Enabled { get; }

    /// <summary>Guilds whose directory needs a fill, in the order their GUILD_CREATE arrived.</summary>
    internal ChannelReader<ulong> FillsWanted => _wanted.Reader;

    public MemberDirectoryStats Stats
    {
        get
        {
            int guilds = 0, complete = 0;
            long members = 0;
            foreach (var guild in _guilds.Values)
            {
                lock (guild.Gate)
                {
                    guilds++;
                    complete += guild.Complete ? 1 : 0;
                    members += guild.Members.Count;
                }
            }

            return new MemberDirectoryStats(guilds, complete, members);
        }
    }

    public bool IsComplete(ulong guildId)
    {
        if (_guilds.TryGetValue(guildId, out var guild))
        {
            lock (guild.Gate)
            {
                return guild.Complete;
            }
        }

        return false;
    }

    public bool TryGetMember(ulong guildId, ulong userId, out GuildMember? member)
    {
        member = null;
        if (!_guilds.TryGetValue(guildId, out var guild))
        {
            return false;
        }

        lock (guild.Gate)
        {
            if (!guild.Complete)
            {
                return false;
            }

            member = guild.Members.Get(userId);
            return true;
        }
    }

    public bool TryFindByUsername(ulong guildId, string username, out IReadOnlyList<GuildMember> members)
    {
        members = [];
        if (!_guilds.TryGetValue(guildId, out var guild))
        {
            return false;
        }

        lock (guild.Gate)
        {
            if (!guild.Complete)
            {
                return false;
            }

            members = guild.Members.FindByUsername(username);
            return true;
        }
    }

    /// <summary>Applies one gateway event; called by the dispatcher in its shard's sequence order.</summary>
    public void Apply(GatewayEvent gatewayEvent)
    {
        if (!Enabled)
        {
            return;
        }

        switch (gatewayEvent)
        {
            case ReadyEvent ready:
                // A new session: events between the old session's end and now are lost (a RESUMED session replays them
                // instead, so only READY drops the guilds). Each guild is rebuilt from its GUILD_CREATE.
                foreach (var guildId in ready.GuildIds)
                {
                    Drop(guildId);
                }

                break;
            case GuildCreateEvent { Guild: var g }:
                Drop(g.Id);
                var fresh = new GuildMembers(g.MemberCount is > 0 and var count ? Math.Min(count, 10_000_000) : 0);
                lock (fresh.Gate)
                {
                    // Docs (events/gateway-events#guild-create): without the presence intent, or over 75k members, these
                    // are only the bot and members in voice channels; the rest comes from the fill.
                    foreach (var member in g.Members)
                    {
                        fresh.Upsert(member);
                    }
                }

                _guilds[g.Id] = fresh;
                _wanted.Writer.TryWrite(g.Id);
                break;
            case GuildDeleteEvent delete:
                // Removed, or in an outage: either way its member events stop; a later GUILD_CREATE rebuilds it.
                Drop(delete.GuildId);
                break;
            case GuildMemberAddEvent add:
                Change(add.GuildId, add.Member.User.Id, guild => guild.Upsert(add.Member));
                break;
            case GuildMemberUpdateEvent update:
                // Docs (events/gateway-events#guild-member-update): also sent for the bot's own role PUT/DELETE, with the
                // full role list. Those are learnt here rather than from the REST answer, which races the gateway: applied
                // after a newer event for the member it would leave a role already taken away, and a grant skipped for it.
                Change(update.GuildId, update.Member.User.Id, guild => guild.Upsert(update.Member));
                break;
            case GuildMemberRemoveEvent remove:
                Change(remove.GuildId, remove.User.Id, guild => guild.Remove(remove.User.Id));
                break;
            case GuildMembersChunkEvent chunk:
                OnChunk(chunk);
                break;
            case GatewayRateLimitedEvent { Opcode: 8, GuildId: { } guildId, Nonce: { } nonce } limited:
                if (_guilds.TryGetValue(guildId, out var limitedGuild))
                {
                    lock (limitedGuild.Gate)
                    {
                        if (limitedGuild.Fill is { } fill && fill.Nonce == nonce)
                        {
                            limitedGuild.Fill = null;
                            fill.RetryAfter = limited.RetryAfter;
                            fill.End(FillOutcome.RateLimited);
                        }
                    }
                }

                break;
        }
    }

    /// <summary>
    /// Starts a fill of <paramref name="guildId"/> with <paramref name="nonce"/>; null when the guild is gone or needs
    /// none (complete, or a fill is running).
    /// </summary>
    internal FillHandle? BeginFill(ulong guildId, string nonce)
    {
        if (!_guilds.TryGetValue(guildId, out var guild))
        {
            return null;
        }

        lock (guild.Gate)
        {
            if (guild.Complete || guild.Fill is not null)
            {
                return null;
            }

            guild.Fill = new FillHandle(nonce, _time.GetTimestamp());
            return guild.Fill;
        }
    }

    /// <summary>Gives up a fill whose request was not sent or not answered; the guild stays incomplete.</summary>
    internal void AbandonFill(ulong guildId, FillHandle fill)
    {
        if (_guilds.TryGetValue(guildId, out var guild))
        {
            lock (guild.Gate)
            {
                if (guild.Fill == fill)
                {
                    guild.Fill = null;
                }
            }
        }

        fill.End(FillOutcome.Superseded);
    }

    /// <summary>True while the guild is known and incomplete with no fill running.</summary>
    internal bool NeedsFill(ulong guildId)
    {
        if (!_guilds.TryGetValue(guildId, out var guild))
        {
            return false;
        }

        lock (guild.Gate)
        {
            return !guild.Complete && guild.Fill is null;
        }
    }

    /// <summary>Asks for a fill of <paramref name="guildId"/> again (after a refusal, a timeout or no session).</summary>
    internal void WantFill(ulong guildId) => _wanted.Writer.TryWrite(guildId);

    private void OnChunk(GuildMembersChunkEvent chunk)
    {
        if (chunk.Nonce is not { } nonce || !_guilds.TryGetValue(chunk.GuildId, out var guild))
        {
            return;
        }

        FillHandle? completed = null;
        int members;
        lock (guild.Gate)
        {
            // Chunks of other requests (prefix and id lookups) are answers to someone else, not the member list.
            if (guild.Fill is not { } fill || fill.Nonce != nonce
                || chunk.ChunkCount < 1 || chunk.ChunkIndex < 0 || chunk.ChunkIndex >= chunk.ChunkCount)
            {
                return;
            }

            if (!fill.Seen.Add(chunk.ChunkIndex))
            {
                return;
            }

            fill.Progress = _time.GetTimestamp();
            foreach (var member in chunk.Members)
            {
                // A member event that arrived after the fill began is newer than any chunk (which is a snapshot taken
                // when Discord read the request), so it wins: a join, rename or leave during the chunking stays.
                if (!fill.Touched.Contains(member.User.Id))
                {
                    guild.Upsert(member);
                }
            }

            // Docs (events/gateway-events#guild-members-chunk): chunk_index 0 ≤ i < chunk_count; the list is whole once
            // every index of the nonce has arrived, in whatever order.
            if (fill.Seen.Count < chunk.ChunkCount)
            {
                return;
            }

            guild.Fill = null;
            guild.Complete = true;
            guild.Trim();
            members = guild.Members.Count;
            completed = fill;
        }

        _logger.LogInformation("Member directory of guild {GuildId} is complete: {Members} members in {Chunks} chunk(s), {Elapsed:0.0} s after the request",
            chunk.GuildId, members, chunk.ChunkCount, _time.GetElapsedTime(completed.Started).TotalSeconds);
        completed.End(FillOutcome.Completed);
        if (members >= LargeFill)
        {
            // A big fill leaves hundreds of MB of parsed chunks behind in a heap the GC keeps for reuse; one compacting
            // collection hands it back to the OS, so the process's RSS is the directory, not the fill's garbage.
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }

    private void Change(ulong guildId, ulong userId, Action<GuildMembers> change)
    {
        if (!_guilds.TryGetValue(guildId, out var guild))
        {
            return;
        }

        lock (guild.Gate)
        {
            guild.Fill?.Touched.Add(userId);
            change(guild);
        }
    }

    private void Drop(ulong guildId)
    {
        if (_guilds.TryRemove(guildId, out var old))
        {
            FillHandle? fill;
            lock (old.Gate)
            {
                fill = old.Fill;
                old.Fill = null;
                old.Complete = false;
            }

            fill?.End(FillOutcome.Superseded);
        }
    }

    /// <summary>One running fill: its nonce, the chunk indexes seen and the members changed by events meanwhile.</summary>
    internal sealed class FillHandle(string nonce, long started)
    {
        private readonly TaskCompletionSource<FillOutcome> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Nonce { get; } = nonce;

        public long Started { get; } = started;

        /// <summary>Timestamp (of the directory's clock) of the last chunk; a fill that stops progressing is given up.</summary>
        public long Progress { get; set; } = started;

        public HashSet<int> Seen { get; } = [];

        public HashSet<ulong> Touched { get; } = [];

        public TimeSpan RetryAfter { get; set; }

        public Task<FillOutcome> Done => _done.Task;

        public void End(FillOutcome outcome) => _done.TrySetResult(outcome);
    }

    /// <summary>One guild's members (a compact <see cref="MemberTable"/>), its fill state and its interned role lists.</summary>
    private sealed class GuildMembers(int capacity)
    {
        public Lock Gate { get; } = new();

        public MemberTable Members { get; } = new(capacity);

        public bool Complete { get; set; }

        public FillHandle? Fill { get; set; }

        private readonly Dictionary<ulong[], ulong[]> _roleSets = new(RoleSetComparer.Instance);

        public void Upsert(GuildMember member) =>
            Members.Upsert(member.User.Id, member.User.Username, ParseDiscriminator(member.User.Discriminator), member.User.Bot, Intern(member.Roles));

        public void Remove(ulong userId) => Members.Remove(userId);

        /// <summary>The fill's growth room and the interning table's are only needed while members arrive in bulk.</summary>
        public void Trim()
        {
            Members.Trim();
            _roleSets.TrimExcess();
        }

        private ulong[] Intern(IReadOnlyList<ulong> roles)
        {
            if (roles.Count == 0)
            {
                return [];
            }

            var sorted = roles.Distinct().Order().ToArray();
            if (_roleSets.TryGetValue(sorted, out var shared))
            {
                return shared;
            }

            if (_roleSets.Count >= MaxInternedRoleSets)
            {
                // Members with unusually varied roles: stop growing the table, each keeps its own array.
                return sorted;
            }

            _roleSets[sorted] = sorted;
            return sorted;
        }

        private static ushort ParseDiscriminator(string? discriminator) =>
            ushort.TryParse(discriminator, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= 9999 ? value : (ushort)0;
    }

    /// <summary>Role sets compared by content (they are stored sorted and distinct).</summary>
    private sealed class RoleSetComparer : IEqualityComparer<ulong[]>
    {
        public static readonly RoleSetComparer Instance = new();

        public bool Equals(ulong[]? x, ulong[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(ulong[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(obj.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
