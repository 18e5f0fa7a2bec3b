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

    [GeneratedRegex(@"^Argument '(?<token>.*)' not recognized\. Must be one of:(?<choices>.*)$", RegexOptions.Singleline)]
    private static partial Regex NotAChoice();

    [GeneratedRegex(@"^Option '(?<name>[^']*)' is required\.?$")]
    private static partial Regex MissingOption();

    [GeneratedRegex(@"^Required argument missing for command: '(?<name>[^']*)'\.?$")]
    private static partial Regex MissingArgument();

    [GeneratedRegex(@"^Required command was not provided\.?$")]
    private static partial Regex MissingCommand();

    /// <summary>
    /// One line that starts with where the problem is: the option (`--budget: ...`) or, for words that are not
    /// options, the command they were given to (`accelsim plot: ...`).
    /// </summary>
    public static string Describe(ParseError error, ParseResult parse)
    {
        var message = error.Message.ReplaceLineEndings(" ").Trim();
        var command = parse.CommandResult.Command;
        var where = "accelsim" + (CommandPath(parse) is { Length: > 0 } path ? " " + path : "");
        if (Unrecognized().Match(message) is { Success: true } u)
        {
            var token = u.Groups["token"].Value;
            if (token.StartsWith('-'))
                return $"{token}: unknown option for '{where}'{AccelSim.Core.Suggest.DidYouMean(token, command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)))}";
            var sub = command.Subcommands.Select(c => c.Name).ToList();
            return sub.Count > 0
                ? $"{where}: unknown command '{token}'{AccelSim.Core.Suggest.DidYouMean(token, sub)} (one of: {string.Join(", ", sub)})"
                : $"{where}: unexpected argument '{token}'";
        }
        if (NotAChoice().Match(message) is { Success: true } c)
        {
            var choices = string.Join(", ", c.Groups["choices"].Value.Split(new[] { '\'', ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries));
            return $"{SymbolName(error, where)}: '{c.Groups["token"].Value}' is not one of {choices}";
        }
        if (MissingOption().Match(message) is { Success: true } mo)
            return $"{mo.Groups["name"].Value}: required option is missing";
        if (MissingArgument().IsMatch(message))
        {
            var names = command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0).Select(a => a.Name.ToUpperInvariant());
            return $"{where}: missing argument {string.Join(" ", names)}";
        }
        if (MissingCommand().IsMatch(message))
            return $"{where}: missing command (one of: {string.Join(", ", command.Subcommands.Select(x => x.Name))})";
        var m = CannotParse().Match(message);
        if (!m.Success) return $"{where}: {message}";
        var type = error.SymbolResult switch
        {
            ArgumentResult a => a.Argument.ValueType,
            OptionResult o => o.Option.ValueType,
            _ => null,
        };
        var expected = type is null ? Expected(m.Groups["type"].Value) : Expected(type);
        return $"{m.Groups["name"].Value}: expected {expected}, got '{m.Groups["token"].Value}'";
    }

    /// <summary>The option an error is about (`--progress`), or the command and argument (`accelsim plot: KIND`).</summary>
    private static string SymbolName(ParseError error, string where) => error.SymbolResult switch
    {
        OptionResult o => o.Option.Name,
        ArgumentResult { Parent: OptionResult o } => o.Option.Name,
        ArgumentResult a => $"{where}: {a.Argument.Name.ToUpperInvariant()}",
        _ => where,
    };

    /// <summary>`plot` or `import timeloop`: the verbs of the command line, without `accelsim`.</summary>
    public static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null && c.Parent is not null; c = c.Parent as CommandResult)
            names.Insert(0, c.Command.Name);
        return string.Join(" ", names);
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
