using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;
using Serilog.Events;
using WalverBot.Commands;
using WalverBot.Discord;
using WalverBot.Grants;
using WalverBot.Security;
using WalverBot.Storage;
using WalverBot.Verifications;
using WalverBot.Walver;
using WalverBot.Webhooks;

namespace WalverBot.Configuration;

/// <summary>
/// The form of every setting the bot reads, checked on the raw configuration before anything binds it:
/// a wrong type, an unknown word or an unparseable id becomes one line naming the key and what it accepts,
/// instead of the binder's exception (a stack trace, exit 134) or a value silently dropped (the binder skips
/// list items it cannot convert). Never prints a value: some keys hold secrets.
/// Ranges and required values stay with each options class's validator.
/// </summary>
public static class SettingsCheck
{
    /// <summary>The sections bound to options classes, walked property by property (new properties are covered by their type).</summary>
    private static readonly (string Section, Type Type)[] BoundSections =
    [
        (DiscordOptions.SectionName, typeof(DiscordOptions)),
        (SlashCommandOptions.SectionName, typeof(SlashCommandOptions)),
        (WalverOptions.SectionName, typeof(WalverOptions)),
        (WebhookOptions.SectionName, typeof(WebhookOptions)),
        (StorageOptions.SectionName, typeof(StorageOptions)),
        (GrantOptions.SectionName, typeof(GrantOptions)),
        (Holdings.RecheckOptions.SectionName, typeof(Holdings.RecheckOptions)),
        (RoleOptions.SectionName, typeof(RoleOptions)),
        (SecurityOptions.SectionName, typeof(SecurityOptions)),
        (DeclaredVerificationsOptions.SectionName, typeof(List<DeclaredVerification>)),
    ];

    /// <summary>Properties bound from elsewhere, not settings of their own.</summary>
    private static readonly HashSet<string> NotSettings = new(StringComparer.OrdinalIgnoreCase)
    {
        "Storage:ConnectionString", // filled from ConnectionStrings:WalverBot
    };

    /// <summary>Keys read straight from configuration, outside the options classes.</summary>
    public static IReadOnlyList<string> RawKeys { get; } =
    [
        "Urls", "ConnectionStrings:WalverBot", "Kestrel:Certificates:Default:Path", "Kestrel:Certificates:Default:KeyPath",
        "Logging:Format", "Serilog:MinimumLevel:Default", "Serilog:MinimumLevel:Override:{namespace}",
        "Chains:{chain}:RpcUrl", "Chains:{chain}:RequestsPerSecond", // read by ChainsOptions.Read, which checks their form
        "Chains:solana:WsUrl", // read by SolanaSubscriptionOptions.Read, which checks its form
        "Chains:{chain}:WsUrl", "Chains:{chain}:Confirmations", "Chains:{chain}:MaxBlockRange", // read by FollowerOptions.Read (EVM chains)
    ];

    /// <summary>Every key the bot reads; list items as <c>{i}</c> (e.g. <c>Verifications:{i}:GuildId</c>).</summary>
    public static IReadOnlyList<string> Keys { get; } =
        [.. BoundSections.SelectMany(s => KeysOf(s.Section, s.Type)), .. RawKeys];

