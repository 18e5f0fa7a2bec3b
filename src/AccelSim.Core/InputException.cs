namespace AccelSim.Core;

/// <summary>A position in a user's input file (1-based line and column).</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public static SourceLocation FileOnly(string file) => new(file, 0, 0);

    public override string ToString() =>
        Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>
/// Bad user input: a malformed or inconsistent spec, an unknown name, a missing file.
/// The CLI prints <see cref="OneLine"/> and exits with code 2, never a stack trace.
/// </summary>
public sealed class InputException : Exception
{
    public InputException(SourceLocation? location, string? field, string problem, Exception? inner = null)
        : base(Compose(location, field, problem), inner)
    {
        Location = location;
        Field = field;
        Problem = problem;
    }

    public InputException(string problem) : this(null, null, problem) { }

    public SourceLocation? Location { get; }
    public string? Field { get; }
    public string Problem { get; }

    /// <summary>`FILE:LINE:COL: field: what is wrong`, on one line.</summary>
    public string OneLine => Message.ReplaceLineEndings(" ");

    private static string Compose(SourceLocation? location, string? field, string problem)
    {
        var prefix = location is { } loc ? loc + ": " : "";
        var where = string.IsNullOrEmpty(field) ? "" : field + ": ";
        return prefix + where + problem;
    }
}
