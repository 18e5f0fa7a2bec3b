using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using AccelSim.Core;
using AccelSim.Experiments.Plots;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// A validated sweep: the engine, the spec files, the axes of the sweep space, the metrics kept, the baseline
/// and the plots. Points are numbered 0..<see cref="PointCount"/>-1 in a fixed order: the first axis varies
/// slowest (like nested loops written top to bottom). A point's id is its index plus a hash of its assignment.
/// Built by <see cref="SweepSpecParser"/>.
/// </summary>
public sealed class SweepSpec
{
    private readonly int[] _strides;
    private readonly string[] _parameterColumns;
    private readonly ConcurrentDictionary<string, YNode> _documents = new(StringComparer.Ordinal);
    private const int MaxCachedDocuments = 20_000;

    internal SweepSpec(
        string file, string name, string description, string engine, SourceLocation engineLocation,
        ImmutableArray<SpecFileChoice> archs, ImmutableArray<SpecFileChoice> workloads,
        ImmutableArray<KeyValuePair<string, string>> options, SourceLocation? optionsLocation,
        ImmutableArray<FixedParameter> fixedParameters, ImmutableArray<ParameterAxis> axes,
        ImmutableArray<MetricInfo> metrics, ImmutableArray<KeyValuePair<string, string>> baseline,
        ImmutableArray<PlotRequest> plots, string specHash)
    {
        File = file;
        Name = name;
        Description = description;
        Engine = engine;
        EngineLocation = engineLocation;
        Archs = archs;
        Workloads = workloads;
        Options = options;
        OptionsLocation = optionsLocation;
        FixedParameters = fixedParameters;
        Axes = axes;
        Metrics = metrics;
        Baseline = baseline;
        Plots = plots;
        SpecHash = specHash;

        Parameters = [.. axes.SelectMany((axis, a) => axis.Names.Select((n, j) => new SweepParameter(n, a, j, axis.Location)))];
        _parameterColumns = [.. Parameters.Select(p => p.Column)];
        _strides = new int[axes.Length];
        long count = 1;
        for (var a = axes.Length - 1; a >= 0; a--)
        {
            _strides[a] = (int)count;
            count *= axes[a].Count;
        }
        PointCount = (int)count;
        Columns = [.. FixedColumns, .. Parameters.Select(p => p.Column), .. metrics.Select(m => m.Name), ErrorColumn];
    }

    /// <summary>Refuses sweeps whose point bitmap and CSV would be unreasonable for one folder.</summary>
    public const long MaxPoints = 100_000_000;

    public const string IndexColumn = "point";
    public const string IdColumn = "point_id";
    public const string ErrorColumn = "error";
    public static readonly ImmutableArray<string> FixedColumns = [IndexColumn, IdColumn];

    /// <summary>The sweep file as given on the command line.</summary>
    public string File { get; }
    public string Name { get; }
    public string Description { get; }
    public string Engine { get; }
    public SourceLocation EngineLocation { get; }

    /// <summary>Architecture files; one unnamed entry for `arch: path`, several for a `name: path` mapping, none when absent.</summary>
    public ImmutableArray<SpecFileChoice> Archs { get; }
    public ImmutableArray<SpecFileChoice> Workloads { get; }

    /// <summary>Fixed engine options (`options:`), in file order.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Options { get; }
    public SourceLocation? OptionsLocation { get; }

    /// <summary>Fixed overrides (`set:` and `--set`), applied to every point before the swept values.</summary>
    public ImmutableArray<FixedParameter> FixedParameters { get; }

    public ImmutableArray<ParameterAxis> Axes { get; }

    /// <summary>Every swept parameter in column order (axis order, then position inside a zip group).</summary>
    public ImmutableArray<SweepParameter> Parameters { get; }

    /// <summary>The metrics kept, in column order.</summary>
    public ImmutableArray<MetricInfo> Metrics { get; }

    /// <summary>The baseline assignment for speedups and ratios (e.g. arch=flat); empty when none.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Baseline { get; }

    public ImmutableArray<PlotRequest> Plots { get; }

    /// <summary>SHA-256 over the sweep file, every spec file it reads and the --set overrides: a resumed or
    /// merged run must have the same hash.</summary>
    public string SpecHash { get; }

    public int PointCount { get; }

    /// <summary>results.csv columns: point, point_id, the parameters, the metrics, error.</summary>
    public ImmutableArray<string> Columns { get; }

    public int ParameterIndex(string name)
    {
        for (var i = 0; i < Parameters.Length; i++)
            if (Parameters[i].Column == name) return i;
        return -1;
    }

