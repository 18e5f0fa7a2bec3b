using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Gpu.Generic;

/// <summary>One fused kernel of the generic mapping: which Einsums it runs and what it costs.</summary>
public sealed record GenericGroup(int Index, ImmutableArray<string> Einsums, GroupCost Cost, OpCounts RequiredOps)
{
    public string Name => $"group {Index}: {Einsums[0]}{(Einsums.Length > 1 ? ".." + Einsums[^1] : "")}";
}

/// <summary>The generic GPU mapping's prediction for a whole cascade. Immutable.</summary>
public sealed record GenericReport
{
    public required string Gpu { get; init; }
    public required string Workload { get; init; }
    public required string WorkloadFile { get; init; }
    public required DataType DType { get; init; }
    public required ImmutableArray<GenericGroup> Groups { get; init; }
    public required double LatencySeconds { get; init; }
    public required long Cycles { get; init; }
    public required double ClockHz { get; init; }
    /// <summary>2 x the MACs the cascade requires (mask-aware, as `analyze` counts them).</summary>
    public required double Flops { get; init; }
    public required double Tflops { get; init; }
    /// <summary>Dense tensor-core peak for the dtype plus the FP32 FMA peak: the fastest the GPU can execute MACs.</summary>
    public required double PeakTflops { get; init; }
    public required double TensorPeakTflops { get; init; }
    public required OpCounts RequiredOps { get; init; }
    public required ImmutableSortedDictionary<string, double> TrafficBytes { get; init; }
    public required ImmutableArray<ResourceUse> Resources { get; init; }
    public required string Bottleneck { get; init; }
    public required double EnergyJoules { get; init; }
    public required string EnergyMethod { get; init; }
    public required ImmutableArray<string> Notes { get; init; }

    public double PercentOfPeak => PeakTflops > 0 ? 100 * Tflops / PeakTflops : 0;
    public double Utilization => PeakTflops > 0 ? Tflops / PeakTflops : 0;
    public ResourceUse Resource(string name) => Resources.First(r => r.Resource == name);
}

/// <summary>
/// `--kernel generic`: prices any cascade on a GPU from its own Einsums. Fusable Einsum groups become tiled kernels
/// (README.md in this folder gives the rules); matmul-class MACs run on tensor cores, exp/div/sqrt on the MUFU, the rest
/// on FP32 pipes; tensors that leave a group go through HBM.
/// </summary>
public static class GenericKernel
{
    public const string Name = "generic";

