using System.Collections.Immutable;

namespace AccelSim.Model.Cascade;

/// <summary>Accesses and energy of one storage level for one Einsum (all instances; fused data adjusted).</summary>
public sealed record LevelTraffic(string Level, double Reads, double Writes, double EnergyPJ);

/// <summary>
/// What one Einsum costs inside a cascade: its array time, utilisation, DRAM traffic and energy.
/// <see cref="TemporalIterations"/> are the steps its array runs (those the mask leaves empty are skipped) and
/// <see cref="Operations"/> the points it computes (at least <see cref="RequiredPoints"/>).
/// </summary>
public sealed record EinsumCost(
    string Einsum,
    string Array,
    string Compute,
    int Group,
    long TemporalIterations,
    double ComputeCycles,
    double Seconds,
    double SpatialUtilization,
    long ReductionDepth,
    double Operations,
    double DramReadBytes,
    double DramWriteBytes,
    double MemorySeconds,
    double ComputeEnergyPJ,
    double OnChipEnergyPJ,
    double DramEnergyPJ,
    ImmutableArray<LevelTraffic> Levels,
    string Mapping)
{
    public double DramBytes => DramReadBytes + DramWriteBytes;
    public double EnergyPJ => ComputeEnergyPJ + OnChipEnergyPJ + DramEnergyPJ;

    /// <summary>
    /// The concrete mapping the Einsum's template resolved to (tiles solved for its fusion group), as the single-Einsum
    /// model priced it before the cascade's residence adjustments; <see cref="Mapping"/> is its printed loop nest.
    /// </summary>
    public AccelSim.Mapping.Mapping? ResolvedMapping { get; init; }

    /// <summary>The Einsum's mask (null when it computes every point).</summary>
    public AccelSim.Mapping.IterationMask? Mask { get; init; }

    /// <summary>Points of the dense iteration space.</summary>
    public long DensePoints { get; init; }

    /// <summary>Points the Einsum requires: `analyze`'s count under its mask and its inputs' supports (counted when asked).</summary>
    public long RequiredPoints => Mask?.RequiredPoints ?? DensePoints;

    /// <summary>The name of the template that produced <see cref="ResolvedMapping"/>.</summary>
    public string? Template { get; init; }

    /// <summary>Busy time of the array weighted by the fraction of its PEs the mapping uses.</summary>
    public double BusySeconds => Seconds * SpatialUtilization;
}

/// <summary>
/// A fusion group: Einsums connected by intermediates that stay on chip. <see cref="Tiles"/> are the solved tile
/// extents (e.g. query_tile = P1 x 256 queries), <see cref="FootprintWords"/> what the group keeps in the buffer at
/// once (each buffered tensor counted once at its largest tile), and <see cref="Spill"/> the fraction of buffered data
/// that overflows to DRAM.
/// </summary>
public sealed record FusionGroup(
    int Index,
    ImmutableArray<string> Einsums,
    ImmutableArray<string> OnChipIntermediates,
    ImmutableArray<string> BufferedTensors,
    ImmutableDictionary<string, double> Tiles,
    long FootprintWords,
    long CapacityWords,
    double Spill)
{
    public bool Fits => FootprintWords <= CapacityWords;
}

/// <summary>How much of each storage level the schedule needs (per instance, in words) next to what it has.</summary>
public sealed record BufferRequirement(string Level, long? CapacityWords, long RequiredWords, int WordBits)
{
    public double RequiredBytes => RequiredWords * (WordBits / 8.0);
}

/// <summary>One stage of the schedule: each array's busy time in it, its stall, and its memory time.</summary>
public sealed record StageTiming(int Index, ImmutableDictionary<string, double> ArraySeconds, double StallSeconds,
    double ComputeSeconds, double MemorySeconds, double Seconds);

/// <summary>Energy of one component (an array's compute, a storage level, DRAM), pJ.</summary>
public sealed record EnergyPart(string Component, double PicoJoules);

/// <summary>The priced schedule of one section (attention, or the layer's GEMMs).</summary>
public sealed record SectionResult(
    string Section,
    string Workload,
    string Buffer,
    double LatencySeconds,
    double ComputeSeconds,
    double MemorySeconds,
    double TrafficBytes,
    double EnergyPJ,
    ImmutableDictionary<string, double> ArrayBusySeconds,
    ImmutableArray<EinsumCost> Einsums,
    ImmutableArray<FusionGroup> Groups,
    ImmutableArray<BufferRequirement> Buffers,
    ImmutableArray<StageTiming> Stages,
    ImmutableArray<EnergyPart> Energy)
{
    /// <summary>Fraction of the latency during which array <paramref name="array"/> is busy (0 if absent).</summary>
    public double Utilization(string array) =>
        LatencySeconds > 0 && ArrayBusySeconds.TryGetValue(array, out var s) ? s / LatencySeconds : 0;

    public EinsumCost? Einsum(string name) => Einsums.FirstOrDefault(e => e.Einsum == name);

    public bool MemoryBound => MemorySeconds >= ComputeSeconds;

    /// <summary>What the fusion groups need of the buffer level (words and bytes).</summary>
    public BufferRequirement BufferNeed => Buffers.First(b => b.Level == Buffer);
}

/// <summary>Attention and (optionally) the rest of the layer on one study architecture, and their sum.</summary>
public sealed record CascadeReport(string Architecture, string Label, SectionResult Attention, SectionResult? EndToEnd)
{
    public double EndToEndLatencySeconds => Attention.LatencySeconds + (EndToEnd?.LatencySeconds ?? 0);
    public double EndToEndEnergyPJ => Attention.EnergyPJ + (EndToEnd?.EnergyPJ ?? 0);
    public double EndToEndTrafficBytes => Attention.TrafficBytes + (EndToEnd?.TrafficBytes ?? 0);

    /// <summary>Busy fraction of an array over the whole layer (attention then GEMMs, one after the other).</summary>
    public double EndToEndUtilization(string array)
    {
        var busy = Attention.ArrayBusySeconds.GetValueOrDefault(array) + (EndToEnd?.ArrayBusySeconds.GetValueOrDefault(array) ?? 0);
        var total = EndToEndLatencySeconds;
        return total > 0 ? busy / total : 0;
    }
}
