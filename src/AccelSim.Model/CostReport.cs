using System.Collections.Immutable;

namespace AccelSim.Model;

/// <summary>One tensor at one storage level. Counts are per utilized instance (Timeloop's convention).</summary>
public sealed record TensorLevelStats(
    string Tensor,
    bool Kept,
    long TileWords,
    long PartitionWords,
    long Reads,
    long Fills,
    long Updates,
    double Multicast,
    double ReadEnergyPJ,
    double FillEnergyPJ,
    double UpdateEnergyPJ)
{
    public double EnergyPJ => ReadEnergyPJ + FillEnergyPJ + UpdateEnergyPJ;
}

public sealed record LevelReport(
    string Name,
    string Class,
    long? CapacityWords,
    long CapacityUsed,
    int Instances,
    long UtilizedInstances,
    double BandwidthCycles,
    ImmutableArray<TensorLevelStats> Tensors,
    double LeakEnergyPJ)
{
    public double EnergyPJ => Tensors.Sum(t => t.EnergyPJ) + LeakEnergyPJ;
}

/// <summary>Energy of one component and action (pJ, all instances).</summary>
public sealed record EnergyItem(string Component, string Action, double PicoJoules);

/// <summary>
/// What one mapping of one Einsum costs on one architecture. Energy is null when it is unavailable.
/// <see cref="Operations"/> are the points computed: all <see cref="DensePoints"/> for a dense Einsum; for a masked
/// one, the points of the compute steps the mask leaves non-empty (partially masked steps are computed whole), which
/// is at least <see cref="RequiredPoints"/> (`analyze`'s exact count).
/// </summary>
public sealed record CostReport(
    string Architecture,
    string Compute,
    string Problem,
    double ClockHz,
    double Cycles,
    double ComputeCycles,
    double Utilization,
    double SpatialUtilization,
    double Operations,
    int ComputeInstances,
    long BusyComputeUnits,
    double? EnergyPJ,
    double ComputeEnergyPJ,
    double OffChipBytes,
    ImmutableArray<LevelReport> Levels,
    ImmutableArray<EnergyItem> Energy,
    string LoopNest,
    long RequiredPoints,
    long DensePoints)
{
    /// <summary>True when the Einsum's mask leaves points out (then tiles it empties are skipped).</summary>
    public bool Masked => RequiredPoints != DensePoints;

    /// <summary>Whole cycles (the analytical value rounded up).</summary>
    public long CyclesCeiling => (long)Math.Ceiling(Cycles - 1e-9);
    public double Seconds => Cycles / ClockHz;
    /// <summary>False when a component had no energy table: <see cref="EnergyPJ"/> is null and the per-level energies are meaningless.</summary>
    public bool EnergyKnown => EnergyPJ is not null;
    public double? EnergyDelayProduct => EnergyPJ * Cycles;
    public LevelReport Level(string name) => Levels.First(l => l.Name == name);
}
