using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AccelSim.Core;

/// <summary>
/// A YAML node with its source position and a field path, so that every validation error can name
/// `FILE:LINE:COL: path.to.field: problem`. Specs are parsed through this wrapper, never deserialised blindly.
/// </summary>
public sealed class YNode
{
    private readonly YamlNode _node;

    private YNode(YamlNode node, string file, string path)
    {
        _node = node;
        File = file;
        Path = path;
    }

    public string File { get; }

    /// <summary>Dotted field path from the document root, e.g. `einsums[3].expr`.</summary>
    public string Path { get; }

    public SourceLocation Location => new(File, (int)_node.Start.Line, (int)_node.Start.Column);

    public bool IsScalar => _node is YamlScalarNode;
    public bool IsSequence => _node is YamlSequenceNode;
    public bool IsMapping => _node is YamlMappingNode;

    /// <summary>True for an explicit null (`~`, `null` or an empty value).</summary>
    public bool IsNull => _node is YamlScalarNode s && s.Style == ScalarStyle.Plain &&
                          (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    public static YNode LoadFile(string path)
    {
        if (!System.IO.File.Exists(path))
            throw new InputException(SourceLocation.FileOnly(path), null, "file not found");
        return LoadText(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>
    /// The deepest nesting of lists and mappings accepted. YamlDotNet's event parser is iterative but its tree (and
    /// every reader of a tree) recurses once per level, so deeper documents are refused before the tree is built.
    /// </summary>
    public const int MaxDepth = 128;

    public static YNode LoadText(string text, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            CheckNesting(text, fileName);
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var loc = new SourceLocation(fileName, (int)e.Start.Line, (int)e.Start.Column);
            throw new InputException(loc, null, "malformed YAML: " + FirstSentence(e.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet sometimes fails without a position (e.g. an unclosed flow sequence): locate it by replaying events.
            throw new InputException(LastGoodPosition(text, fileName), null, "malformed YAML: unexpected structure here (an unclosed [ or { ?)");
        }
        if (stream.Documents.Count == 0)
            throw new InputException(SourceLocation.FileOnly(fileName), null, "empty YAML document");
        if (stream.Documents.Count > 1)
        {
            // A second document would be silently ignored: say so instead.
            var second = stream.Documents[1].RootNode.Start;
            throw new InputException(new SourceLocation(fileName, (int)second.Line, (int)second.Column), null,
                "a second YAML document (after '---'); a spec file holds one document");
        }
        return new YNode(stream.Documents[0].RootNode, fileName, "");
    }

    /// <summary>
    /// Throws when lists and mappings nest deeper than <see cref="MaxDepth"/>, at the collection that goes too deep;
    /// replays only parser events (no tree). Malformed YAML is left for the caller's own load to report.
    /// </summary>
    public static void CheckNesting(string text, string fileName)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.SequenceStart or YamlDotNet.Core.Events.MappingStart:
                    if (++depth > MaxDepth)
                    {
                        var at = parser.Current.Start;
                        throw new InputException(new SourceLocation(fileName, (int)at.Line, (int)at.Column), null,
                            $"YAML nests deeper than {MaxDepth} levels of lists and mappings");
                    }
                    break;
                case YamlDotNet.Core.Events.SequenceEnd or YamlDotNet.Core.Events.MappingEnd:
                    depth--;
                    break;
            }
        }
    }

    private static SourceLocation LastGoodPosition(string text, string fileName)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        Mark last = Mark.Empty;
        try
        {
            while (parser.MoveNext())
                if (parser.Current is { } ev) last = ev.Start;
        }
        catch (Exception)
        {
            // the position of the last event that parsed is the best we have
        }
        return new SourceLocation(fileName, Math.Max(1, (int)last.Line), Math.Max(1, (int)last.Column));
    }

