namespace WalverBot.Operations;

/// <summary>One line of <c>check</c>'s report.</summary>
public sealed record CheckLine(CheckLevel Level, string Area, string Message)
{
    public override string ToString() => $"{Level switch { CheckLevel.Ok => "ok  ", CheckLevel.Warning => "warn", _ => "FAIL" }}  {Area}: {Message}";
}

public enum CheckLevel
{
    Ok,
    Warning,
    Problem,
}

/// <summary>What <c>check</c> found, written line by line as it goes so a slow step shows where it is.</summary>
public sealed class CheckReport(TextWriter output)
{
    private readonly List<CheckLine> _lines = [];

    public IReadOnlyList<CheckLine> Lines => _lines;

    public int Problems => _lines.Count(l => l.Level == CheckLevel.Problem);

    public int Warnings => _lines.Count(l => l.Level == CheckLevel.Warning);

    public void Ok(string area, string message) => Add(new(CheckLevel.Ok, area, message));

    public void Warn(string area, string message) => Add(new(CheckLevel.Warning, area, message));

    public void Problem(string area, string message) => Add(new(CheckLevel.Problem, area, message));

    private void Add(CheckLine line)
    {
        _lines.Add(line);
        output.WriteLine(line.ToString());
    }
}
