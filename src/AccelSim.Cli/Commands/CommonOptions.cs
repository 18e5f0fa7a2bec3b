using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Cli;

/// <summary>
/// Options every verb shares, created fresh per command (a System.CommandLine option belongs to one command):
/// `--set KEY=VALUE` (repeatable spec overrides), `--json` (machine-readable output on stdout) and `--out`.
/// </summary>
public static class CommonOptions
{
    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override a spec field, KEY=VALUE (repeatable): arch.<field>, workload.<field> or options.<name>, " +
                      "e.g. --set arch.peak_flops=1e15; +KEY=VALUE adds a field the file lacks",
        HelpName = "KEY=VALUE",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print a machine-readable JSON summary on stdout instead of text",
    };

    public static Option<string> Out(string description, bool required = false) => new("--out", "-o")
    {
        Description = description,
        HelpName = "PATH",
        Required = required,
    };

    /// <summary>The `--set` values as overrides (`+KEY=VALUE` adds a field); malformed ones are input errors.</summary>
    public static IReadOnlyList<SpecOverride> ParseSets(ParseResult parse, Option<string[]> set) =>
        (parse.GetValue(set) ?? []).Select(s => SpecOverride.Parse(s)).ToList();

    /// <summary>`--set` values split into arch / workload / options overrides, for verbs that load specs.</summary>
    public static SpecOverrideSet ParseSetsByTarget(ParseResult parse, Option<string[]> set) =>
        SpecOverrideSet.Split(ParseSets(parse, set));

    /// <summary>Repeatable `KEY=VALUE` options other than --set (e.g. --where, --baseline).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseAssignments(IEnumerable<string>? values, string field) =>
        (values ?? []).Select(v =>
        {
            var o = SpecOverride.Parse(v, field);
            return new KeyValuePair<string, string>((o.AddsField ? "+" : "") + o.Path, o.Value);
        }).ToList();

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static void WriteJson(TextWriter stdout, object value) =>
        stdout.WriteLine(JsonSerializer.Serialize(value, value.GetType(), JsonOptions));

    /// <summary>True when <paramref name="stderr"/> is the process's real, interactive stderr (progress bar allowed).</summary>
    public static bool IsInteractive(TextWriter stderr) =>
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
}