    private static string FirstSentence(string message)
    {
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: ...) - (...): "; keep the human part.
        var i = message.LastIndexOf("): ", StringComparison.Ordinal);
        var core = i >= 0 ? message[(i + 3)..] : message;
        return core.ReplaceLineEndings(" ").Trim();
    }

    public InputException Error(string problem) => new(Location, Path.Length == 0 ? null : Path, problem);

    public InputException Error(string field, string problem) =>
        new(Location, Join(Path, field), problem);

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    // ---- scalars ----

    public string Text => _node is YamlScalarNode s
        ? s.Value ?? ""
        : throw Error($"expected a scalar value, found a {KindName}");

    public string KindName => _node switch
    {
        YamlScalarNode => "scalar",
        YamlSequenceNode => "list",
        YamlMappingNode => "mapping",
        _ => "node",
    };

    public long AsLong()
    {
        if (Invariant.TryParseLong(Text.Replace("_", ""), out var v)) return v;
        if (Invariant.TryParseDouble(Text, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e18) return (long)d;
        throw Error($"expected an integer, found '{Text}'");
    }

    public int AsInt()
    {
        var v = AsLong();
        if (v is < int.MinValue or > int.MaxValue) throw Error($"integer {v} is out of range");
        return (int)v;
    }

    public double AsDouble()
    {
        var t = Text.Trim();
        switch (t)
        {
            case "inf" or "+inf" or ".inf" or "Infinity": return double.PositiveInfinity;
            case "-inf" or "-.inf" or "-Infinity": return double.NegativeInfinity;
        }
        if (Invariant.TryParseDouble(t.Replace("_", ""), out var v)) return v;
        throw Error($"expected a number, found '{Text}'");
    }

    public bool AsBool() => Text.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw Error($"expected true or false, found '{Text}'"),
    };

    // ---- sequences ----

    public IReadOnlyList<YNode> Items => _node is YamlSequenceNode seq
        ? seq.Children.Select((c, i) => new YNode(c, File, $"{Path}[{i}]")).ToList()
        : throw Error($"expected a list, found a {KindName}");

    /// <summary>A list, or a single scalar treated as a one-element list.</summary>
    public IReadOnlyList<YNode> ItemsOrSingle => IsSequence ? Items : new[] { this };

    // ---- mappings ----

    public IReadOnlyList<KeyValuePair<string, YNode>> Entries => _node is YamlMappingNode map
        ? map.Children.Select(kv =>
        {
            var key = kv.Key is YamlScalarNode ks ? ks.Value ?? "" : kv.Key.ToString();
            return new KeyValuePair<string, YNode>(key, new YNode(kv.Value, File, Join(Path, key)));
        }).ToList()
        : throw Error($"expected a mapping, found a {KindName}");

    /// <summary>Location of a mapping key (better than the value's location for "unknown key" errors).</summary>
    public SourceLocation KeyLocation(string key)
    {
        if (_node is YamlMappingNode map)
            foreach (var kv in map.Children)
                if (kv.Key is YamlScalarNode ks && ks.Value == key)
                    return new SourceLocation(File, (int)kv.Key.Start.Line, (int)kv.Key.Start.Column);
        return Location;
    }

    public bool Has(string key) => _node is YamlMappingNode map && map.Children.ContainsKey(new YamlScalarNode(key));

    public YNode? Opt(string key)
    {
        if (_node is not YamlMappingNode map) throw Error($"expected a mapping, found a {KindName}");
        return map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? new YNode(v, File, Join(Path, key)) : null;
    }

    public YNode Req(string key) =>
        Opt(key) ?? throw new InputException(Location, Join(Path, key), "required field is missing");

    /// <summary>Rejects keys outside <paramref name="allowed"/>, so a typo is an error instead of being ignored.</summary>
    public void ExpectOnlyKeys(params string[] allowed)
    {
        foreach (var (key, _) in Entries)
            if (!allowed.Contains(key))
                throw new InputException(KeyLocation(key), Join(Path, key),
                    $"unknown field{Suggest.DidYouMean(key, allowed)} (expected one of: {string.Join(", ", allowed)})");
    }

    public string? OptString(string key) => Opt(key) is { IsNull: false } n ? n.Text : null;
    public long? OptLong(string key) => Opt(key) is { IsNull: false } n ? n.AsLong() : null;
    public double? OptDouble(string key) => Opt(key) is { IsNull: false } n ? n.AsDouble() : null;
    public bool? OptBool(string key) => Opt(key) is { IsNull: false } n ? n.AsBool() : null;
}