    /// <summary>Throws an <see cref="OptionsValidationException"/> with one line per malformed setting.</summary>
    public static void ThrowIfInvalid(IConfiguration configuration)
    {
        var problems = Problems(configuration);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException("settings", typeof(IConfiguration), problems);
        }
    }

    public static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        var problems = new List<string>();
        foreach (var (section, type) in BoundSections)
        {
            Walk(configuration.GetSection(section), section, type, problems);
        }

        CheckUrls(configuration["Urls"], problems);
        CheckCertificate(configuration, problems);
        CheckLogging(configuration, problems);
        return problems;
    }

    /// <summary>The form problems of one section bound to <typeparamref name="T"/>.</summary>
    internal static IReadOnlyList<string> ProblemsOf<T>(string section, IConfiguration configuration)
    {
        var problems = new List<string>();
        Walk(configuration.GetSection(section), section, typeof(T), problems);
        return problems;
    }

    private static void Walk(IConfigurationSection section, string path, Type type, List<string> problems)
    {
        if (NotSettings.Contains(path))
        {
            return;
        }

        // An empty value leaves a nullable setting unset; the binder cannot convert it to anything else.
        var optional = Nullable.GetUnderlyingType(type) is not null || type == typeof(string);
        type = Nullable.GetUnderlyingType(type) ?? type;
        var hasChildren = section.GetChildren().Any();
        if (IsScalar(type))
        {
            if (section.Value is { } value && !(optional && value.Length == 0) && !IsValid(type, value))
            {
                problems.Add($"{path} must be {Accepts(type, path)}");
            }

            return;
        }

        if (DictionaryValueType(type) is { } entry)
        {
            foreach (var child in section.GetChildren())
            {
                Walk(child, $"{path}:{child.Key}", entry, problems);
            }

            return;
        }

        if (ElementType(type) is { } element)
        {
            if (!string.IsNullOrWhiteSpace(section.Value) && !hasChildren)
            {
                var variable = path.Replace(":", "__", StringComparison.Ordinal);
                problems.Add($"{path} is a list: give each item its own index, {path}:0, {path}:1 … (environment variables {variable}__0, {variable}__1 …)");
                return;
            }

            foreach (var child in section.GetChildren())
            {
                Walk(child, $"{path}:{child.Key}", element, problems);
            }

            return;
        }

        if (!string.IsNullOrWhiteSpace(section.Value) && !hasChildren)
        {
            problems.Add($"{path} is a group of settings ({string.Join(", ", Settable(type).Select(p => $"{path}:{p.Name}"))}), not a single value");
            return;
        }

        foreach (var property in Settable(type))
        {
            Walk(section.GetSection(property.Name), $"{path}:{property.Name}", property.PropertyType, problems);
        }
    }

    private static IEnumerable<string> KeysOf(string path, Type type)
    {
        if (NotSettings.Contains(path))
        {
            return [];
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(type))
        {
            return [path];
        }

        if (DictionaryValueType(type) is { } entry)
        {
            return KeysOf($"{path}:{{name}}", entry);
        }

        if (ElementType(type) is { } element)
        {
            return IsScalar(Nullable.GetUnderlyingType(element) ?? element) ? [path] : KeysOf($"{path}:{{i}}", element);
        }

        return Settable(type).SelectMany(p => KeysOf($"{path}:{p.Name}", p.PropertyType));
    }

    /// <summary>What the binder fills: properties with a public setter, and collections it can add to.</summary>
    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod?.IsPublic == true || ElementType(p.PropertyType) is not null || DictionaryValueType(p.PropertyType) is not null));

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) ||
        type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);

    /// <summary>The value type of a dictionary keyed by strings (the binder makes one entry per child key).</summary>
    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string) &&
        typeof(IDictionary<,>).MakeGenericType(key, value).IsAssignableFrom(type) ? value : null;

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments() is [var element] ? element : null;
    }

    private static bool IsValid(Type type, string value)
    {
        var text = value.Trim();
        if (type == typeof(string))
        {
            return true;
        }

        if (type == typeof(bool))
        {
            return bool.TryParse(text, out _);
        }

        if (type == typeof(int))
        {
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(ulong))
        {
            // Discord ids are snowflakes, 64-bit unsigned integers (Discord docs, Reference → Snowflakes);
            // 0 is well-formed here and refused by the validators, which say what the id is for.
            return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(decimal))
        {
            // A dot for decimals and nothing else: the binder would read "1,5" as 15.
            return decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(TimeSpan))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out _);
        }

        if (type.IsEnum)
        {
            // Names only: the binder would also take any number and store a policy that does not exist.
            return Enum.GetNames(type).Contains(text, StringComparer.OrdinalIgnoreCase);
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Accepts(Type type, string path)
    {
        var example = Example(path);
        if (type == typeof(bool))
        {
            return "true or false";
        }

        if (type == typeof(int))
        {
            return $"a whole number{example}";
        }

        if (type == typeof(ulong))
        {
            return "a Discord id: a number such as 123456789012345678 (Discord: Developer Mode, then Copy ID)";
        }

        if (type == typeof(decimal))
        {
            return "a number with a dot for decimals, such as 1.5";
        }

        if (type == typeof(TimeSpan))
        {
            return $"a time span as [days.]hours:minutes:seconds{(example.Length > 0 ? example : ", e.g. 1.00:00:00")}";
        }

        if (type.IsEnum)
        {
            return $"one of {string.Join(", ", Enum.GetNames(type))}";
        }

        return $"a value of type {type.Name}";
    }

    /// <summary>", e.g. {default}" from the options class's own default, when the key has one.</summary>
    private static string Example(string path)
    {
        var parts = path.Split(':');
        var bound = BoundSections.FirstOrDefault(s => string.Equals(s.Section, parts[0], StringComparison.OrdinalIgnoreCase));
        if (parts.Length != 2 || bound.Type is null || bound.Type.GetConstructor(Type.EmptyTypes) is null)
        {
            return "";
        }

        var value = bound.Type.GetProperty(parts[1], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.GetValue(Activator.CreateInstance(bound.Type));
        return value switch
        {
            TimeSpan span => $", e.g. {span.ToString("c", CultureInfo.InvariantCulture)}",
            int number => $", e.g. {number.ToString(CultureInfo.InvariantCulture)}",
            _ => "",
        };
    }

    /// <summary>Kestrel's <c>Urls</c>: addresses separated by ';' (ASP.NET Core docs, "Configure endpoints").</summary>
    private static void CheckUrls(string? urls, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(urls))
        {
            return;
        }

        foreach (var part in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IsListenAddress(part))
            {
                problems.Add("Urls (ASPNETCORE_URLS) must be http:// or https:// addresses with a port from 0 to 65535 and no path, separated by ';', e.g. http://0.0.0.0:8080");
                return;
            }
        }
    }

    private static bool IsListenAddress(string address)
    {
        BindingAddress parsed;
        try
        {
            parsed = BindingAddress.Parse(address);
        }
        catch (FormatException)
        {
            return false;
        }

        // Kestrel refuses a path base in a listen address ("use UsePathBase() instead") and ports outside 0–65535.
        return parsed.Scheme is "http" or "https" &&
               string.IsNullOrEmpty(parsed.PathBase) &&
               !string.IsNullOrEmpty(parsed.Host) &&
               (parsed.IsUnixPipe || parsed.IsNamedPipe || parsed.Port is >= 0 and <= 65535);
    }

    /// <summary>Kestrel reads these files only when it binds, and then fails with a stack trace.</summary>
    private static void CheckCertificate(IConfiguration configuration, List<string> problems)
    {
        foreach (var key in new[] { "Kestrel:Certificates:Default:Path", "Kestrel:Certificates:Default:KeyPath" })
        {
            if (string.IsNullOrWhiteSpace(configuration[key]))
            {
                continue;
            }

            // Kestrel resolves a relative path against the content root (the working directory unless set).
            var path = Path.Combine(configuration[HostDefaults.ContentRootKey] ?? Directory.GetCurrentDirectory(), configuration[key]!);
            if (!IsReadableFile(path))
            {
                problems.Add($"{key} must be the path of a file this user can read (PEM, or PFX for Path alone)");
            }
        }
    }

    private static bool IsReadableFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    private static void CheckLogging(IConfiguration configuration, List<string> problems)
    {
        if (configuration["Logging:Format"] is { } format && format.Trim().ToLowerInvariant() is not ("" or "text" or "json"))
        {
            problems.Add("Logging:Format must be text or json");
        }

        // Serilog's own reader throws on an unknown level name; say which key instead.
        var levels = new List<IConfigurationSection>();
        var minimum = configuration.GetSection("Serilog:MinimumLevel");
        if (minimum.Value is not null)
        {
            levels.Add(minimum);
        }

        levels.Add(minimum.GetSection("Default"));
        levels.AddRange(minimum.GetSection("Override").GetChildren());
        foreach (var level in levels)
        {
            if (level.Value is { } name && !Enum.GetNames<LogEventLevel>().Contains(name.Trim(), StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{level.Path} must be one of {string.Join(", ", Enum.GetNames<LogEventLevel>())}");
            }
        }
    }
}
