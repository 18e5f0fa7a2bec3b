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
        var masked = s.Causal || s.Window is not null || !s.Mask.IsDense;

        var fwd = new List<Kernel>();
        // Packed (b, s, 3, h, d) input: rearrange to (b*h, s, d) for Q and (b*h, d, s) for K are copies.
        if (k.PackedQkvInput)
        {
            fwd.Add(new("Q to (b*h, s, d) copy", 0, 2 * q));
            fwd.Add(new("K to (b*h, d, s) copy", 0, 2 * kk));
        }
        fwd.Add(new("S = scale * QK^T (baddbmm)", 2 * scores * s.HeadDim, q + kk + scores * e));
        if (masked)
        {
            // The benchmark builds the N x N mask on every call in FP32 (torch.full, torch.triu: no BFloat16 kernel),
            // casts it, and adds it to S broadcast over batch x heads (the adds re-read the mask from L2 while it fits,
            // otherwise from HBM for every (batch, head)).
            double mask = (double)s.QueryLen * s.KvLen;
            fwd.Add(new("mask: torch.full (FP32)", 0, 4 * mask));
            fwd.Add(new("mask: torch.triu (FP32)", 0, 8 * mask));
            fwd.Add(new("mask: cast", 0, (4 + e) * mask));
            var maskReads = mask * e <= gpu.L2Bytes / 2.0 ? mask * e : bh * mask * e;
            fwd.Add(new("S + mask (broadcast)", 0, 2 * scores * e + maskReads));
        }
        // Softmax: one HBM read of S and one write of P (the re-reads of the multi-pass kernel for rows longer than
        // 1024 elements are served by L1/L2: a row is at most tens of KiB).
        fwd.Add(new("softmax", 0, 2 * scores * e));
        if (k.PackedQkvInput) fwd.Add(new("V to (b*h, s, d) copy (einsum)", 0, 2 * v));
        fwd.Add(new("O = PV (bmm)", 2 * scores * s.ValueDim, scores * e + v + o));

        var bwd = new List<Kernel>();
        if (k.PackedQkvInput) bwd.Add(new("dO to (b*h, s, d) copy", 0, 2 * o));
        bwd.Add(new("dP = dO V^T (bmm)", 2 * scores * s.ValueDim, o + v + scores * e));
        bwd.Add(new("dV = P^T dO (bmm)", 2 * scores * s.ValueDim, scores * e + o + v));
        // PyTorch's softmax backward: rows of up to 1024 elements run one persistent warp kernel; longer rows run an
        // element-wise multiply (dP * P into a temporary) followed by the block-reduction kernel (PyTorch PR #145866).
        if (s.KvLen <= 1024) bwd.Add(new("softmax backward", 0, 3 * scores * e));
        else
        {
            bwd.Add(new("softmax backward: dP * P", 0, 3 * scores * e));
            bwd.Add(new("softmax backward: block reduction", 0, 3 * scores * e));
        }
        // The mask add has no backward kernel (its gradient is the identity); baddbmm's alpha is applied by a
        // separate multiply on each of its two gradients.
        bwd.Add(new("dQ = dS K (bmm)", 2 * scores * s.HeadDim, scores * e + kk + q));
        bwd.Add(new("dQ *= scale", 0, 2 * q));
        bwd.Add(new("dK = dS^T Q (bmm)", 2 * scores * s.HeadDim, scores * e + q + kk));
        bwd.Add(new("dK *= scale", 0, 2 * kk));
        if (k.PackedQkvInput) bwd.Add(new("stack dQ, dK, dV into the packed gradient", 0, 2 * (q + kk + v)));

        // The whole S is computed, so every visible pair is inside it.
        var forwardFlops = s.ForwardFlops();
        var phases = ImmutableArray.CreateBuilder<PhaseReport>();
        if (s.Direction != Direction.Backward)
            phases.Add(Phase(gpu, k, s, "standard fwd", fwd, forwardFlops) with { CountedFlops = forwardFlops, ExecutedFlops = fwd.Sum(x => x.Flops) });
        if (s.Direction != Direction.Forward)
            phases.Add(Phase(gpu, k, s, "standard bwd", bwd, 2.5 * forwardFlops) with { CountedFlops = 2.5 * forwardFlops, ExecutedFlops = bwd.Sum(x => x.Flops) });
        return phases.ToImmutable();
    }

    private static PhaseReport Phase(GpuSpec gpu, KernelFamily k, AttentionShape s, string name, List<Kernel> kernels, double credited)
    {
        var peak = gpu.PeakTensorFlops(s.DType) * k.GemmEfficiency!.Value;
        var bw = gpu.HbmBytesPerSecond * (k.EagerBandwidthEfficiency?.Value ?? gpu.StreamingHbmEfficiency);
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
