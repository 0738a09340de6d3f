using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Runs every shard of this process in one host: discovers the gateway with <c>GET /gateway/bot</c>,
/// picks the shard count (<see cref="DiscordOptions.ShardCount"/> or Discord's recommendation) and the
/// shards to run (<see cref="DiscordOptions.ShardIds"/> or all), and spaces their IDENTIFYs through one
/// <see cref="IdentifyGate"/>. The first shard that stops for good stops them all.
/// </summary>
internal sealed class DiscordGatewayClient(
    IOptions<DiscordOptions> options,
    IOptions<DiscordGatewayOptions> gatewayOptions,
    IDiscordRestClient rest,
    IGatewayTransportFactory transports,
    IReconnectStrategy reconnect,
    GatewayEventDispatcher dispatcher,
    GatewayStatus status,
    GatewayShardMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<DiscordGatewayClient>();
    private volatile RunningShards? _shards;

    /// <summary>Source of randomness for the shards (heartbeat jitter, op 9 wait); fixed in tests.</summary>
    internal Func<double>? Random { get; init; }

    /// <summary>
    /// The shard of this process that holds <paramref name="guildId"/>'s events, or null when the gateway has not
    /// started or another process runs that shard. Docs (events/gateway#sharding): shard_id = (guild_id >> 22) % num_shards.
    /// </summary>
    internal GatewayShard? ShardFor(ulong guildId)
    {
        if (_shards is not { } running)
        {
            return null;
        }

        var shardId = (int)((guildId >> 22) % (ulong)running.Count);
        return running.Shards.FirstOrDefault(s => s.ShardId == shardId);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var identify = gatewayOptions.Value;
        var gateway = await GetGatewayBotAsync(cancellationToken);
        var shardCount = settings.ShardCount ?? Math.Max(1, gateway.Shards);
        var shardIds = settings.ShardIds.Count > 0 ? settings.ShardIds.Distinct().Order().ToList() : [.. Enumerable.Range(0, shardCount)];
        if (shardCount < 1 || shardIds.Any(id => id < 0 || id >= shardCount))
        {
            throw new GatewayFatalException(
                $"Discord:ShardIds ({string.Join(", ", shardIds)}) does not fit Discord:ShardCount ({shardCount})",
                $"every shard id must be between 0 and {shardCount - 1}, and ShardCount at least 1.");
        }

        status.Start(shardIds);
        _logger.LogInformation(
            "Starting {ShardsHere} of {ShardCount} gateway shard(s) ({ShardIds}); {Remaining} of {Total} session starts left, max concurrency {MaxConcurrency}",
            shardIds.Count, shardCount, string.Join(", ", shardIds), gateway.SessionStartLimit.Remaining, gateway.SessionStartLimit.Total, gateway.SessionStartLimit.MaxConcurrency);

        var identifyGate = new IdentifyGate(gateway.SessionStartLimit, time, _logger);
        var gatewayUrl = new Uri(gateway.Url);
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var shards = shardIds
            .Select(id => new GatewayShard(
                new GatewayShardSettings(settings.Token, id, shardCount, gatewayUrl, identify.Intents, identify.Properties),
                transports, identifyGate, reconnect, dispatcher, status, metrics, time, _logger, Random))
            .ToList();
        _shards = new RunningShards(shardCount, shards);
        var running = shards.Select(shard => shard.RunAsync(stopAll.Token)).ToList();
        try
        {
            // Shards only end on cancellation or a fatal close; the first one to end decides for all.
            await await Task.WhenAny(running);
        }
        finally
        {
            await stopAll.CancelAsync();
            await Task.WhenAll(running.Select(async task =>
            {
                try
                {
                    await task;
                }
                catch (Exception)
                {
                    // The first ending shard's outcome is the one that is reported.
                }
            }));
        }
    }

    private async Task<GatewayBotInfo> GetGatewayBotAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await rest.GetGatewayBotAsync(cancellationToken);
            }
            catch (DiscordRestException ex) when (ex.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new GatewayFatalException("Discord rejected the bot token (GET /gateway/bot answered 401)",
                    GatewayCloseCodes.Advice(GatewayCloseCodes.AuthenticationFailed), ex);
            }
            catch (Exception ex) when (ex is DiscordRestException { IsTransient: true } or HttpRequestException)
            {
                var delay = (ex as DiscordRestException)?.RetryAfter ?? reconnect.GetDelay(attempt);
                _logger.LogWarning("Could not discover the Discord gateway ({Reason}); trying again in {Delay}", ex.Message, delay);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }
}

/// <summary>The shards this process runs, out of <paramref name="Count"/> in total.</summary>
internal sealed record RunningShards(int Count, IReadOnlyList<GatewayShard> Shards);
