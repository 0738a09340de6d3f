using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WalverBot.Discord.Models;

/// <summary>
/// The JSON settings of Discord's API: snake_case names, nulls left out, snowflakes and permission
/// sets as strings (https://discord.com/developers/docs/reference#snowflakes). Shared by REST and gateway.
/// </summary>
public static class DiscordJson
{
    /// <summary>
    /// Read-only serializer options for Discord payloads, resolving types through the library's source-generated
    /// context only: a type the library does not model is refused (<see cref="NotSupportedException"/>), never read by reflection.
    /// </summary>
    public static JsonSerializerOptions Options => DiscordJsonContext.Default.Options;
}

/// <summary>
/// Snowflakes are 64-bit and sent as strings because JavaScript numbers lose precision past 2^53;
/// reading also accepts numbers, which some payloads and tests use.
/// </summary>
public sealed class SnowflakeJsonConverter : JsonConverter<ulong>
{
    /// <inheritdoc />
    public override ulong Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetUInt64();
        }

        var text = reader.GetString();
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new JsonException($"'{text}' is not a snowflake.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ulong value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));

    /// <inheritdoc />
    public override ulong ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ulong.Parse(reader.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override void WriteAsPropertyName(Utf8JsonWriter writer, ulong value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value.ToString(CultureInfo.InvariantCulture));
}

/// <summary>
/// Permission sets are "serialized into a string" because they exceed 53 bits
/// (https://discord.com/developers/docs/topics/permissions); unknown bits are kept.
/// </summary>
public sealed class PermissionsJsonConverter : JsonConverter<DiscordPermissions>
{
    /// <inheritdoc />
    public override DiscordPermissions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return (DiscordPermissions)reader.GetUInt64();
        }

        var text = reader.GetString();
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bits)
            ? (DiscordPermissions)bits
            : throw new JsonException($"'{text}' is not a permission set.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DiscordPermissions value, JsonSerializerOptions options) =>
        writer.WriteStringValue(((ulong)value).ToString(CultureInfo.InvariantCulture));
}

/// <summary>An application command choice value: a string, an integer or a double, as Discord allows.</summary>
public sealed class ChoiceValueJsonConverter : JsonConverter<object>
{
    /// <inheritdoc />
    public override object Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString()!,
            JsonTokenType.Number when reader.TryGetInt64(out var integer) => integer,
            JsonTokenType.Number => reader.GetDouble(),
            _ => throw new JsonException("A choice value must be a string or a number."),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, object value, JsonSerializerOptions options)
    {
        switch (value)
        {
            case string text: writer.WriteStringValue(text); break;
            case int or long or short or byte: writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case double or float or decimal: writer.WriteNumberValue(Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
            default: throw new JsonException($"A choice value must be a string, an integer or a double, not {value.GetType().Name}.");
        }
    }
}

/// <summary>
/// Optional booleans such as <c>user.bot</c> are documented as absent when false, but a null must not
/// break reading a whole member list: null reads as false.
/// </summary>
public sealed class NullAsFalseJsonConverter : JsonConverter<bool>
{
    /// <inheritdoc />
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False or JsonTokenType.Null => false,
            _ => throw new JsonException($"Expected a boolean, got {reader.TokenType}."),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}
