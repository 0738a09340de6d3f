using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace WalverBot.Webhooks;

/// <summary>
/// Turns a webhook body into a <see cref="WalverWebhook"/>, or a short reason why it is malformed.
/// Strict on types: a wrong type is an error, never coerced, so nothing ambiguous reaches a decision.
/// </summary>
public static class WalverWebhookParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 16,
        // Two "secret" or "id" keys could be read differently by different parsers: refuse them.
        AllowDuplicateProperties = false,
    };

    /// <summary>Verification ids and wallet addresses are short; anything longer is not from Walver.</summary>
    private const int MaxIdentifierLength = 128;

    public static bool TryParse(ReadOnlyMemory<byte> body, out WalverWebhook? webhook, out string error) =>
        TryParse(body, out webhook, out error, out _, storedCopy: false);

    /// <summary>Parses once and also returns the copy to store: the same JSON without the <c>secret</c> field.</summary>
    public static bool TryParseForStorage(ReadOnlyMemory<byte> body, out WalverWebhook? webhook, out string storedPayload, out string error) =>
        TryParse(body, out webhook, out error, out storedPayload, storedCopy: true);

    /// <summary>The body as stored for audit: the same JSON without the <c>secret</c> field.</summary>
    public static byte[] WithoutSecret(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body, DocumentOptions);
        return WithoutSecret(document.RootElement, body.Length);
    }

    private static bool TryParse(ReadOnlyMemory<byte> body, out WalverWebhook? webhook, out string error, out string storedPayload, bool storedCopy)
    {
        webhook = null;
        storedPayload = "";
        try
        {
            using var document = JsonDocument.Parse(body, DocumentOptions);
            if (!TryRead(document.RootElement, out webhook, out error))
            {
                return false;
            }

            if (storedCopy)
            {
                storedPayload = System.Text.Encoding.UTF8.GetString(WithoutSecret(document.RootElement, body.Length));
            }

            return true;
        }
        catch (JsonException)
        {
            error = "body is not valid JSON";
            return false;
        }
        catch (InvalidOperationException)
        {
            // JsonDocument checks a string's UTF-8 only when it is read.
            error = "body is not valid UTF-8";
            return false;
        }
    }

    private static byte[] WithoutSecret(JsonElement root, int sizeHint)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(sizeHint, 256));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (!property.NameEquals("secret"))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool TryRead(JsonElement root, out WalverWebhook? webhook, out string error)
    {
        webhook = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "body must be a JSON object";
            return false;
        }

        if (!RequiredString(root, "id", out var id, out error) ||
            !RequiredString(root, "wallet_address", out var wallet, out error) ||
            !OptionalString(root, "signature", out var signature, out error) ||
            !OptionalString(root, "message", out var message, out error) ||
            !OptionalString(root, "chain", out var chain, out error) ||
            !OptionalString(root, "secret", out var secret, out error) ||
            !OptionalString(root, "verification_time", out var timeText, out error))
        {
            return false;
        }

        DateTimeOffset? verificationTime = null;
        if (timeText is not null)
        {
            if (!DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                error = "verification_time is not an ISO 8601 time";
                return false;
            }

            verificationTime = parsed;
        }

        if (!TryReadCustomFields(root, out var customFields, out error) ||
            !TryReadTokenVerification(root, out var tokenVerification, out error))
        {
            return false;
        }

        webhook = new WalverWebhook
        {
            VerificationId = id!,
            WalletAddress = wallet!,
            VerificationTime = verificationTime,
            CustomFields = customFields,
            TokenVerification = tokenVerification,
            Signature = signature,
            Message = message,
            Chain = chain,
            Secret = secret,
        };
        error = "";
        return true;
    }

    private static bool TryReadCustomFields(JsonElement root, out Dictionary<string, string> fields, out string error)
    {
        fields = new Dictionary<string, string>(StringComparer.Ordinal);
        error = "";
        if (!root.TryGetProperty("custom_fields", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "custom_fields must be an object";
            return false;
        }

        foreach (var field in element.EnumerateObject())
        {
            switch (field.Value.ValueKind)
            {
                case JsonValueKind.String:
                    fields[field.Name] = field.Value.GetString()!;
                    break;
                case JsonValueKind.Null:
                    break;
                case var _ when field.NameEquals("discord"):
                    error = "custom_fields.discord must be a string";
                    return false;
                default:
                    // Other custom fields may carry numbers or booleans; the bot does not use them.
                    break;
            }
        }

        return true;
    }

    private static bool TryReadTokenVerification(JsonElement root, out TokenVerification? result, out string error)
    {
        result = null;
        error = "";
        if (!root.TryGetProperty("token_verification", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "token_verification must be an object";
            return false;
        }

        if (!OptionalString(element, "token_address", out var tokenAddress, out error, "token_verification.") ||
            !Amount(element, "required_amount", out var required, out error) ||
            !Amount(element, "actual_amount", out var actual, out error))
        {
            return false;
        }

        if (!element.TryGetProperty("passed", out var passed) || passed.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = "token_verification.passed must be true or false";
            return false;
        }

        result = new TokenVerification(tokenAddress, required, actual, passed.GetBoolean());
        return true;
    }

    private static bool Amount(JsonElement parent, string name, out decimal value, out string error)
    {
        value = 0;
        error = $"token_verification.{name} must be a non-negative number";
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.Number || !element.TryGetDecimal(out value) || value < 0)
        {
            return false;
        }

        error = "";
        return true;
    }

    private static bool RequiredString(JsonElement parent, string name, out string? value, out string error)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String ||
            string.IsNullOrWhiteSpace(element.GetString()) || element.GetString()!.Length > MaxIdentifierLength)
        {
            error = $"{name} is required and must be a non-empty string of at most {MaxIdentifierLength} characters";
            return false;
        }

        value = element.GetString()!.Trim();
        error = "";
        return true;
    }

    private static bool OptionalString(JsonElement parent, string name, out string? value, out string error, string prefix = "")
    {
        value = null;
        error = "";
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"{prefix}{name} must be a string";
            return false;
        }

        value = element.GetString();
        return true;
    }
}