    /// <summary>The parameter values of point <paramref name="index"/>, in <see cref="Parameters"/> order.</summary>
    public string[] ValuesAt(int index)
    {
        if ((uint)index >= (uint)PointCount) throw new ArgumentOutOfRangeException(nameof(index));
        var values = new string[Parameters.Length];
        var k = 0;
        for (var a = 0; a < Axes.Length; a++)
        {
            var entry = Axes[a].Entries[index / _strides[a] % Axes[a].Count];
            foreach (var v in entry) values[k++] = v;
        }
        return values;
    }

    public SweepPoint PointAt(int index) => new(this, index, ValuesAt(index));

    /// <summary>`INDEX-HASH`-style stable id: 16 hex digits of SHA-256 over `name=value` lines.</summary>
    public string PointId(int index) => HashAssignment(ValuesAt(index));

    internal string HashAssignment(string[] values) => HashAssignment(_parameterColumns, values);

    /// <summary>The point id of an assignment: 16 hex digits of SHA-256 over `column=value` lines, in column order.
    /// Merge uses it to check a row's id against the parameter values the row carries.</summary>
    public static string HashAssignment(IReadOnlyList<string> columns, IReadOnlyList<string> values)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
            sb.Append(columns[i]).Append('=').Append(values[i]).Append('\n');
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>The index of the point with the same assignment as <paramref name="index"/> except for the
    /// baseline parameters; null when the sweep has no baseline.</summary>
    public int? BaselineIndexOf(int index)
    {
        if (Baseline.IsEmpty) return null;
        var result = 0;
        for (var a = 0; a < Axes.Length; a++)
        {
            var axis = Axes[a];
            var entryIndex = index / _strides[a] % axis.Count;
            var wanted = axis.Entries[entryIndex].ToArray();
            var touched = false;
            foreach (var (name, value) in Baseline)
            {
                var j = axis.IndexOf(name);
                if (j < 0) continue;
                wanted[j] = value;
                touched = true;
            }
            if (touched)
            {
                entryIndex = -1;
                for (var e = 0; e < axis.Count && entryIndex < 0; e++)
                    if (axis.Entries[e].SequenceEqual(wanted, StringComparer.Ordinal))
                        entryIndex = e;
                if (entryIndex < 0) return null;
            }
            result += entryIndex * _strides[a];
        }
        return result;
    }

    /// <summary>Point indices of shard <paramref name="shard"/> (all points when null), ascending.</summary>
    public IEnumerable<int> Indices(ShardSpec? shard)
    {
        var start = shard?.Index ?? 0;
        var step = shard?.Count ?? 1;
        for (var i = start; i < PointCount; i += step) yield return i;
    }

    public int CountIn(ShardSpec? shard) =>
        shard is null ? PointCount : Math.Max(0, (PointCount - shard.Index + shard.Count - 1) / shard.Count);

    /// <summary>The architecture (or workload) document of a point with its overrides applied, cached by
    /// file and overrides so that points sharing them parse the YAML once.</summary>
    internal YNode? LoadDocument(SpecFileChoice? file, IReadOnlyList<SpecOverride> overrides, string prefix)
    {
        if (file is null && overrides.Count == 0) return null;
        var key = prefix + "\u0001" + (file?.FullPath ?? "") + "\u0001" + string.Join("\u0001", overrides);
        if (_documents.TryGetValue(key, out var cached)) return cached;
        // Name the document by a path that resolves from the working directory (not as written in the sweep, which
        // is relative to the sweep file), so that the spec's own relative references (kernels:, model:, extends:) resolve.
        var name = file?.DisplayPath;
        var node = YamlOverrides.Load(name, file?.Text ?? "", overrides, prefix);
        if (_documents.Count < MaxCachedDocuments) _documents.TryAdd(key, node);
        return node;
    }
}

/// <summary>`--shard i/N`: shard <see cref="Index"/> (0-based) of <see cref="Count"/> takes points i, i+N, i+2N...</summary>
public sealed record ShardSpec(int Index, int Count)
{
    public static ShardSpec Parse(string text, string field = "--shard")
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, Invariant.Culture, out var i) ||
            !int.TryParse(parts[1], System.Globalization.NumberStyles.None, Invariant.Culture, out var n))
            throw new InputException(null, field, $"expected INDEX/COUNT such as 0/8, got '{text}'");
        if (n < 1) throw new InputException(null, field, $"shard count must be at least 1, got {n}");
        if (i >= n) throw new InputException(null, field, $"shard index {i} must be below the shard count {n} (indices start at 0)");
        return new ShardSpec(i, n);
    }

    public override string ToString() => Invariant.Num(Index) + "/" + Invariant.Num(Count);
}
