using System.Text;
using System.Text.RegularExpressions;
using AccelSim.Core;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// One `path=value` override of a YAML spec, e.g. `pe_array.rows=128` or `levels[2].capacity=1048576`.
/// A leading `+` (<see cref="AddsField"/>) allows adding a field the file does not have; without it a
/// missing field is an error, so a typo never silently does nothing.
/// </summary>
public sealed record SpecOverride(string Path, string Value, bool AddsField = false, SourceLocation? Origin = null)
{
    /// <summary>Parses `KEY=VALUE` or `+KEY=VALUE` as given to `--set`.</summary>
    public static SpecOverride Parse(string assignment, string field = "--set")
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new InputException(null, field, $"expected KEY=VALUE, got '{assignment}'");
        var key = assignment[..eq].Trim();
        var value = assignment[(eq + 1)..].Trim();
        var adds = key.StartsWith('+');
        if (adds) key = key[1..];
        if (key.Length == 0)
            throw new InputException(null, field, $"expected KEY=VALUE, got '{assignment}'");
        return new SpecOverride(key, value, adds);
    }

    public override string ToString() => (AddsField ? "+" : "") + Path + "=" + Value;
}

/// <summary>
/// Applies <see cref="SpecOverride"/>s to a YAML document by editing its text in place, so that every
/// untouched field keeps its line and column and the spec's own parser still reports `FILE:LINE:COL`.
/// A replaced scalar stays on its line; a new field is inserted after the last entry of its mapping.
/// </summary>
public static class YamlOverrides
{
    /// <summary>Loads <paramref name="file"/> (or an empty document when null) with the overrides applied.</summary>
    public static YNode Load(string? file, string text, IReadOnlyList<SpecOverride> overrides, string fieldPrefix = "")
    {
        var name = file ?? "<" + (fieldPrefix.Length > 0 ? fieldPrefix.TrimEnd('.') : "spec") + " overrides>";
        var edited = Apply(text, name, overrides, fieldPrefix);
        return YNode.LoadText(edited, name);
    }

    /// <summary>Returns <paramref name="text"/> with every override applied in order.</summary>
    public static string Apply(string text, string fileName, IReadOnlyList<SpecOverride> overrides, string fieldPrefix = "")
    {
        if (overrides.Count == 0) return text;
        if (overrides.Count > 1 && !overrides.Any(o => o.AddsField) && TryApplyReplacements(text, fileName, overrides, fieldPrefix) is { } fast)
            return fast;
        foreach (var o in overrides)
            text = ApplyOne(text, fileName, o, fieldPrefix);
        return text;
    }

