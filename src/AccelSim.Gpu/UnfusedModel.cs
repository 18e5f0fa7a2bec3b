using System.Collections.Immutable;

namespace AccelSim.Gpu;

/// <summary>
/// Standard (unfused) attention as a sequence of library kernels: batched GEMMs priced as
/// max(compute at the GEMM efficiency, HBM traffic), element-wise kernels (mask, softmax and their gradients)
/// priced as HBM streams; S and P round-trip through HBM; every kernel pays a launch gap. The mask add has no
/// backward kernel (its gradient is the identity).
/// </summary>
internal static class UnfusedModel
{
    private sealed record Kernel(string Name, double Flops, double Bytes);

    public static ImmutableArray<PhaseReport> Evaluate(GpuSpec gpu, KernelFamily k, AttentionShape s)
    {
        var e = (double)s.DType.Bytes();
        double bh = (double)s.Batch * s.Heads;
        double scores = bh * s.QueryLen * s.KvLen;           // the full S matrix is materialised even when causal
        double q = bh * s.QueryLen * s.HeadDim * e, kk = (double)s.Batch * s.KvHeads * s.KvLen * s.HeadDim * e;
        double v = (double)s.Batch * s.KvHeads * s.KvLen * s.ValueDim * e, o = bh * s.QueryLen * s.ValueDim * e;
        var fwd = new List<Kernel>
        {
            new("S = QK^T (GEMM)", 2 * scores * s.HeadDim, q + kk + scores * e),
        };
        // Causal: scores + mask (reads S and the broadcast N x N mask, writes S).
        if (s.Causal || s.Window is not null) fwd.Add(new("mask add", 0, 3 * scores * e));
        // PyTorch's block softmax for rows longer than 1024 reads its input twice (max/sum, normalise) and writes once.
        fwd.Add(new("softmax", 0, (s.KvLen > 1024 ? 3 : 2) * scores * e));
        fwd.Add(new("O = PV (GEMM)", 2 * scores * s.ValueDim, scores * e + v + o));

        var bwd = new List<Kernel>
        {
            new("dP = dO V^T (GEMM)", 2 * scores * s.ValueDim, o + v + scores * e),
            new("dV = P^T dO (GEMM)", 2 * scores * s.ValueDim, scores * e + o + v),
            new("softmax backward", 0, 3 * scores * e),
        };
        bwd.Add(new("dQ = dS K (GEMM)", 2 * scores * s.HeadDim, scores * e + kk + q));
        bwd.Add(new("dK = dS^T Q (GEMM)", 2 * scores * s.HeadDim, scores * e + q + kk));

        var phases = ImmutableArray.CreateBuilder<PhaseReport>();
        if (s.Direction != Direction.Backward) phases.Add(Phase(gpu, k, s, "standard fwd", fwd, s.ForwardFlops()));
        if (s.Direction != Direction.Forward) phases.Add(Phase(gpu, k, s, "standard bwd", bwd, 2.5 * s.ForwardFlops()));
        return phases.ToImmutable();
    }

    private static PhaseReport Phase(GpuSpec gpu, KernelFamily k, AttentionShape s, string name, List<Kernel> kernels, double credited)
    {
        var peak = gpu.PeakTensorFlops(s.DType) * k.GemmEfficiency!.Value;
        var bw = gpu.HbmBytesPerSecond * gpu.StreamingHbmEfficiency;
        double seconds = 0, tensorBusy = 0, hbmBusy = 0, bytes = 0;
        int computeBound = 0, memoryBound = 0;
        foreach (var kn in kernels)
        {
            var compute = kn.Flops / peak;
            var memory = kn.Bytes / bw;
            seconds += Math.Max(compute, memory) + gpu.KernelLaunchSeconds;
            tensorBusy += kn.Flops / gpu.PeakTensorFlops(s.DType);
            hbmBusy += kn.Bytes / gpu.HbmBytesPerSecond;
            bytes += kn.Bytes;
            if (compute > memory) computeBound++; else memoryBound++;
        }
        var resources = FlashModel.Resources(seconds, [(GpuResources.Tensor, tensorBusy), (GpuResources.Hbm, hbmBusy)]);
        var bottleneck = hbmBusy >= tensorBusy ? GpuResources.Hbm : GpuResources.Tensor;
        // Every byte a library kernel moves passes through L2 and (for the GEMM tiles) shared memory.
        var traffic = FlashModel.Traffic(bytes, bytes, bytes, 0);
        return new PhaseReport($"{name} ({kernels.Count} kernels)", seconds, credited, kernels.Count, 0, null, bottleneck, traffic, resources);
    }
}
