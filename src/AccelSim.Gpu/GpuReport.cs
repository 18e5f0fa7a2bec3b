using System.Collections.Immutable;

namespace AccelSim.Gpu;

/// <summary>Names of the priced resources, shared by reports, JSON and the validation CSV.</summary>
public static class GpuResources
{
    public const string Tensor = "tensor";
    public const string Exp = "mufu_exp";
    public const string Fma = "fp32_alu";
    public const string Smem = "smem";
    public const string L2 = "l2";
    public const string Hbm = "hbm";
    public const string Latency = "latency";

    public static readonly ImmutableArray<string> All = [Tensor, Exp, Fma, Smem, L2, Hbm];
}

/// <summary>How long a resource is busy over the run, summed over SMs and divided by their number (so comparable to the latency).</summary>
public sealed record ResourceUse(string Resource, double BusySeconds, double Utilization);

/// <summary>Per-CTA on-chip footprint.</summary>
public sealed record CtaFootprint(long SmemBytes, long Registers, long TmemBytes, int Threads, int CtasPerSm, string OccupancyLimit);

/// <summary>One kernel launch (or pass) inside an evaluation: the fused kernel, a softmax kernel, a combine kernel...</summary>
public sealed record PhaseReport(
    string Name, double Seconds, double Flops, long Ctas, double Waves,
    TileConfig? Tile, string Bottleneck,
    ImmutableSortedDictionary<string, double> TrafficBytes,
    ImmutableArray<ResourceUse> Resources)
{
    /// <summary>
    /// FLOPs (same convention as <see cref="Flops"/>) of the visible (query, key) pairs inside the tiles the kernel
    /// visits: equal to the required FLOPs exactly when tile skipping never drops a visible pair.
    /// </summary>
    public double CountedFlops { get; init; }

    /// <summary>Tensor-core FLOPs the kernel executes: every visited tile (or the dense S) computed whole.</summary>
    public double ExecutedFlops { get; init; }
}

/// <summary>The prediction for one attention call on one GPU with one kernel family. Immutable.</summary>
public sealed record GpuReport
{
    public required string Gpu { get; init; }
    public required string Kernel { get; init; }
    public required string KernelDisplay { get; init; }
    public required AttentionShape Shape { get; init; }
    public required double LatencySeconds { get; init; }
    public required long Cycles { get; init; }
    public required double ClockHz { get; init; }
    /// <summary>
    /// FLOPs required (FlashAttention convention, generalised: 2 x the MACs of the cascade, masks counted exactly as
    /// `analyze` counts them; bwd = 2.5 x fwd). Throughput and utilisation are this over the latency.
    /// </summary>
    public required double Flops { get; init; }
    /// <summary>The model's own count of the required FLOPs: the visible pairs inside the tiles it visits.</summary>
    public double CountedFlops { get; init; }
    /// <summary>FLOPs executed: visited tiles (or the dense S) computed whole, plus any other MACs of the cascade.</summary>
    public double ExecutedFlops { get; init; }
    /// <summary>The cascade priced, when the call came from one.</summary>
    public string? Workload { get; init; }
    /// <summary>Operations of the forward cascade by kind (as `analyze` counts them), when the call came from one.</summary>
    public AccelSim.Einsum.Ir.OpCounts? CascadeOps { get; init; }
    public required double Tflops { get; init; }
    public required double PeakTflops { get; init; }
    public double PercentOfPeak => PeakTflops > 0 ? 100 * Tflops / PeakTflops : 0;
    /// <summary>Bytes moved at each level: hbm (DRAM), l2 (SM-L2 traffic), smem (shared-memory reads + writes).</summary>
    public required ImmutableSortedDictionary<string, double> TrafficBytes { get; init; }
    public required string Bottleneck { get; init; }
    public required ImmutableArray<ResourceUse> Resources { get; init; }
    public required CtaFootprint? Footprint { get; init; }
    public required TileConfig? Tile { get; init; }
    public required ImmutableArray<PhaseReport> Phases { get; init; }
    public required double EnergyJoules { get; init; }
    public required string EnergyMethod { get; init; }
    public required ImmutableArray<string> Notes { get; init; }

    /// <summary>Tensor-pipe utilisation (credited FLOPs over peak), the `utilization` field shared with the spatial model.</summary>
    public double Utilization => PeakTflops > 0 ? Tflops / PeakTflops : 0;
}
