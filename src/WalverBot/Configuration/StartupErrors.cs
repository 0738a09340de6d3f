using Microsoft.Extensions.Options;

namespace WalverBot.Configuration;

/// <summary>A problem that stops start-up, with a message meant for the operator (never a secret's value).</summary>
public sealed class StartupException(string message, Exception? innerException = null) : Exception(message, innerException);

public static class StartupErrors
{
    /// <summary>Exit code for a missing or invalid setting.</summary>
    public const int ConfigurationExitCode = 2;

    /// <summary>One clear line per problem on standard error, no stack trace.</summary>
    public static void Report(OptionsValidationException ex)
    {
        foreach (var failure in ex.Failures.Distinct())
        {
            Console.Error.WriteLine($"WalverBot cannot start: {failure}");
        }
    }

    public static void Report(StartupException ex) => Console.Error.WriteLine($"WalverBot cannot start: {ex.Message}");
}
