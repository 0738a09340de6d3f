using WalverBot.Discord.Models;

namespace WalverBot.Grants;

/// <summary>Picks the one member whose username is exactly the typed one, from Discord's prefix search results.</summary>
public static class MemberMatcher
{
    public abstract record Result
    {
        private Result() { }

        public sealed record Found(GuildMember Member) : Result;

        public sealed record NotFound : Result;

        public sealed record Ambiguous(int Count) : Result;

        /// <summary>The searches could not show whether the member is in the server; <paramref name="Reason"/> says why.</summary>
        public sealed record Unresolved(string Reason) : Result;
    }

    public static Result Match(MemberQuery.ByUsername query, IEnumerable<GuildMember> candidates)
    {
        // Discord's search matches prefixes of usernames *and* nicknames; only an exact username counts here.
        var matches = candidates
            .Where(m => MemberQuery.SameUsername(m.User.Username, query.Username))
            .Where(m => query.Discriminator is null || DiscriminatorMatches(m.User.Discriminator, query.Discriminator))
            .DistinctBy(m => m.User.Id)
            .ToList();

        return matches.Count switch
        {
            0 => new Result.NotFound(),
            1 => new Result.Found(matches[0]),
            _ => new Result.Ambiguous(matches.Count),
        };
    }

    /// <summary>
    /// Migrated accounts have discriminator "0" and a unique username, so a typed legacy "#1234" still names
    /// them exactly; an account that was never migrated must match its discriminator.
    /// </summary>
    private static bool DiscriminatorMatches(string? actual, string typed) =>
        actual is null or "0" or "" || actual == typed;
}
