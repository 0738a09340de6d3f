using System.Text;
using Serilog.Events;
using Serilog.Formatting;

namespace WalverBot.Configuration;

/// <summary>
/// Text logs escape control characters in every property value, so an untrusted value (a webhook's unknown
/// verification id, a typed username) cannot start a forged log line with a newline, rewrite one with a carriage
/// return, or make the log binary with NUL bytes (OWASP Logging Cheat Sheet: encode CR, LF and delimiters).
/// The JSON format needs none of this: JSON string encoding escapes control characters already.
/// </summary>
public sealed class ControlCharacterEscaping(ITextFormatter inner) : ITextFormatter
{
    public void Format(LogEvent logEvent, TextWriter output)
    {
        var properties = logEvent.Properties.Select(p => new LogEventProperty(p.Key, Escape(p.Value)));
        inner.Format(new LogEvent(logEvent.Timestamp, logEvent.Level, logEvent.Exception, logEvent.MessageTemplate, properties), output);
    }

    private static LogEventPropertyValue Escape(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string text } when NeedsEscaping(text) => new ScalarValue(Escape(text)),
        ScalarValue => value,
        SequenceValue sequence => new SequenceValue(sequence.Elements.Select(Escape)),
        StructureValue structure => new StructureValue(structure.Properties.Select(p => new LogEventProperty(p.Name, Escape(p.Value))), structure.TypeTag),
        DictionaryValue dictionary => new DictionaryValue(dictionary.Elements.Select(p =>
            new KeyValuePair<ScalarValue, LogEventPropertyValue>((ScalarValue)Escape(p.Key), Escape(p.Value)))),
        _ => value,
    };

    private static bool NeedsEscaping(string text)
    {
        foreach (var c in text)
        {
            if (IsUnsafe(c))
            {
                return true;
            }
        }

        return false;
    }

    // C0, DEL and C1 controls, plus the Unicode line and paragraph separators that some viewers break lines on.
    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\n': escaped.Append("\\n"); break;
                case '\r': escaped.Append("\\r"); break;
                case '\t': escaped.Append("\\t"); break;
                case '\0': escaped.Append("\\0"); break;
                case var other when IsUnsafe(other): escaped.Append("\\u").Append(((int)other).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: escaped.Append(c); break;
            }
        }

        return escaped.ToString();
    }
}
