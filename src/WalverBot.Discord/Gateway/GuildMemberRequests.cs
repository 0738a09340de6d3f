using System.Collections.Concurrent;
using System.Text.Json;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>The members a Request Guild Members (op 8) found, with the requested user ids that are not members.</summary>
/// <param name="Members">Every member sent, over all chunks.</param>
/// <param name="NotFound">Requested user ids that are not in the guild (empty for a username query).</param>
public sealed record GuildMembersAnswer(IReadOnlyList<GuildMember> Members, IReadOnlyList<ulong> NotFound);

/// <summary>
/// Asks Discord for guild members over the gateway (op 8 Request Guild Members,
/// https://discord.com/developers/docs/events/gateway-events#request-guild-members) and gathers the
/// GUILD_MEMBERS_CHUNK answers. Costs no REST requests: it counts against the session's 120 sends per minute,
/// and one request looks up to 100 user ids at once.
/// </summary>
public interface IGuildMemberRequests
{
    /// <summary>The members among <paramref name="userIds"/> (at most 100).</summary>
    /// <exception cref="GatewayUnavailableException">The guild's shard has no ready session, or the answer did not arrive in time.</exception>
    Task<GuildMembersAnswer> RequestByIdsAsync(ulong guildId, IReadOnlyCollection<ulong> userIds, CancellationToken cancellationToken);

    /// <summary>
    /// Members whose <em>username</em> starts with <paramref name="usernamePrefix"/> (case-insensitive; nicknames are
    /// not searched), at most <paramref name="limit"/> (1 to 100).
    /// </summary>
    /// <exception cref="GatewayUnavailableException">The guild's shard has no ready session, or the answer did not arrive in time.</exception>
    Task<GuildMembersAnswer> SearchByUsernameAsync(ulong guildId, string usernamePrefix, int limit, CancellationToken cancellationToken);
}

/// <summary>A gateway request could not be made or was not answered; the caller may try again later.</summary>
public sealed class GatewayUnavailableException : Exception
{
    /// <summary>Creates the exception with a message saying what was not possible.</summary>
    public GatewayUnavailableException(string message)
        : base(message)
    {
    }
}

/// <summary>The op 8 client: sends on the guild's shard and completes when every chunk of its nonce has arrived.</summary>
internal sealed class GuildMemberRequests(DiscordGatewayClient client, TimeProvider time) : IGuildMemberRequests
{
    /// <summary>Docs: "Requesting user_ids will continue to be limited to returning 100 members".</summary>
    public const int MaxUserIds = 100;

    /// <summary>Docs: "Requesting a prefix (query parameter) will return a maximum of 100 members".</summary>
    public const int MaxQueryLimit = 100;

    private const int OpRequestGuildMembers = 8;

    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new();

    /// <summary>How long the chunks may take; Discord answers within moments on a live session.</summary>
    internal TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public Task<GuildMembersAnswer> RequestByIdsAsync(ulong guildId, IReadOnlyCollection<ulong> userIds, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(userIds.Count, nameof(userIds));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(userIds.Count, MaxUserIds, nameof(userIds));
        return RequestAsync(guildId, nonce => new RequestGuildMembersData(guildId, nonce, UserIds: [.. userIds]), cancellationToken);
    }

    public Task<GuildMembersAnswer> SearchByUsernameAsync(ulong guildId, string usernamePrefix, int limit, CancellationToken cancellationToken)
    {
        // An empty query asks for the whole member list, which Discord rate limits per guild; never send one by accident.
        ArgumentException.ThrowIfNullOrEmpty(usernamePrefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxQueryLimit);
        return RequestAsync(guildId, nonce => new RequestGuildMembersData(guildId, nonce, Query: usernamePrefix, Limit: limit), cancellationToken);
    }

    /// <summary>Takes one chunk; chunks of requests that already gave up (or of other clients) are ignored.</summary>
    public void OnChunk(GuildMembersChunkEvent chunk)
    {
        if (chunk.Nonce is { } nonce && _pending.TryGetValue(nonce, out var request) && request.GuildId == chunk.GuildId)
        {
            request.Add(chunk);
        }
    }

    private async Task<GuildMembersAnswer> RequestAsync(ulong guildId, Func<string, RequestGuildMembersData> payload, CancellationToken cancellationToken)
    {
        var shard = client.ShardFor(guildId)
            ?? throw new GatewayUnavailableException($"no gateway shard of this process holds guild {guildId}");

        // Docs: a nonce "can only be up to 32 bytes"; 32 hex digits are.
        var nonce = Guid.NewGuid().ToString("N");
        var request = new PendingRequest(guildId);
        _pending[nonce] = request;
        try
        {
            bool sent;
            try
            {
                // Not under the answer's timeout: the send may wait its turn in the connection's send limit.
                sent = await shard.TrySendAsync(
                    JsonSerializer.Serialize(new GatewayCommand<RequestGuildMembersData>(OpRequestGuildMembers, payload(nonce)), DiscordJsonContext.Default.GatewayCommandRequestGuildMembersData),
                    cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new GatewayUnavailableException($"sending on shard {shard.ShardId} failed: {ex.Message}");
            }

            if (!sent)
            {
                throw new GatewayUnavailableException($"shard {shard.ShardId} has no ready gateway session");
            }

            try
            {
                return await request.Completed.WaitAsync(Timeout, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new GatewayUnavailableException($"Discord did not answer a member request for guild {guildId} within {Timeout.TotalSeconds:0} s");
            }
        }
        finally
        {
            _pending.TryRemove(nonce, out _);
        }
    }

    private sealed class PendingRequest(ulong guildId)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<int, GuildMembersChunkEvent> _chunks = [];
        private readonly TaskCompletionSource<GuildMembersAnswer> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ulong GuildId { get; } = guildId;

        public Task<GuildMembersAnswer> Completed => _done.Task;

        // Chunk handlers may run concurrently and out of order; the answer is whole once every index has arrived.
        public void Add(GuildMembersChunkEvent chunk)
        {
            lock (_lock)
            {
                _chunks[chunk.ChunkIndex] = chunk;
                if (_chunks.Count < Math.Max(1, chunk.ChunkCount))
                {
                    return;
                }

                var ordered = _chunks.OrderBy(c => c.Key).Select(c => c.Value).ToList();
                _done.TrySetResult(new GuildMembersAnswer(
                    [.. ordered.SelectMany(c => c.Members)],
                    [.. ordered.SelectMany(c => c.NotFound).Distinct()]));
            }
        }
    }
}

/// <summary>Hands GUILD_MEMBERS_CHUNK events to the request that is waiting for them.</summary>
internal sealed class GuildMembersChunkHandler(GuildMemberRequests requests) : IGatewayEventHandler<GuildMembersChunkEvent>
{
    public Task HandleAsync(GuildMembersChunkEvent gatewayEvent, CancellationToken cancellationToken)
    {
        requests.OnChunk(gatewayEvent);
        return Task.CompletedTask;
    }
}
