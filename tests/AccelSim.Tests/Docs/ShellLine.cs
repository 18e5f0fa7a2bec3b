using System.Text;

namespace AccelSim.Tests.Docs;

/// <summary>One simple command of a shell line: its words, and the file its stdout goes to (`&gt; FILE`, `&gt;&gt; FILE`).</summary>
public sealed record ShellCommand(IReadOnlyList<string> Words, string? StdoutFile, bool AppendStdout);

/// <summary>
/// The part of POSIX shell syntax the documentation uses, read as bash would: words split on blanks, '...' and "..."
/// quotes, backslash escapes, $NAME and ${NAME} (from the given variables; an unset one is an error, never ""), `~/`,
/// `*` and `?` globs in the last path segment (relative to the current directory; no match keeps the word, as bash
/// does), `#` comments, `&amp;&amp;` between commands and `&gt;` / `&gt;&gt;` redirection of stdout. Anything else (pipes,
/// `;`, `&lt;`, command substitution) throws, so a documented line is never half understood.
/// </summary>
public static class ShellLine
{
    private sealed record Word(string Text, bool Glob);

    public static IReadOnlyList<ShellCommand> Parse(string line, IReadOnlyDictionary<string, string> variables, string home, string currentDirectory)
    {
        var commands = new List<ShellCommand>();
        var words = new List<string>();
        string? redirect = null;
        var append = false;
        var expectRedirectTarget = false;

        void EndCommand()
        {
            if (expectRedirectTarget) throw new FormatException($"'>' without a file in: {line}");
            if (words.Count == 0) throw new FormatException($"empty command in: {line}");
            commands.Add(new ShellCommand(words.ToList(), redirect, append));
            words.Clear();
            redirect = null;
            append = false;
        }

        void AddWord(Word w)
        {
            var text = w.Text.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, w.Text[2..]) : w.Text;
            if (expectRedirectTarget)
            {
                redirect = text;
                expectRedirectTarget = false;
                return;
            }
            if (w.Glob) words.AddRange(ExpandGlob(text, currentDirectory));
            else words.Add(text);
        }

        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#') break;
            if (line.AsSpan(i).StartsWith("&&")) { EndCommand(); i += 2; continue; }
            if (c == '>')
            {
                append = i + 1 < line.Length && line[i + 1] == '>';
                i += append ? 2 : 1;
                expectRedirectTarget = true;
                continue;
            }
            AddWord(ReadWord(line, ref i, variables));
        }
        EndCommand();
        return commands;
    }

    private static Word ReadWord(string line, ref int i, IReadOnlyDictionary<string, string> variables)
    {
        var text = new StringBuilder();
        var glob = false;
        while (i < line.Length && !char.IsWhiteSpace(line[i]))
        {
            var c = line[i];
            switch (c)
            {
                case '\'':
                    var close = line.IndexOf('\'', i + 1);
                    if (close < 0) throw new FormatException($"unclosed ' in: {line}");
                    text.Append(line, i + 1, close - i - 1);
                    i = close + 1;
                    break;
                case '"':
                    i++;
                    while (i < line.Length && line[i] != '"')
                    {
                        if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$') { text.Append(line[i + 1]); i += 2; }
                        else if (line[i] == '$') text.Append(Variable(line, ref i, variables));
                        else text.Append(line[i++]);
                    }
                    if (i >= line.Length) throw new FormatException($"unclosed \" in: {line}");
                    i++;
                    break;
                case '\\':
                    if (i + 1 >= line.Length) throw new FormatException($"trailing \\ in: {line}");
                    text.Append(line[i + 1]);
                    i += 2;
                    break;
                case '$':
                    text.Append(Variable(line, ref i, variables));
                    break;
                case '*' or '?':
                    glob = true;
                    text.Append(c);
                    i++;
                    break;
                case '&' or '>':
                    if (c == '&' && !line.AsSpan(i).StartsWith("&&")) throw new FormatException($"unsupported shell syntax '&' in: {line}");
                    return new Word(text.ToString(), glob);
                case '|' or ';' or '<' or '`' or '(' or ')':
                    throw new FormatException($"unsupported shell syntax '{c}' in: {line}");
                default:
                    text.Append(c);
                    i++;
                    break;
            }
        }
        return new Word(text.ToString(), glob);
    }

    private static string Variable(string line, ref int i, IReadOnlyDictionary<string, string> variables)
    {
        i++; // '$'
        string name;
        if (i < line.Length && line[i] == '{')
        {
            var close = line.IndexOf('}', i);
            if (close < 0) throw new FormatException($"unclosed ${{ in: {line}");
            name = line[(i + 1)..close];
            i = close + 1;
        }
        else
        {
            var start = i;
            while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_')) i++;
            name = line[start..i];
        }
        if (name.Length == 0 || name.StartsWith('(')) throw new FormatException($"unsupported shell syntax '$' in: {line}");
        return variables.TryGetValue(name, out var value) ? value : throw new FormatException($"${name} is not set in: {line}");
    }

    private static IEnumerable<string> ExpandGlob(string pattern, string currentDirectory)
    {
        var slash = pattern.LastIndexOf('/');
        var dir = slash < 0 ? "" : pattern[..slash];
        var name = pattern[(slash + 1)..];
        if (dir.IndexOfAny(['*', '?']) >= 0) throw new FormatException($"globs are supported in the last path segment only: {pattern}");
        var full = Path.Combine(currentDirectory, dir);
        var matches = Directory.Exists(full)
            ? Directory.GetFileSystemEntries(full, name).Select(p => (dir.Length == 0 ? "" : dir + "/") + Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList()
            : [];
        return matches.Count > 0 ? matches : [pattern];
    }
}
