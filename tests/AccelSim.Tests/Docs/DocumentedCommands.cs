using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace AccelSim.Tests.Docs;

/// <summary>One `accelsim` command line as printed in a `--help` text or a Markdown file, with where it was found.</summary>
public sealed record DocumentedCommand(string Source, string Text, IReadOnlyDictionary<string, string> Variables)
{
    public override string ToString() => $"{Source}: {Text}";
}

/// <summary>
/// Finds the commands the documentation prints.
/// <list type="bullet">
/// <item>`--help`: every line `Example: accelsim ...` of every command's description (a trailing `# remark` is a shell
/// comment).</item>
/// <item>Markdown: every line of a fenced block tagged sh, bash, shell, console or untagged that starts with `accelsim ` or
/// `dotnet run ... --project src/AccelSim.Cli ... --` (lines ending in `\` continue), and every inline code span starting
/// with `accelsim ` in a table row. `NAME=value` lines of a block set shell variables for the lines after them.</item>
/// <item>Syntax lines are skipped: a command containing `[`, `|` or `...` documents a usage pattern (optional parts,
/// alternatives, repetition) and is not meant to be run. Everything else must run as printed.</item>
/// </list>
/// </summary>
public static class DocumentedCommands
{
    private static readonly Regex HelpExample = new(@"^\s*Example:\s+(?<cmd>accelsim\s.*)$", RegexOptions.Compiled);
    private static readonly Regex Assignment = new(@"^(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>\S*)$", RegexOptions.Compiled);
    private static readonly Regex InlineCode = new(@"`(?<code>accelsim [^`]*)`", RegexOptions.Compiled);
    private static readonly string[] ShellFences = ["", "sh", "bash", "shell", "console"];

    /// <summary>True for a usage pattern such as `accelsim sweep S.yaml --out DIR [--resume]`.</summary>
    public static bool IsSyntaxLine(string command) =>
        command.Contains('[') || command.Contains('|') || command.Contains("...", StringComparison.Ordinal);

    /// <summary>Every command of the tree, depth first in help order, with its path (`accelsim reproduce fusemax`).</summary>
    public static IEnumerable<(string Path, Command Command)> Walk(Command command, string path = "accelsim")
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var inner in Walk(sub, path + " " + sub.Name))
                yield return inner;
    }

    /// <summary>The `Example:` lines of one command's description.</summary>
    public static IEnumerable<string> HelpExamples(Command command) =>
        (command.Description ?? "").Split('\n').Select(l => HelpExample.Match(l)).Where(m => m.Success).Select(m => m.Groups["cmd"].Value.TrimEnd());

    /// <summary>Every help example of the whole tree, in help order.</summary>
    public static IReadOnlyList<DocumentedCommand> FromHelp(RootCommand root) =>
        Walk(root).SelectMany(c => HelpExamples(c.Command).Select(e => new DocumentedCommand(c.Path + " --help", e, NoVariables))).ToList();

    private static readonly IReadOnlyDictionary<string, string> NoVariables = new Dictionary<string, string>();

    /// <summary>The runnable and syntax commands of a Markdown file, in file order.</summary>
    public static IReadOnlyList<DocumentedCommand> FromMarkdown(string path, string displayName)
    {
        var found = new List<DocumentedCommand>();
        var lines = File.ReadAllLines(path);
        string? fence = null;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                fence = fence is null ? trimmed[3..].Trim().ToLowerInvariant() : null;
                variables = new Dictionary<string, string>(StringComparer.Ordinal);
                continue;
            }
            var where = $"{displayName}:{i + 1}";
            if (fence is null)
            {
                if (trimmed.StartsWith('|'))
                    foreach (Match m in InlineCode.Matches(trimmed))
                        found.Add(new DocumentedCommand(where, m.Groups["code"].Value.Replace("\\|", "|"), NoVariables));
                continue;
            }
            if (!ShellFences.Contains(fence)) continue;
            var logical = new StringBuilder(trimmed);
            while (logical.Length > 0 && logical[^1] == '\\' && i + 1 < lines.Length)
            {
                logical.Length--;
                logical.Append(' ').Append(lines[++i].Trim());
            }
            var line = logical.ToString().Trim();
            if (Assignment.Match(line) is { Success: true } a)
                variables[a.Groups["name"].Value] = a.Groups["value"].Value;
            else if (line.StartsWith("accelsim ", StringComparison.Ordinal) || IsOurDotnetRun(line))
                found.Add(new DocumentedCommand(where, line, new Dictionary<string, string>(variables)));
        }
        return found;
    }

    private static bool IsOurDotnetRun(string line) =>
        line.StartsWith("dotnet run ", StringComparison.Ordinal) && line.Contains("--project src/AccelSim.Cli ", StringComparison.Ordinal);

    /// <summary>The arguments after `accelsim` or after `dotnet run ... --project src/AccelSim.Cli ... --`.</summary>
    public static string[] CliArguments(IReadOnlyList<string> words)
    {
        if (words.Count > 0 && words[0] == "accelsim") return [.. words.Skip(1)];
        if (words.Count > 1 && words[0] == "dotnet" && words[1] == "run")
        {
            var dashes = words.ToList().IndexOf("--");
            var project = words.ToList().IndexOf("--project");
            if (dashes > 0 && project > 0 && project < dashes && words[project + 1].TrimEnd('/') == "src/AccelSim.Cli")
                return [.. words.Skip(dashes + 1)];
        }
        throw new InvalidOperationException($"not an accelsim command: {string.Join(' ', words)}");
    }
}
