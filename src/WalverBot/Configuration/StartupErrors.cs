using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace WalverBot.Configuration;

/// <summary>A problem that stops start-up, with a message meant for the operator (never a secret's value).</summary>
public sealed class StartupException(string message, Exception? innerException = null) : Exception(message, innerException);

public static partial class StartupErrors
{
    /// <summary>Exit code for a missing or invalid setting.</summary>
    public const int ConfigurationExitCode = 2;

    /// <summary>
    /// The lines an operator sees for a failure that means "fix the configuration" (one per problem, each starting
    /// "WalverBot cannot start:", no stack trace, no secret's value), or null for any other failure.
    /// </summary>
    public static IReadOnlyList<string>? Lines(Exception exception) => exception switch
    {
        OptionsValidationException invalid => [.. invalid.Failures.Distinct().Select(Line)],
        AggregateException all when all.InnerExceptions.Count > 0 && all.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. all.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures.Distinct()).Select(Line)],
        StartupException startup => [Line(startup.Message)],
        InvalidOperationException binder when BinderFailure(binder.Message) is { } failure => [Line(failure)],
        _ => null,
    };

    private static string Line(string problem) => $"WalverBot cannot start: {problem}";

    /// <summary>
    /// The configuration binder's "cannot convert" failure, for a key <see cref="SettingsCheck"/> does not know yet
    /// (its message carries the value, which may be a secret, so it is never printed as is).
    /// </summary>
    public static bool IsBinderFailure(InvalidOperationException ex) => BinderFailure(ex.Message) is not null;

    /// <summary>"{key} must be a value of type {type}" from the binder's message, without the value.</summary>
    public static string? BinderFailure(string message) =>
        BinderMessage().Match(message) is { Success: true } match
            ? $"{match.Groups["key"].Value} must be a value of type {match.Groups["type"].Value.Split('.')[^1]}"
            : null;

    // Microsoft.Extensions.Configuration.Binder: "Failed to convert configuration value '{value}' at '{key}' to type '{type}'."
    [GeneratedRegex(@"^Failed to convert configuration value .* at '(?<key>[^']+)' to type '(?<type>[^']+)'\.?$", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
