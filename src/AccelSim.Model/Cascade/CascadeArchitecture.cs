using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;

namespace AccelSim.Model.Cascade;

/// <summary>How the operations of one Einsum point share a PE.</summary>
public enum IssuePolicy
{
    /// <summary>All operations go through one datapath: their cycles add (FuseMax's exp = 6 MACs, then the subtraction).</summary>
    Serial,

    /// <summary>Each operation kind has its own unit, chained in a pipeline: a point costs the slowest unit's cycles
    /// (FLAT's softmax unit: subtract, exponentiate and accumulate in one pass per element).</summary>
    Chained,
}

/// <summary>A compute array the binding names (e.g. `2d`, `1d`) and the hardware compute unit it is.</summary>
public sealed record ArraySpec(string Name, string Compute, IssuePolicy Issue, SourceLocation? Location);

/// <summary>Whether a stage's memory time overlaps the whole schedule or bounds the stage itself.</summary>
public enum MemoryOverlap
{
    /// <summary>DRAM transfers overlap all computation: latency = max(sum of stage times, total memory time).</summary>
    Overlapped,

    /// <summary>Stages run one after the other, each bounded by its own traffic: latency = sum of max(stage, its memory).</summary>
    PerStage,
}

/// <summary>
/// One stage of a schedule: the Einsums each array runs in it (the arrays overlap; each array runs its list one after
/// the other), or a stall: the first array waits for the spatial reduction of <see cref="StallAfter"/> to drain.
/// </summary>
public sealed record StageSpec(ImmutableArray<(string Array, ImmutableArray<string> Einsums)> Work, string? StallAfter, SourceLocation? Location);

public sealed record ScheduleSpec(MemoryOverlap Memory, ImmutableArray<StageSpec> Stages, SourceLocation? Location);

/// <summary>A named value used by mapping templates: an expression, a switch on a settings column, or a tile to fit.</summary>
public abstract record SymbolSpec(string Name, SourceLocation? Location);

public sealed record ExpressionSymbol(string Name, SymbolExpression Expression, SourceLocation? Location) : SymbolSpec(Name, Location);

/// <summary>`by: column, cases: {value: expression}`: the expression chosen by a settings column's text.</summary>
public sealed record CaseSymbol(string Name, string Column, ImmutableDictionary<string, SymbolExpression> Cases, SourceLocation? Location)
    : SymbolSpec(Name, Location);

/// <summary>
/// A tile extent solved per fusion group: the largest divisor of the ranks' size (their product, e.g. B x P rows of a
/// GEMM) whose tiles, over every Einsum of the group with each tensor the buffer keeps counted once at its largest
/// tile, fit the group's buffer.
/// </summary>
public sealed record FitSymbol(string Name, ImmutableArray<string> Ranks, SourceLocation? Location) : SymbolSpec(Name, Location);

/// <summary>How much of a fusion group's buffered data spills to DRAM.</summary>
public sealed record SpillSpec(double? Fixed, string? SettingsColumn, bool Fit, SourceLocation? Location)
{
    public static readonly SpillSpec None = new(0, null, false, null);
}

/// <summary>
/// One part of a study architecture (attention, or the end-to-end layer's GEMMs): the workload, which array runs each
/// Einsum, which tensors live off chip, the buffer that holds fused intermediates and tiles, mapping templates per
/// Einsum or per array, and the schedule. <see cref="Use"/> names the template of an Einsum or array; a list is a
/// preference order for an Einsum alone in its fusion group: the first template whose fitted tiles cover their whole
/// ranks (every operand then moves once) is taken, else the last.
/// </summary>
public sealed record SectionSpec(
    string Key,
    string WorkloadPath,
    ImmutableArray<string>? Einsums,
    ImmutableArray<ArraySpec> Arrays,
    ImmutableDictionary<string, string> Binding,
    string Buffer,
    long? BufferBudgetWords,
    ImmutableArray<string> Offchip,
    string? LocationColumn,
    SpillSpec Spill,
    ImmutableArray<SymbolSpec> Symbols,
    ImmutableDictionary<string, MappingTemplate> Templates,
    ImmutableDictionary<string, ImmutableArray<string>> Use,
    ScheduleSpec Schedule,
    SourceLocation? Location)
{
    public ArraySpec Array(string name) => Arrays.First(a => a.Name == name);

    /// <summary>Every Einsum, tensor, rank and dimension name the section writes, with its position, so that names
    /// the bound cascade lacks are reported at their line (<see cref="CascadeNames.Check"/>).</summary>
    public ImmutableArray<NameReference> References { get; init; } = [];

    /// <summary>Where `binding:` is written (an Einsum of the bound cascade that it leaves out is reported there).</summary>
    public SourceLocation? BindingLocation { get; init; }

    public string? BindingField { get; init; }
}

/// <summary>
/// A study architecture's section (binding, templates, symbols, schedule) applied to a given cascade: the cascade
/// mapping of that workload on this hardware. <see cref="Apply"/> checks that the mapping covers exactly the
/// cascade's names, so the cascade priced is always the one given; the section's own `workload:` is only the
/// default for callers that name none (`reproduce fusemax`, a sweep over model shapes).
/// </summary>
public sealed record CascadeMapping(SectionSpec Section, AccelSim.Einsum.Ir.Cascade Workload)
{
    public static CascadeMapping Apply(SectionSpec section, AccelSim.Einsum.Ir.Cascade workload)
    {
        CascadeNames.CheckMapping(section, workload);
        return new CascadeMapping(section with { WorkloadPath = workload.File }, workload);
    }
}

/// <summary>What a name in a cascade architecture must name in the bound cascade.</summary>
public enum NameKind
{
    Einsum,
    Tensor,
    /// <summary>A keep/bypass token: a tensor or a tensor set (onchip, offchip, intermediates, inputs, outputs, all).</summary>
    TensorOrSet,
    Rank,
    /// <summary>A loop dimension of a mapping template: an iteration variable of some Einsum of the cascade.</summary>
    Variable,
    /// <summary>A `use:` key: an Einsum or an array name.</summary>
    EinsumOrArray,
}

public sealed record NameReference(NameKind Kind, string Name, SourceLocation Location, string Field);

/// <summary>
/// A study architecture: hardware (an AccelSim architecture file plus overrides), optional per-point dataflow settings
/// (e.g. FLAT's per-model choices), and how the attention cascade and the end-to-end layer are bound and scheduled.
/// Five such files describe the FuseMax study (unfused, flat, cascade, stall, fusemax); one scheduler reads them all.
/// </summary>
public sealed record CascadeArchitecture(
    string Name,
    string Label,
    string? Description,
    string? Source,
    string File,
    Architecture Hardware,
    string HardwareFile,
    ImmutableArray<string> HardwareOverrides,
    SettingsTable? Settings,
    SectionSpec Attention,
    SectionSpec? EndToEnd)
{
    public IEnumerable<SectionSpec> Sections => EndToEnd is null ? [Attention] : [Attention, EndToEnd];
}
