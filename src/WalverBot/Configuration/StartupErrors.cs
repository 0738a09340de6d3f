using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace WalverBot.Configuration;

/// <summary>A problem that stops start-up, with a message meant for the operator (never a secret's value).</summary>
public sealed class StartupException(string message, Exception? innerException = null) : Exception(message, innerException);

public static partial class StartupErrors
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

    /// <summary>
    /// The configuration binder's "cannot convert" failure, for a key <see cref="SettingsCheck"/> does not know yet
    /// (its message carries the value, which may be a secret, so it is never printed as is).
    /// </summary>
    public static bool IsBinderFailure(InvalidOperationException ex) => BinderFailure(ex.Message) is not null;

    public static void Report(InvalidOperationException ex) => Console.Error.WriteLine($"WalverBot cannot start: {BinderFailure(ex.Message)}");

    /// <summary>"{key} must be a value of type {type}" from the binder's message, without the value.</summary>
    public static string? BinderFailure(string message) =>
        BinderMessage().Match(message) is { Success: true } match
            ? $"{match.Groups["key"].Value} must be a value of type {match.Groups["type"].Value.Split('.')[^1]}"
            : null;

    // Microsoft.Extensions.Configuration.Binder: "Failed to convert configuration value '{value}' at '{key}' to type '{type}'."
    [GeneratedRegex(@"^Failed to convert configuration value .* at '(?<key>[^']+)' to type '(?<type>[^']+)'\.?$", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
