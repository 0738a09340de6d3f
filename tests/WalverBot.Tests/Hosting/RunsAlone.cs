namespace WalverBot.Tests.Hosting;

/// <summary>
/// Tests in this collection run after the parallel ones, with no other bot alive in the process.
/// For tests that measure the process (memory) or read process-wide state: an OpenTelemetry meter
/// provider listens to every meter of its names in the process, so with two bots running at once
/// each bot's <c>/metrics</c> would also count the other's webhooks and read the other's inbox.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
