using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace AccelSim.Cli;

/// <summary>
/// System.CommandLine's parse errors in AccelSim's words: `--budget: expected a whole number, got 'x'` rather than
/// "Cannot parse argument 'x' for option '--budget' as expected type 'System.Nullable`1[System.Int64]'".
/// </summary>
public static partial class ParseErrors
{
    [GeneratedRegex(@"^Cannot parse argument '(?<token>.*)' for (?:option|command) '(?<name>[^']*)' as expected type '?(?<type>[^' ]*)'?\.", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"^Unrecognized command or argument '(?<token>.*)'\.?$")]
    private static partial Regex Unrecognized();

    /// <summary>The error to show when there are several: an unknown word explains the others.</summary>
    public static ParseError First(IReadOnlyList<ParseError> errors) =>
        errors.FirstOrDefault(e => Unrecognized().IsMatch(e.Message)) ?? errors[0];

    public static string Describe(ParseError error, ParseResult parse)
    {
        var message = error.Message.ReplaceLineEndings(" ").Trim();
        if (Unrecognized().Match(message) is { Success: true } u)
        {
            var token = u.Groups["token"].Value;
            var command = parse.CommandResult.Command;
            var candidates = token.StartsWith('-')
                ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.Select(c => c.Name);
            return $"error: unknown {(token.StartsWith('-') ? "option" : "command or argument")} '{token}'{AccelSim.Core.Suggest.DidYouMean(token, candidates)}";
        }
        var m = CannotParse().Match(message);
        if (!m.Success) return "error: " + message;
        var type = error.SymbolResult switch
        {
            ArgumentResult a => a.Argument.ValueType,
            OptionResult o => o.Option.ValueType,
            _ => null,
        };
        var expected = type is null ? Expected(m.Groups["type"].Value) : Expected(type);
        return $"{m.Groups["name"].Value}: expected {expected}, got '{m.Groups["token"].Value}'";
    }

    /// <summary>What a value of <paramref name="type"/> looks like, for a person.</summary>
    public static string Expected(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t.IsArray) t = t.GetElementType()!;
        if (t.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant()));
        return t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(uint) || t == typeof(ulong) ? "a whole number"
            : t == typeof(double) || t == typeof(float) || t == typeof(decimal) ? "a number"
            : t == typeof(bool) ? "true or false"
            : t == typeof(FileInfo) || t == typeof(DirectoryInfo) ? "a path"
            : "a " + t.Name.ToLowerInvariant();
    }

    /// <summary>The same from a .NET type name, when the error does not carry its argument.</summary>
    private static string Expected(string typeName) =>
        typeName.Contains("Int", StringComparison.Ordinal) ? "a whole number"
        : typeName.Contains("Double", StringComparison.Ordinal) || typeName.Contains("Single", StringComparison.Ordinal) ? "a number"
        : typeName.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
        : "a valid value";
}
