using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>What a parameter name addresses.</summary>
public enum ParameterTarget
{
    /// <summary>`arch`: picks one of the named architecture files.</summary>
    ArchChoice,
    /// <summary>`workload`: picks one of the named workload files.</summary>
    WorkloadChoice,
    /// <summary>`arch.&lt;path&gt;`: a field of the architecture YAML.</summary>
    ArchField,
    /// <summary>`workload.&lt;path&gt;`: a field of the workload YAML.</summary>
    WorkloadField,
    /// <summary>`options.&lt;name&gt;`: an engine option.</summary>
    Option,
}

/// <summary>
/// A parameter name as written in a sweep file or on `--set`: `arch`, `workload`, `arch.pe_array.rows`,
/// `+arch.new_field` (adds a field), `workload.seq_len`, `options.mode`.
/// </summary>
public sealed record ParameterName(string Name, ParameterTarget Target, string Path, bool AddsField)
{
    public static ParameterName Parse(string written, SourceLocation? location, string field)
    {
        var adds = written.StartsWith('+');
        var name = adds ? written[1..] : written;
        ParameterName? parsed = name switch
        {
            "arch" when !adds => new(name, ParameterTarget.ArchChoice, "", false),
            "workload" when !adds => new(name, ParameterTarget.WorkloadChoice, "", false),
            _ when name.StartsWith("arch.", StringComparison.Ordinal) && name.Length > 5 =>
                new(name, ParameterTarget.ArchField, name[5..], adds),
            _ when name.StartsWith("workload.", StringComparison.Ordinal) && name.Length > 9 =>
                new(name, ParameterTarget.WorkloadField, name[9..], adds),
            _ when name.StartsWith("options.", StringComparison.Ordinal) && name.Length > 8 && !adds =>
                new(name, ParameterTarget.Option, name[8..], false),
            _ => null,
        };
        return parsed ?? throw new InputException(location, field,
            $"unknown parameter '{written}' (expected arch, workload, arch.<field>, workload.<field>, " +
            "+arch.<new field>, +workload.<new field> or options.<name>)");
    }

    public SpecOverride ToOverride(string value, SourceLocation? origin) => new(Path, value, AddsField, origin);
}

/// <summary>One swept parameter: its name, where its values live, and the column it gets in results.csv.</summary>
public sealed record SweepParameter(ParameterName Name, int Axis, int PositionInAxis, SourceLocation Location)
{
    public string Column => Name.Name;
}

/// <summary>
/// One dimension of the sweep space. A grid parameter is an axis with one name; a zip group is one axis
/// whose names advance together. <see cref="Entries"/>[i][j] is the i-th value of <see cref="Names"/>[j].
/// </summary>
public sealed record ParameterAxis(
    ImmutableArray<ParameterName> Names,
    ImmutableArray<ImmutableArray<string>> Entries,
    SourceLocation Location)
{
    public int Count => Entries.Length;

    public int IndexOf(string parameter) => Names.Select(n => n.Name).ToList().IndexOf(parameter);
}

/// <summary>A fixed assignment (`set:` or `--set`): applied to every point, not a column.</summary>
public sealed record FixedParameter(ParameterName Name, string Value, SourceLocation? Location);

/// <summary>A spec file (architecture or workload) a sweep refers to, by the name a point picks it with.</summary>
public sealed record SpecFileChoice(string Name, string WrittenPath, string FullPath, string Text, SourceLocation Location)
{
    /// <summary>How messages name the file: its path from the working directory when it lies below it, else
    /// absolute (never a `../../..` climb out of the working directory). Relative references inside the file
    /// (kernels:, model:, extends:) resolve from either.</summary>
    public string DisplayPath => ForDisplay(FullPath);

    public static string ForDisplay(string fullPath)
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), fullPath);
        var climbs = relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) ||
                     relative.StartsWith("../", StringComparison.Ordinal);
        return climbs || Path.IsPathRooted(relative) ? fullPath : relative;
    }
}
