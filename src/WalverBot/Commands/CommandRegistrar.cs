using System.Globalization;
using Microsoft.Extensions.Options;
using WalverBot.Discord;
using WalverBot.Discord.Gateway;
using WalverBot.Discord.Models;
using WalverBot.Discord.Rest;
using WalverBot.ScaleOut;

namespace WalverBot.Commands;

/// <summary>
/// Registers the slash commands with a bulk overwrite: globally, or only in <c>Discord:CommandGuildIds</c> (which
/// update instantly while setting up). A scope is overwritten only when the definitions' hash differs from the
/// one stored in SQLite, so restarts and reconnects cost no calls; scopes no longer wanted are emptied. Only the
/// instance holding <see cref="OnceOnlyJobs.CommandRegistration"/> registers; another one that takes the job over later
/// registers then (<see cref="CommandRegistrationJob"/>) with the application id its own READY gave.
/// </summary>
public sealed class CommandRegistrar(
    IDiscordRestClient discord,
    CommandStore store,
    IOptions<SlashCommandOptions> options,
    ILogger<CommandRegistrar> logger,
    IJobLeader? leader = null)
{
    private readonly IJobLeader _leader = leader ?? new ProcessJobLeader();
    // The application id of a READY this instance did not register for; 0 = none (snowflakes are never 0).
    private ulong _skippedApplicationId;

    public const string GlobalScope = "global";

    // READY arrives once per shard and again after each new session; one registration at a time.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Stored while a registration is under way; never equal to a definitions hash.</summary>
    private const string InProgress = "in-progress";

    public static string GuildScope(ulong guildId) => "guild:" + guildId.ToString(CultureInfo.InvariantCulture);

    /// <summary>A session is READY: registers if this instance holds the job, else remembers the id for a takeover.</summary>
    public Task OnReadyAsync(ulong applicationId, CancellationToken cancellationToken)
    {
        if (!_leader.IsHeld(OnceOnlyJobs.CommandRegistration))
        {
            Interlocked.Exchange(ref _skippedApplicationId, applicationId);
            logger.LogInformation("Slash commands are registered by the instance that holds the once-only job {Job}, not this one", OnceOnlyJobs.CommandRegistration);
            return Task.CompletedTask;
        }

        return RegisterAsync(applicationId, cancellationToken);
    }

    /// <summary>
    /// Registers for a READY that came while another instance held the job (called when this one takes it over). When
    /// the registration fails (the store away for a moment), the READY is remembered again for the job's next run.
    /// </summary>
    public async Task RegisterSkippedAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _skippedApplicationId, 0) is not (var applicationId and not 0))
        {
            return;
        }

        try
        {
            await RegisterAsync(applicationId, cancellationToken);
        }
        catch
        {
            Interlocked.CompareExchange(ref _skippedApplicationId, applicationId, 0);
            throw;
        }
    }

    public async Task RegisterAsync(ulong applicationId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var guildIds = options.Value.CommandGuildIds.Distinct().ToList();
            var wanted = guildIds.Count == 0 ? [GlobalScope] : guildIds.Select(GuildScope).ToList();
            var registered = await store.RegistrationsAsync(applicationId, cancellationToken);

            foreach (var scope in wanted)
            {
                if (registered.GetValueOrDefault(scope) == CommandDefinitions.Hash)
                {
                    logger.LogInformation("Slash commands in scope {Scope} are up to date; not registering them again", scope);
                    continue;
                }

                // Remember the scope before Discord has it: if the bot stops between the PUT and the save below, the
                // next start still knows the scope (and re-registers it, or empties it when no longer listed).
                await store.SaveRegistrationAsync(applicationId, scope, InProgress, cancellationToken);
                if (await OverwriteAsync(applicationId, scope, CommandDefinitions.All, cancellationToken))
                {
                    await store.SaveRegistrationAsync(applicationId, scope, CommandDefinitions.Hash, cancellationToken);
                    logger.LogInformation("Registered {Count} slash commands in scope {Scope}", CommandDefinitions.All.Count, scope);
                }
            }

            // Commands left in a scope the operator no longer lists would show twice (global and guild) or linger.
            foreach (var stale in registered.Keys.Except(wanted))
            {
                if (await OverwriteAsync(applicationId, stale, [], cancellationToken))
                {
                    await store.DeleteRegistrationAsync(applicationId, stale, cancellationToken);
                    logger.LogInformation("Removed the slash commands from scope {Scope}, which Discord:CommandGuildIds no longer names", stale);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> OverwriteAsync(ulong applicationId, string scope, IReadOnlyList<ApplicationCommand> commands, CancellationToken cancellationToken)
    {
        try
        {
            if (scope == GlobalScope)
            {
                await discord.BulkOverwriteGlobalApplicationCommandsAsync(applicationId, commands, cancellationToken);
            }
            else
            {
                var guildId = ulong.Parse(scope["guild:".Length..], CultureInfo.InvariantCulture);
                await discord.BulkOverwriteGuildApplicationCommandsAsync(applicationId, guildId, commands, cancellationToken);
            }

            return true;
        }
        catch (DiscordRestException ex)
        {
            // Not saved, so the next READY tries again.
            var advice = ex.ErrorCode == DiscordErrorCodes.MissingAccess
                ? "the bot is not in that server or was invited without the applications.commands scope; re-invite it, or fix Discord:CommandGuildIds"
                : ex.Message;
            logger.LogError("Could not register slash commands in scope {Scope} ({Status}): {Advice}", scope, ex.StatusCode, advice);
            return false;
        }
    }
}

/// <summary>Registers the commands when a gateway session is READY (it carries the application id).</summary>
public sealed class CommandRegistrationHandler(CommandRegistrar registrar) : IGatewayEventHandler<ReadyEvent>
{
    public Task HandleAsync(ReadyEvent gatewayEvent, CancellationToken cancellationToken) =>
        registrar.OnReadyAsync(gatewayEvent.ApplicationId, cancellationToken);
}

/// <summary>
/// Holds (or waits for) <see cref="OnceOnlyJobs.CommandRegistration"/>: when this instance takes the job over after a
/// READY already passed (the previous holder stopped), it registers at once instead of waiting for the next READY.
/// </summary>
public sealed class CommandRegistrationJob(CommandRegistrar registrar, IJobLeader leader, TimeProvider time, ILogger<CommandRegistrationJob> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        leader.RunOnceOnlyAsync(OnceOnlyJobs.CommandRegistration, async held =>
        {
            await registrar.RegisterSkippedAsync(held);
            // Later READYs register through CommandRegistrationHandler while the job stays here.
            await Task.Delay(Timeout.Infinite, held);
        }, time, logger, stoppingToken);
}
