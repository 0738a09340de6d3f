using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// Runs the gateway for the lifetime of the host. On a fatal close it logs one line saying what to fix,
/// marks the gateway not ready, sets the exit code to <see cref="GatewayFatalException.ExitCode"/> and stops
/// the application; the operator's supervisor (Docker restart policy, systemd) decides what comes next.
/// </summary>
internal sealed class GatewayHostedService : BackgroundService
{
    private readonly DiscordGatewayClient _client;
    private readonly GatewayStatus _status;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly Action<int> _setExitCode;

    public GatewayHostedService(DiscordGatewayClient client, GatewayStatus status, IHostApplicationLifetime lifetime, ILogger<GatewayHostedService> logger)
        : this(client, status, lifetime, logger, code => Environment.ExitCode = code)
    {
    }

    // Tests pass their own exit-code sink: setting Environment.ExitCode would fail the test run itself.
    internal GatewayHostedService(DiscordGatewayClient client, GatewayStatus status, IHostApplicationLifetime lifetime, ILogger logger, Action<int> setExitCode)
    {
        _client = client;
        _status = status;
        _lifetime = lifetime;
        _logger = logger;
        _setExitCode = setExitCode;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _client.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (GatewayFatalException ex)
        {
            _status.SetStopped($"stopped: {ex.Message}");
            // One line, no stack trace: the message already says what to change.
            _logger.LogCritical("Discord gateway stopped: {Reason}", ex.Message);
            Stop(GatewayFatalException.ExitCode);
        }
        catch (Exception ex)
        {
            _status.SetStopped("stopped after an unexpected error");
            _logger.LogCritical(ex, "Discord gateway stopped after an unexpected error");
            Stop(1);
        }
    }

    private void Stop(int exitCode)
    {
        _setExitCode(exitCode);
        _lifetime.StopApplication();
    }
}
