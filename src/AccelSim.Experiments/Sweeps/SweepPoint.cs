using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// One point of a sweep as an engine sees it: the swept values, and the architecture and workload documents
/// with this point's overrides applied (parse them with the engine's own spec parser).
/// </summary>
public sealed class SweepPoint
{
    private readonly string[] _values;
    private string? _id;

    internal SweepPoint(SweepSpec sweep, int index, string[] values)
    {
        Sweep = sweep;
        Index = index;
        _values = values;
    }

    public SweepSpec Sweep { get; }

    /// <summary>Position in the sweep's canonical order (0-based).</summary>
    public int Index { get; }

    /// <summary>Hash of the assignment (16 hex digits); stable across runs, shards and machines.</summary>
    public string Id => _id ??= Sweep.HashAssignment(_values);

    /// <summary>Swept values in <see cref="SweepSpec.Parameters"/> order.</summary>
    public IReadOnlyList<string> Values => _values;

    /// <summary>The swept value of <paramref name="parameter"/> (e.g. `workload.seq_len`), or null if not swept.</summary>
    public string? this[string parameter]
    {
        get
        {
            var i = Sweep.ParameterIndex(parameter);
            return i < 0 ? null : _values[i];
        }
    }

    /// <summary>The chosen architecture file (null when the sweep names none).</summary>
    public SpecFileChoice? ArchFile => Choose(Sweep.Archs, "arch");

    public SpecFileChoice? WorkloadFile => Choose(Sweep.Workloads, "workload");

    /// <summary>The name of the chosen architecture (the file's name when the sweep gives a single path).</summary>
    public string? ArchName => ArchFile?.Name;

    public string? WorkloadName => WorkloadFile?.Name;

    /// <summary>The architecture YAML with `set:` and swept `arch.*` overrides applied; null when there is neither
    /// a file nor an override. Cached per distinct (file, overrides).</summary>
    public YNode? Arch => Sweep.LoadDocument(ArchFile, Overrides(ParameterTarget.ArchField), "arch.");

    public YNode? Workload => Sweep.LoadDocument(WorkloadFile, Overrides(ParameterTarget.WorkloadField), "workload.");

    /// <summary>A key identifying <see cref="Arch"/>'s content, for engines that cache parsed specs.</summary>
    public string ArchKey => (ArchFile?.FullPath ?? "") + "|" + string.Join("|", Overrides(ParameterTarget.ArchField));

    public string WorkloadKey => (WorkloadFile?.FullPath ?? "") + "|" + string.Join("|", Overrides(ParameterTarget.WorkloadField));

    /// <summary>An engine option: the swept `options.NAME` value, else the fixed one, else null.</summary>
    public string? Option(string name)
    {
        string? value = null;
        foreach (var (k, v) in Sweep.Options)
            if (k == name) value = v;
        foreach (var f in Sweep.FixedParameters)
            if (f.Name.Target == ParameterTarget.Option && f.Name.Path == name) value = f.Value;
        for (var i = 0; i < _values.Length; i++)
        {
            var p = Sweep.Parameters[i].Name;
            if (p.Target == ParameterTarget.Option && p.Path == name) value = _values[i];
        }
        return value;
    }

    public double OptionDouble(string name, double defaultValue)
    {
        var text = Option(name);
        if (text is null) return defaultValue;
        return Invariant.TryParseDouble(text.Replace("_", ""), out var v)
            ? v
            : throw new InputException(Sweep.OptionsLocation, "options." + name, $"expected a number, found '{text}'");
    }

    public bool OptionBool(string name, bool defaultValue)
    {
        var text = Option(name);
        if (text is null) return defaultValue;
        return text.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw new InputException(Sweep.OptionsLocation, "options." + name, $"expected true or false, found '{text}'"),
        };
    }

    /// <summary>The overrides of one spec file for this point: fixed ones first, then the swept ones.</summary>
    public IReadOnlyList<SpecOverride> Overrides(ParameterTarget target)
    {
        List<SpecOverride>? list = null;
        foreach (var f in Sweep.FixedParameters)
            if (f.Name.Target == target)
                (list ??= []).Add(f.Name.ToOverride(f.Value, f.Location));
        for (var i = 0; i < _values.Length; i++)
        {
            var p = Sweep.Parameters[i];
            if (p.Name.Target == target)
                (list ??= []).Add(p.Name.ToOverride(_values[i], p.Location));
        }
        return list ?? (IReadOnlyList<SpecOverride>)[];
    }

    private SpecFileChoice? Choose(System.Collections.Immutable.ImmutableArray<SpecFileChoice> files, string parameter)
    {
        if (files.IsEmpty) return null;
        if (files.Length == 1) return files[0];
        var name = this[parameter];
        foreach (var f in files)
            if (f.Name == name) return f;
        throw new InvalidOperationException($"point {Index} has no valid {parameter} choice");
    }

    public override string ToString() =>
        $"point {Index} ({string.Join(", ", Sweep.Parameters.Select((p, i) => p.Column + "=" + _values[i]))})";
}