    /// <summary>
    /// Sweeps override existing scalars at every point, so parsing once and splicing every replacement
    /// (right to left) halves the YAML work. Null when an edit is not a plain replacement; the caller then
    /// applies the overrides one at a time.
    /// </summary>
    private static string? TryApplyReplacements(string text, string fileName, IReadOnlyList<SpecOverride> overrides, string fieldPrefix)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var root = Parse(text, fileName, overrides[0], fieldPrefix);
        if (root is null) return null;
        // The last override of a path wins, as with sequential application.
        var edits = new Dictionary<string, (long Start, long End, string Text)>(StringComparer.Ordinal);
        foreach (var o in overrides)
        {
            YamlNode? node = root;
            foreach (var segment in ParsePath(o, fieldPrefix))
            {
                node = (segment, node) switch
                {
                    (KeySegment k, YamlMappingNode map) => map.Children.TryGetValue(new YamlScalarNode(k.Key), out var c) ? c : null,
                    (IndexSegment ix, YamlSequenceNode seq) => ix.Index < seq.Children.Count ? seq.Children[ix.Index] : null,
                    _ => null,
                };
                if (node is null) return null;
            }
            if (node is not YamlScalarNode scalar || scalar.Style is ScalarStyle.Literal or ScalarStyle.Folded ||
                scalar.Start.Index == scalar.End.Index || o.Value.Contains('\n') || o.Value.Contains('\r'))
                return null;
            edits[o.Path] = (scalar.Start.Index, scalar.End.Index, FormatScalar(o.Value));
        }
        var ordered = edits.Values.OrderByDescending(e => e.Start).ToList();
        for (var i = 1; i < ordered.Count; i++)
            if (ordered[i].End > ordered[i - 1].Start) return null; // overlapping edits: let the slow path decide
        var sb = new StringBuilder(text);
        foreach (var (start, end, replacement) in ordered)
            sb.Remove((int)start, (int)(end - start)).Insert((int)start, replacement);
        return sb.ToString();
    }

    private abstract record Segment;
    private sealed record KeySegment(string Key) : Segment;
    private sealed record IndexSegment(int Index) : Segment;

    private static readonly Regex SegmentPattern = new(@"^(?<key>[^.\[\]]+)(?<idx>(\[\d+\])*)$", RegexOptions.Compiled);

    private static List<Segment> ParsePath(SpecOverride o, string fieldPrefix)
    {
        var segments = new List<Segment>();
        foreach (var part in o.Path.Split('.'))
        {
            var m = SegmentPattern.Match(part);
            if (!m.Success)
                throw Fail(o, fieldPrefix, $"malformed field path '{o.Path}' (expected names separated by '.', with optional [index])");
            segments.Add(new KeySegment(m.Groups["key"].Value));
            foreach (var idx in m.Groups["idx"].Value.Split('[', StringSplitOptions.RemoveEmptyEntries))
                segments.Add(new IndexSegment(int.Parse(idx.TrimEnd(']'), Invariant.Culture)));
        }
        return segments;
    }

    private static InputException Fail(SpecOverride o, string fieldPrefix, string problem) =>
        new(o.Origin, fieldPrefix + o.Path, problem);

    private static string ApplyOne(string text, string fileName, SpecOverride o, string fieldPrefix)
    {
        var segments = ParsePath(o, fieldPrefix);
        if (o.Value.Contains('\n') || o.Value.Contains('\r'))
            throw Fail(o, fieldPrefix, "value must be on one line");
        if (string.IsNullOrWhiteSpace(text)) text = "{}";
        var root = Parse(text, fileName, o, fieldPrefix);
        if (root is null || root is YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            text = "{}";
            root = Parse(text, fileName, o, fieldPrefix);
        }

        YamlNode node = root!;
        var walked = new StringBuilder();
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var where = walked.Length == 0 ? "the document root" : $"'{walked}'";
            switch (segment)
            {
                case KeySegment { Key: var key }:
                    if (node is not YamlMappingNode map)
                        throw Fail(o, fieldPrefix, $"{where} in {fileName} is a {Kind(node)}, not a mapping");
                    if (map.Children.TryGetValue(new YamlScalarNode(key), out var child))
                    {
                        node = child;
                        break;
                    }
                    if (!o.AddsField)
                    {
                        var siblings = map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();
                        var hint = Suggest.Closest(key, siblings) is { } near
                            ? $"did you mean '{fieldPrefix}{Append(walked, near)}'? or write +{fieldPrefix}{o.Path} to add it"
                            : $"write +{fieldPrefix}{o.Path} to add it";
                        throw Fail(o, fieldPrefix, $"{fileName} has no field '{Append(walked, key)}' ({hint})");
                    }
                    var rest = segments.Skip(i + 1).ToList();
                    if (rest.Any(s => s is IndexSegment))
                        throw Fail(o, fieldPrefix, "cannot create a list element; only mapping fields can be added");
                    var keys = new[] { key }.Concat(rest.Cast<KeySegment>().Select(s => s.Key)).ToList();
                    return InsertField(text, map, keys, FormatScalar(o.Value), o, fieldPrefix);
                case IndexSegment { Index: var index }:
                    if (node is not YamlSequenceNode seq)
                        throw Fail(o, fieldPrefix, $"{where} in {fileName} is a {Kind(node)}, not a list");
                    if (index >= seq.Children.Count)
                        throw Fail(o, fieldPrefix, $"index {index} is out of range: {where} has {seq.Children.Count} elements");
                    node = seq.Children[index];
                    break;
            }
            walked.Append(segment switch
            {
                KeySegment k => (walked.Length == 0 ? "" : ".") + k.Key,
                IndexSegment ix => $"[{ix.Index}]",
                _ => "",
            });
        }

        // A cited quantity ({value: ..., source: ...}, as every GPU spec field is): a plain value sets its `value`, and its
        // `source` then says where the number comes from, so `arch.sm_count=66` works as it does on other specs.
        if (node is YamlMappingNode quantity && !IsFlowCollection(o.Value) && quantity.Children.ContainsKey(new YamlScalarNode("value")))
        {
            var edited = ApplyOne(text, fileName, o with { Path = o.Path + ".value", AddsField = false }, fieldPrefix);
            if (!quantity.Children.ContainsKey(new YamlScalarNode("source"))) return edited;
            var by = (o.Origin is { } at ? $"overridden at {at}" : "overridden on the command line") + $": {fieldPrefix}{o.Path}={o.Value}";
            // A spec whose sources are keys of a `sources:` table (GPU specs) gets an entry for the override.
            if (root is YamlMappingNode { } top && top.Children.TryGetValue(new YamlScalarNode("sources"), out var table) && table is YamlMappingNode)
            {
                var key = "set_" + Regex.Replace(o.Path, "[^A-Za-z0-9_]", "_");
                edited = ApplyOne(edited, fileName, new SpecOverride("sources." + key, by, AddsField: true, o.Origin), fieldPrefix);
                by = key;
            }
            return ApplyOne(edited, fileName, o with { Path = o.Path + ".source", Value = by, AddsField = false }, fieldPrefix);
        }

        var replacement = FormatScalar(o.Value);
        switch (node)
        {
            case YamlScalarNode scalar when scalar.Style is ScalarStyle.Literal or ScalarStyle.Folded:
                throw Fail(o, fieldPrefix, $"'{walked}' in {fileName} is a multi-line block scalar; edit the file instead");
            case YamlScalarNode scalar when scalar.Start.Index == scalar.End.Index:
                // An empty value (`key:`): its position is unreliable, so insert right after the key's colon.
                var at = AfterColon(text, FindKeyEnd(root!, scalar));
                return text[..at] + " " + replacement + text[at..];
            case YamlScalarNode scalar:
                return Splice(text, scalar.Start.Index, scalar.End.Index, replacement);
            case YamlMappingNode { Style: MappingStyle.Flow } or YamlSequenceNode { Style: SequenceStyle.Flow }
                when FlowEnd(text, (int)node.Start.Index) is var end && end > 0 && !text[(int)node.Start.Index..end].Contains('\n'):
                return Splice(text, node.Start.Index, end, replacement);
            default:
                throw Fail(o, fieldPrefix, $"'{walked}' in {fileName} is a {Kind(node)}; only values on one line can be set");
        }
    }

    private static bool IsFlowCollection(string value) =>
        (value.StartsWith('[') && value.EndsWith(']')) || (value.StartsWith('{') && value.EndsWith('}'));

    private static string Append(StringBuilder walked, string key) => walked.Length == 0 ? key : walked + "." + key;

    private static YamlNode? Parse(string text, string fileName, SpecOverride o, string fieldPrefix)
    {
        var stream = new YamlStream();
        try
        {
            YNode.CheckNesting(text, fileName); // the tree below recurses once per level
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            // Surface the file's own syntax error with its location.
            throw new InputException(new SourceLocation(fileName, (int)e.Start.Line, (int)e.Start.Column), null,
                "malformed YAML: " + e.Message.ReplaceLineEndings(" "));
        }
        return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
    }

    private static string Kind(YamlNode node) => node switch
    {
        YamlScalarNode => "scalar",
        YamlSequenceNode => "list",
        YamlMappingNode => "mapping",
        _ => "node",
    };

    private static string Splice(string text, long start, long end, string replacement) =>
        text[..(int)start] + replacement + text[(int)end..];

    /// <summary>A plain scalar when YAML reads it back unchanged, a flow collection as written, else double-quoted.</summary>
    public static string FormatScalar(string value)
    {
        if (value.Length == 0) return "\"\"";
        if ((value.StartsWith('[') && value.EndsWith(']')) || (value.StartsWith('{') && value.EndsWith('}'))) return value;
        if (PlainSafe.IsMatch(value)) return value;
        return "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    private static readonly Regex PlainSafe = new(@"^[A-Za-z0-9_+\-][A-Za-z0-9_.+\-/]*$", RegexOptions.Compiled);

    private static string InsertField(string text, YamlMappingNode map, IReadOnlyList<string> keys, string value,
        SpecOverride o, string fieldPrefix)
    {
        var entry = keys[^1] + ": " + value;
        for (var i = keys.Count - 2; i >= 0; i--) entry = keys[i] + ": {" + entry + "}";

        if (map.Style == MappingStyle.Flow)
        {
            var close = FlowEnd(text, (int)map.Start.Index) - 1;
            if (close < 0 || text[close] != '}') throw Fail(o, fieldPrefix, "could not locate the end of the flow mapping");
            var sep = map.Children.Count > 0 ? ", " : "";
            return text[..close] + sep + entry + text[close..];
        }

        var indent = new string(' ', Math.Max(0, (int)map.Start.Column - 1));
        var at = LastEnd(text, map);
        return text[..at] + "\n" + indent + entry + text[at..];
    }

    /// <summary>Text index just past the last value written inside a block node.</summary>
    private static int LastEnd(string text, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode { Style: not MappingStyle.Flow } map when map.Children.Count > 0:
                var (key, value) = map.Children.Last();
                if (value is YamlScalarNode s && s.Start.Index == s.End.Index)
                    return AfterColon(text, (int)key.End.Index);
                return LastEnd(text, value);
            case YamlSequenceNode { Style: not SequenceStyle.Flow } seq when seq.Children.Count > 0:
                return LastEnd(text, seq.Children.Last());
            case YamlMappingNode or YamlSequenceNode:
                // YamlDotNet gives collections no end mark: find the closing bracket of a flow collection.
                return Math.Max(FlowEnd(text, (int)node.Start.Index), (int)node.Start.Index);
            default:
                return (int)node.End.Index;
        }
    }

    /// <summary>Index just past the bracket closing the flow collection that opens at <paramref name="start"/>
    /// (quotes respected); -1 when there is none.</summary>
    private static int FlowEnd(string text, int start)
    {
        if (start >= text.Length || text[start] is not ('[' or '{')) return -1;
        var depth = 0;
        char? quote = null;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is { } q)
            {
                if (c == '\\' && q == '"') i++;
                else if (c == q) quote = null;
                continue;
            }
            switch (c)
            {
                case '"' or '\'':
                    quote = c;
                    break;
                case '[' or '{':
                    depth++;
                    break;
                case ']' or '}':
                    if (--depth == 0) return i + 1;
                    break;
            }
        }
        return -1;
    }

    private static int AfterColon(string text, int keyEnd)
    {
        var i = keyEnd;
        while (i < text.Length && text[i] != ':') i++;
        return Math.Min(i + 1, text.Length);
    }

    private static int FindKeyEnd(YamlNode root, YamlScalarNode value)
    {
        foreach (var node in root.AllNodes)
            if (node is YamlMappingNode map)
                foreach (var (k, v) in map.Children)
                    if (ReferenceEquals(v, value))
                        return (int)k.End.Index;
        return (int)value.Start.Index;
    }
}

