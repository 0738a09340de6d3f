using System.Collections.Concurrent;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Grants;

/// <summary>What role-safety checks need to know about a guild: its roles and the roles the bot holds.</summary>
public sealed record GuildRoleView(IReadOnlyCollection<DiscordRole> Roles, IReadOnlyCollection<ulong> BotRoleIds);

/// <summary>Supplies <see cref="GuildRoleView"/>s for role-safety checks.</summary>
public interface IGuildRoleSource
{
    Task<GuildRoleView> GetAsync(ulong guildId, CancellationToken cancellationToken);

    /// <summary>Forget what is known of a guild (after Discord said Missing Permissions, for example).</summary>
    void Invalidate(ulong guildId);
}

/// <summary>Reads roles through REST and keeps them a short while, so a burst of grants costs few calls.</summary>
public sealed class RestGuildRoleSource(IDiscordRestClient discord, TimeProvider time) : IGuildRoleSource
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private readonly ConcurrentDictionary<ulong, (GuildRoleView View, DateTimeOffset FetchedAt)> _cache = new();
    private DiscordUser? _botUser;

    public async Task<GuildRoleView> GetAsync(ulong guildId, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(guildId, out var cached) && time.GetUtcNow() - cached.FetchedAt < Lifetime)
        {
            return cached.View;
        }

        _botUser ??= await discord.GetCurrentUserAsync(cancellationToken);
        var roles = await discord.GetGuildRolesAsync(guildId, cancellationToken);
        var botMember = await discord.GetGuildMemberAsync(guildId, _botUser.Id, cancellationToken);
        var view = new GuildRoleView(roles, botMember?.Roles ?? []);
        _cache[guildId] = (view, time.GetUtcNow());
        return view;
    }

    public void Invalidate(ulong guildId) => _cache.TryRemove(guildId, out _);
}