    public static bool Matches(string? kernel) => kernel is not null && kernel.Trim().Equals(Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>The tensor-core dtype of a workload: its word_bits parameter (else the cascade's word width).</summary>
    public static DataType DTypeOf(Cascade cascade) =>
        (cascade.Parameters.TryGetValue("word_bits", out var wb) ? wb : cascade.WordBits) switch
        {
            <= 4 => DataType.Fp4,
            <= 8 => DataType.Fp8,
            _ => DataType.Bf16,
        };

    public static GenericReport Evaluate(GpuSpec gpu, Cascade cascade, DataType? dtype = null)
    {
        var type = dtype ?? DTypeOf(cascade);
        if (!gpu.Supports(type))
            throw new InputException(SourceLocation.FileOnly(cascade.File), "--kernel " + Name, $"{gpu.Name} has no {type.Name()} tensor cores");
        var analysis = CascadeAnalyzer.Analyze(cascade);
        var work = cascade.Einsums.Select((e, i) => EinsumWork.Of(e, analysis.Einsums[i])).ToImmutableArray();
        var coster = new GroupCoster(gpu, cascade, type, work);
        var costs = Plan(coster, cascade.Einsums.Length);

        var groups = costs.Select((c, k) => new GenericGroup(k + 1, [.. c.Members.Select(i => cascade.Einsums[i].Name)], c,
            c.Members.Aggregate(OpCounts.Zero, (acc, i) => acc + work[i].Ops))).ToImmutableArray();
        var seconds = costs.Sum(c => c.Seconds);
        var required = analysis.TotalOps;
        double flops = 2.0 * required.Mac;
        var tensorPeak = gpu.PeakTensorFlops(type);
        var fp32Peak = 2.0 * gpu.Fp32LanesPerSm * gpu.SmCount * gpu.ClockHz;
        var resources = GpuResources.All.Select(r =>
        {
            var busy = costs.Sum(c => c.Resources.First(x => x.Resource == r).BusySeconds);
            return new ResourceUse(r, busy, Math.Min(1, busy / seconds));
        }).ToImmutableArray();
        var activity = resources.Max(r => r.Utilization);
        var watts = gpu.IdleWatts + (gpu.TdpWatts - gpu.IdleWatts) * activity;
        var traffic = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new[]
        {
            KeyValuePair.Create("hbm", costs.Sum(c => c.HbmBytes)),
            KeyValuePair.Create("l2", costs.Sum(c => c.L2Bytes)),
            KeyValuePair.Create("smem", costs.Sum(c => c.SmemBytes)),
        });

        var notes = new List<string>
        {
            "generic: each group is one tiled kernel; its time is max(tensor + MUFU, FP32, shared memory, L2, HBM) plus a launch gap and one memory latency",
            "masks: every Einsum is priced at the points its mask keeps (analyze's counts); partially masked tiles are not charged whole",
        };
        var executed = costs.Sum(c => c.ExecutedTensorMacs);
        var tensorMacs = costs.Sum(c => (double)c.TensorMacs);
        if (executed > tensorMacs * (1 + 1e-9))
            notes.Add($"tensor cores execute {Invariant.Sig(executed)} MACs for {Invariant.Sig(tensorMacs)} required: operand tiles narrower than the 16x8 MMA shape are padded");
        foreach (var g in groups.Where(g => !g.Cost.Fits))
            notes.Add($"{g.Name} does not fit on chip ({Invariant.Grouped(g.Cost.FootprintBytes)} B per CTA at its smallest tile, budget {Invariant.Grouped(coster.Budget)} B): priced at that tile");
        return new GenericReport
        {
            Gpu = gpu.Name,
            Workload = cascade.Name,
            WorkloadFile = cascade.File,
            DType = type,
            Groups = groups,
            LatencySeconds = seconds,
            Cycles = (long)Math.Round(seconds * gpu.ClockHz),
            ClockHz = gpu.ClockHz,
            Flops = flops,
            Tflops = flops / seconds / 1e12,
            PeakTflops = (tensorPeak + fp32Peak) / 1e12,
            TensorPeakTflops = tensorPeak / 1e12,
            RequiredOps = required,
            TrafficBytes = traffic,
            Resources = resources,
            Bottleneck = costs.MaxBy(c => c.Seconds)!.Bottleneck,
            EnergyJoules = watts * seconds,
            EnergyMethod = GpuEvaluator.EnergyMethodDescription,
            Notes = [.. notes],
        };
    }

    /// <summary>
    /// The cheapest partition of the cascade, in its order, into contiguous groups, each one kernel. A group of several
    /// Einsums must be connected (every member after the first reads a tensor another member produces), keep at least
    /// one parallel rank, and fit on chip; a single Einsum is always a kernel. Solved exactly by dynamic programming
    /// over the end of the last group.
    /// </summary>
    internal static List<GroupCost> Plan(GroupCoster coster, int count)
    {
        var best = new double[count + 1];
        var choice = new GroupCost?[count + 1];
        var from = new int[count + 1];
        var producers = Enumerable.Range(0, count).Select(i => coster.ProducersOf(i).ToHashSet()).ToArray();
        for (var j = 0; j < count; j++)
        {
            best[j + 1] = double.PositiveInfinity;
            for (var i = j; i >= 0; i--)
            {
                // Range [i..j]: connected when each member after i reads from a member of the range.
                if (i < j && !Connected(i, j)) continue;
                var cost = coster.Cost(Enumerable.Range(i, j - i + 1).ToList());
                if (i < j && cost.ParallelRanks.IsEmpty) break; // growing a group only removes parallel ranks
                if (i < j && !cost.Fits) continue;
                var total = best[i] + cost.Seconds;
                if (total < best[j + 1])
                {
                    best[j + 1] = total;
                    choice[j + 1] = cost;
                    from[j + 1] = i;
                }
            }
        }
        var groups = new List<GroupCost>();
        for (var end = count; end > 0; end = from[end]) groups.Add(choice[end]!);
        groups.Reverse();
        return groups;

        bool Connected(int i, int j)
        {
            for (var k = i + 1; k <= j; k++)
                if (!producers[k].Any(p => p >= i && p <= j)) return false;
            return true;
        }
    }
}

/// <summary>`accelsim eval --arch GPU --workload W --kernel generic`.</summary>
public static class GenericEvaluation
{
    public static GenericReport Run(string archFile, string workloadFile, IReadOnlyList<string> sets, string? modelFile,
        string? direction, string? dtype, YNode? archDocument = null)
    {
        var cascade = WorkloadLoader.Load(workloadFile, WorkloadLoader.ParseOverrides(sets), modelFile);
        if (direction is not null)
        {
            if (!Directions.TryParse(direction, out var d))
                throw new InputException(null, "--direction", $"unknown direction '{direction}' (expected fwd, bwd or fwd+bwd)");
            if (d != Direction.Forward)
                throw new InputException(null, "--direction", $"--kernel {GenericKernel.Name} prices the cascade as written (fwd); it has no {d.Name()} pass");
        }
        DataType? type = null;
        if (dtype is not null)
            type = DataTypes.TryParse(dtype, out var t) ? t
                : throw new InputException(null, "--dtype", $"unknown dtype '{dtype}' (expected fp16, bf16, fp8 or fp4)");
        var gpu = GpuSpecLoader.Parse(archDocument ?? YNode.LoadFile(archFile));
        return GenericKernel.Evaluate(gpu, cascade, type);
    }
}