/// <summary>
/// `--set` overrides of one command, split by target: `arch.*`, `workload.*` and `options.*`. Every verb that
/// reads an architecture or workload loads it through <see cref="LoadArch"/> / <see cref="LoadWorkload"/>, so
/// `--set arch.global_buffer.size=8388608` works the same way everywhere.
/// </summary>
public sealed record SpecOverrideSet(
    IReadOnlyList<SpecOverride> Arch,
    IReadOnlyList<SpecOverride> Workload,
    IReadOnlyList<KeyValuePair<string, string>> Options)
{
    public static readonly SpecOverrideSet Empty = new([], [], []);

    /// <summary>Routes each override by its prefix; anything else is a one-line input error.</summary>
    public static SpecOverrideSet Split(IEnumerable<SpecOverride> overrides)
    {
        var arch = new List<SpecOverride>();
        var workload = new List<SpecOverride>();
        var options = new List<KeyValuePair<string, string>>();
        foreach (var o in overrides)
        {
            var name = ParameterName.Parse((o.AddsField ? "+" : "") + o.Path, o.Origin, "--set");
            switch (name.Target)
            {
                case ParameterTarget.ArchField: arch.Add(name.ToOverride(o.Value, o.Origin)); break;
                case ParameterTarget.WorkloadField: workload.Add(name.ToOverride(o.Value, o.Origin)); break;
                case ParameterTarget.Option: options.Add(new(name.Path, o.Value)); break;
                default:
                    throw new InputException(o.Origin, "--set", $"'{o.Path}' picks a file; give the file on the command line instead");
            }
        }
        return new SpecOverrideSet(arch, workload, options);
    }

    public YNode LoadArch(string path) => LoadWith(path, Arch, "arch.");

    public YNode LoadWorkload(string path) => LoadWith(path, Workload, "workload.");

    private static YNode LoadWith(string path, IReadOnlyList<SpecOverride> overrides, string prefix)
    {
        if (overrides.Count == 0) return YNode.LoadFile(path);
        if (!File.Exists(path)) throw new InputException(SourceLocation.FileOnly(path), null, "file not found");
        return YamlOverrides.Load(path, File.ReadAllText(path), overrides, prefix);
    }
}
