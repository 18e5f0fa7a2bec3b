using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>
/// Library entry point of the GPU model: predicts one attention call on one GPU with one kernel family.
/// Pure arithmetic on the spec and the shape; no measured data is read.
/// </summary>
public static class GpuEvaluator
{
    public const string EnergyMethodDescription =
        "power-based estimate: latency x (idle_w + (tdp_w - idle_w) x max resource utilisation); not per-operation energies";

    /// <summary>Why a (GPU, kernel, shape) combination cannot be modelled, or null when it can.</summary>
    public static string? Unsupported(GpuSpec gpu, KernelFamily kernel, AttentionShape shape)
    {
        if (!kernel.Architectures.Contains(gpu.Architecture))
            return $"kernel {kernel.Name} does not run on {gpu.Architecture.ToString().ToLowerInvariant()} GPUs ({gpu.Name})";
        if (!kernel.DataTypes.Contains(shape.DType))
            return $"kernel {kernel.Name} has no {shape.DType.Name()} variant";
        if (!gpu.Supports(shape.DType))
            return $"{gpu.Name} has no {shape.DType.Name()} tensor cores";
        if (kernel.Algorithm == KernelAlgorithm.Flash)
        {
            var maxD = kernel.Forward!.MaxHeadDim;
            if (shape.HeadDim > maxD || shape.ValueDim > maxD)
                return $"kernel {kernel.Name} supports head dimensions up to {maxD}";
            foreach (var (dim, what) in new[] { (shape.HeadDim, "head_dim"), (shape.ValueDim, "value_dim") })
                if (kernel.HeadDims?.Refuse(dim, shape.DType) is { } why)
                    return $"{what} {dim}: kernel {kernel.Name} {why}";
        }
        return null;
    }

    public static GpuReport Evaluate(GpuSpec gpu, AttentionShape shape, KernelFamily kernel)
    {
        shape.Validate();
        if (Unsupported(gpu, kernel, shape) is { } why) throw new InputException(why);
        var notes = new List<string>();
        ImmutableArray<PhaseReport> phases;
        CtaFootprint? footprint = null;
        if (kernel.Algorithm == KernelAlgorithm.Unfused)
        {
            phases = UnfusedModel.Evaluate(gpu, kernel, shape);
            notes.Add("unfused: S and P are written to and read back from HBM by separate kernels");
        }
        else
        {
            var list = new List<PhaseReport>();
            if (shape.Direction != Direction.Backward)
            {
                list.Add(kernel.LoopOrder == LoopOrder.KvOuter
                    ? Flash1Model.Forward(gpu, kernel, shape, notes, out var forwardFootprint)
                    : FlashModel.Forward(gpu, kernel, shape, notes, out forwardFootprint));
                footprint = forwardFootprint;
            }
            if (shape.Direction != Direction.Forward)
            {
                list.Add(kernel.LoopOrder == LoopOrder.KvOuter
                    ? Flash1Model.Backward(gpu, kernel, shape, notes, out var backwardFootprint)
                    : FlashModel.Backward(gpu, kernel, shape, notes, out backwardFootprint));
                footprint ??= backwardFootprint;
            }
            phases = [.. list];
        }

        var seconds = phases.Sum(p => p.Seconds);
        var flops = phases.Sum(p => p.Flops);
        var peak = gpu.PeakTensorFlops(shape.DType);
        var traffic = phases.SelectMany(p => p.TrafficBytes)
            .GroupBy(kv => kv.Key)
            .ToImmutableSortedDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);
        var resources = GpuResources.All.Select(r =>
        {
            var busy = phases.Sum(p => p.Resources.FirstOrDefault(x => x.Resource == r)?.BusySeconds ?? 0);
            return new ResourceUse(r, busy, seconds > 0 ? Math.Min(1, busy / seconds) : 0);
        }).ToImmutableArray();
        // The bottleneck of the longest phase is the bottleneck of the call.
        var bottleneck = phases.MaxBy(p => p.Seconds)!.Bottleneck;
        var activity = resources.Max(r => r.Utilization);
        var watts = gpu.IdleWatts + (gpu.TdpWatts - gpu.IdleWatts) * activity;
        return new GpuReport
        {
            Gpu = gpu.Name,
            Kernel = kernel.Name,
            KernelDisplay = kernel.Display,
            Shape = shape,
            LatencySeconds = seconds,
            Cycles = (long)Math.Round(seconds * gpu.ClockHz),
            ClockHz = gpu.ClockHz,
            Flops = flops,
            CountedFlops = phases.Sum(p => p.CountedFlops),
            ExecutedFlops = phases.Sum(p => p.ExecutedFlops),
            Tflops = flops / seconds / 1e12,
            PeakTflops = peak / 1e12,
            TrafficBytes = traffic,
            Bottleneck = bottleneck,
            Resources = resources,
            Footprint = footprint,
            Tile = phases[0].Tile,
            Phases = phases,
            EnergyJoules = watts * seconds,
            EnergyMethod = EnergyMethodDescription,
            Notes = [.. notes.Distinct()],
        };
    }

    /// <summary>
    /// Prices a bound cascade: refused (with why) unless <paramref name="kernel"/> implements its structure; the shape
    /// and mask come from the cascade, `flops` is 2 x the MACs it requires (x 2.5 for the backward, as FlashAttention
    /// counts) and its op counts by kind are reported with it.
    /// </summary>
    public static GpuReport Evaluate(GpuSpec gpu, BoundAttention attention, KernelFamily kernel, Direction direction = Direction.Forward,
        DataType? dtype = null)
    {
        if (attention.Mismatch(kernel) is { } why) throw new InputException(why);
        var shape = attention.Shape! with { Direction = direction, DType = dtype ?? attention.Shape.DType };
        var report = Evaluate(gpu, shape, kernel);
        var flops = attention.ForwardFlops * direction.FlopMultiplier();
        // MACs of the cascade beyond QK^T and PV (the 2-pass cascade's rescaled sum of tile denominators) run in the
        // softmax kernels: executed, though not on the tensor cores the models price.
        var otherFlops = Math.Max(0, flops - report.CountedFlops);
        return report with
        {
            ExecutedFlops = report.ExecutedFlops + otherFlops,
            Workload = attention.Cascade.Name,
            CascadeOps = attention.Analysis.TotalOps,
            Flops = flops,
            Tflops = flops / report.LatencySeconds / 1e12,
        };
    }

    /// <summary>Loads the spec and its kernel catalogue, resolves the kernel by name or alias, and evaluates.</summary>
    public static GpuReport Evaluate(string specPath, AttentionShape shape, string kernelName)
    {
        var gpu = GpuSpecLoader.LoadFile(specPath);
        var catalog = KernelCatalogLoader.LoadFile(gpu.KernelsFile);
        return Evaluate(gpu, shape, catalog.Get(kernelName));
    }
}
