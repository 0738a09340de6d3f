using WalverBot.Discord.Gateway;
using WalverBot.Discord.Rest;
using WalverBot.Grants;

namespace WalverBot.Members;

/// <summary>
/// Finds the one member a query names. By id: one REST lookup. By username: Discord's REST member search, which
/// returns prefix matches of usernames <em>and</em> nicknames, at most 1,000, in an order it does not document; when
/// it comes back full without the exact username, the gateway's Request Guild Members with the same prefix
/// (usernames only, at most 100) is asked too. When both are full, the answer is <see cref="MemberMatcher.Result.Unresolved"/>:
/// the member may well be in the server, so the caller must say so rather than wait silently.
/// The gateway's member directory comes first: once a guild's directory is complete, a member it holds costs no
/// request at all (and carries its roles, so a role already held costs none either). Discord is asked only while the
/// directory is incomplete (filling after a new session) or turned off, and for a member it does not hold (one who joined
/// during a gap between sessions); then as above, and a pending grant when Discord does not know the member either.
/// </summary>
public sealed class MemberResolver(
    IDiscordRestClient discord, IGuildMemberRequests gateway, IMemberDirectory directory, Operations.BotMetrics metrics, ILogger<MemberResolver> logger)
{
    /// <summary>Docs (resources/guild#search-guild-members): limit 1-1000.</summary>
    public const int SearchLimit = 1000;

    /// <summary>Docs (events/gateway-events#request-guild-members): "Requesting a prefix ... will return a maximum of 100 members".</summary>
    public const int GatewayQueryLimit = 100;

    public async Task<MemberMatcher.Result> ResolveAsync(ulong guildId, MemberQuery query, CancellationToken cancellationToken)
    {
        if (FromDirectory(guildId, query) is { } known)
        {
            metrics.MemberLookedUp("directory");
            return known;
        }

        metrics.MemberLookedUp(directory.Enabled && directory.IsComplete(guildId) ? "discord_unknown_to_directory" : "discord");
        switch (query)
        {
            case MemberQuery.ById byId:
                var member = await discord.GetGuildMemberAsync(guildId, byId.UserId, cancellationToken);
                return member is null ? new MemberMatcher.Result.NotFound() : new MemberMatcher.Result.Found(member);
            case MemberQuery.ByUsername byName:
                return await ResolveUsernameAsync(guildId, byName, cancellationToken);
            default:
                throw new ArgumentOutOfRangeException(nameof(query));
        }
    }

    /// <summary>The directory's answer when it is complete for the guild and holds the member (or several of that name); else null.</summary>
    private MemberMatcher.Result? FromDirectory(ulong guildId, MemberQuery query)
    {
        switch (query)
        {
            case MemberQuery.ById byId when directory.TryGetMember(guildId, byId.UserId, out var member) && member is not null:
                return new MemberMatcher.Result.Found(member);
            case MemberQuery.ByUsername byName when directory.TryFindByUsername(guildId, byName.Username, out var candidates):
                // The same exactness rules as for Discord's search results (same username, legacy discriminator).
                var match = MemberMatcher.Match(byName, candidates);
                return match is MemberMatcher.Result.NotFound ? null : match;
            default:
                return null;
        }
    }

    private async Task<MemberMatcher.Result> ResolveUsernameAsync(ulong guildId, MemberQuery.ByUsername query, CancellationToken cancellationToken)
    {
        var candidates = await discord.SearchGuildMembersAsync(guildId, query.Username, SearchLimit, cancellationToken);
        var match = MemberMatcher.Match(query, candidates);
        if (match is not MemberMatcher.Result.NotFound || candidates.Count < SearchLimit)
        {
            // Fewer results than asked for means every prefix match was returned: an absent exact name is absent.
            return match;
        }

        // A full page without the name proves nothing: common prefixes, or nicknames chosen to crowd the member out.
        try
        {
            var byUsername = await gateway.SearchByUsernameAsync(guildId, query.Username, GatewayQueryLimit, cancellationToken);
            match = MemberMatcher.Match(query, byUsername.Members);
            if (match is not MemberMatcher.Result.NotFound || byUsername.Members.Count < GatewayQueryLimit)
            {
                return match;
            }

            return new MemberMatcher.Result.Unresolved(
                $"more than {GatewayQueryLimit} usernames (and {SearchLimit} usernames or nicknames) start with '{query.Username}', so Discord's searches cannot show whether that exact member is in the server; ask the member to type their user id");
        }
        catch (GatewayUnavailableException ex)
        {
            logger.LogWarning("Could not ask the gateway for members named {Username} in guild {GuildId}: {Reason}", query.Username, guildId, ex.Message);
            return new MemberMatcher.Result.Unresolved(
                $"more than {SearchLimit} members' usernames or nicknames start with '{query.Username}' and the gateway could not be asked ({ex.Message}); the bot checks again when its gateway session is back");
        }
    }
}
