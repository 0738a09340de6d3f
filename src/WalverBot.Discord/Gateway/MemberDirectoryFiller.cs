using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Sends the Request Guild Members (op 8) that fill the <see cref="MemberDirectory"/>: <c>query: ""</c>, <c>limit: 0</c>
/// (all members; docs: events/gateway-events#request-guild-members, which needs the GUILD_MEMBERS intent) with a nonce,
/// for each guild whose GUILD_CREATE arrived. Within Discord's limits: one fill at a time per shard (shards fill in
/// parallel, a shard's guilds one after the other), each send through the connection's send limit (120 per 60 s), and
/// at most one all-members request per guild every 30 s (docs, change log 2025-08-14 "Introducing Rate Limit When
/// Requesting All Guild Members"; a refusal arrives as RATE_LIMITED with <c>retry_after</c>, and is waited out).
/// </summary>
internal sealed class MemberDirectoryFiller(
    MemberDirectory directory,
    DiscordGatewayClient client,
    TimeProvider time,
    ILogger<MemberDirectoryFiller> logger) : BackgroundService
{
    private const int OpRequestGuildMembers = 8;

    /// <summary>Docs: one all-members request per guild per 30 seconds.</summary>
    internal static readonly TimeSpan PerGuildInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<int, SemaphoreSlim> _shardTurns = new();
    // Per guild and session: Discord's limit is "per guild per session", and a new session needs a fresh fill at once.
    private readonly ConcurrentDictionary<(ulong Guild, string? Session), DateTimeOffset> _lastRequest = new();

    /// <summary>A fill that receives no chunk for this long is given up and asked again.</summary>
    internal TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait before asking again when the guild's shard has no session.</summary>
    internal TimeSpan NoSessionRetry { get; init; } = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!directory.Enabled)
        {
            return;
        }

        var running = new List<Task>();
        try
        {
            await foreach (var guildId in directory.FillsWanted.ReadAllAsync(stoppingToken))
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(FillAsync(guildId, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running);
    }

    private async Task FillAsync(ulong guildId, CancellationToken cancellationToken)
    {
        try
        {
            await FillOnceAsync(guildId, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Never the process: the guild stays incomplete and lookups keep asking Discord.
            logger.LogWarning(ex, "Could not fill the member directory of guild {GuildId}; lookups there ask Discord", guildId);
        }
    }

    private async Task FillOnceAsync(ulong guildId, CancellationToken cancellationToken)
    {
        if (!directory.NeedsFill(guildId))
        {
            return;
        }

        if (client.ShardFor(guildId) is not { } shard)
        {
            Later(guildId, NoSessionRetry, cancellationToken);
            return;
        }

        var turn = _shardTurns.GetOrAdd(shard.ShardId, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(cancellationToken);
        try
        {
            var key = (guildId, shard.SessionId);
            if (_lastRequest.TryGetValue(key, out var last) && last + PerGuildInterval - time.GetUtcNow() is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            var nonce = Guid.NewGuid().ToString("N");
            if (directory.BeginFill(guildId, nonce) is not { } fill)
            {
                return;
            }

            var now = time.GetUtcNow();
            _lastRequest[(guildId, shard.SessionId)] = now;
            if (_lastRequest.Count > 1024)
            {
                // Entries of past sessions and long-past requests limit nothing any more.
                foreach (var old in _lastRequest.Where(e => now - e.Value >= PerGuildInterval).ToList())
                {
                    _lastRequest.TryRemove(old.Key, out _);
                }
            }

            var payload = JsonSerializer.Serialize(
                new GatewayCommand<RequestGuildMembersData>(OpRequestGuildMembers, new RequestGuildMembersData(guildId, nonce, Query: "", Limit: 0)),
                DiscordJsonContext.Default.GatewayCommandRequestGuildMembersData);
            if (!await shard.TrySendAsync(payload, cancellationToken))
            {
                directory.AbandonFill(guildId, fill);
                Later(guildId, NoSessionRetry, cancellationToken);
                return;
            }

            var outcome = await WaitAsync(fill, cancellationToken);
            switch (outcome)
            {
                case FillOutcome.RateLimited:
                    logger.LogInformation("Discord rate limited the member list request of guild {GuildId}; asking again in {RetryAfter}", guildId, fill.RetryAfter);
                    Later(guildId, fill.RetryAfter, cancellationToken);
                    break;
                case null:
                    logger.LogWarning("The member list of guild {GuildId} stopped arriving ({Chunks} chunk(s) in); asking again", guildId, fill.Seen.Count);
                    directory.AbandonFill(guildId, fill);
                    Later(guildId, TimeSpan.Zero, cancellationToken);
                    break;
            }
        }
        finally
        {
            turn.Release();
        }
    }

    /// <summary>The fill's outcome, or null when no chunk arrived for <see cref="StallTimeout"/>.</summary>
    private async Task<FillOutcome?> WaitAsync(MemberDirectory.FillHandle fill, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await fill.Done.WaitAsync(StallTimeout, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                if (time.GetElapsedTime(fill.Progress) >= StallTimeout)
                {
                    return null;
                }
            }
        }
    }

    private void Later(ulong guildId, TimeSpan delay, CancellationToken cancellationToken)
    {
        _ = AskLaterAsync();

        async Task AskLaterAsync()
        {
            try
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, time, cancellationToken);
                }

                directory.WantFill(guildId);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
