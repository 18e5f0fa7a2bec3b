using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>
/// FlashAttention-1 as implemented by the fmha kernels of flash-attn 0.2-1.0 (the "FlashAttention" bars of the
/// FlashAttention-2 paper): a key/value-stationary loop order. A CTA owns one (batch, head) and a contiguous range of
/// 16-row query steps; its outer loop walks the key blocks, its inner loop the query steps. Consequences priced here:
/// <list type="bullet">
/// <item>Forward: O (FP32), the row statistics and Q are read from and written back to global memory once per
/// (query step, key block) pair, Theta(N^2 d / Bc) bytes per head (Algorithm 1 of arXiv:2205.14135). Whether that
/// traffic reaches HBM depends on whether the rows the running CTAs sweep fit in L2.</item>
/// <item>Warps split the key block (WARPS_N = 4 or 8): every warp reads all query rows of the step from shared memory,
/// and the partial outputs (forward) or dQ (backward) of the warps are reduced through shared memory behind block-wide
/// barriers (FlashAttention-2 paper, Sec. 3.3).</item>
/// <item>Barriers separate the GEMM, softmax and reduction phases of a step, so inside a CTA they serialise; only the
/// co-resident CTAs of an SM overlap.</item>
/// <item>Parallelism over batch x heads, widened by the implementation's split heuristics: query splits in the forward
/// (num_splits_heuristic_fwd), all key blocks in parallel with FP32 atomic dQ in the backward
/// (num_splits_heuristic_bwd), otherwise one CTA per head with a read-modify-write dQ accumulator in global memory.</item>
/// </list>
/// Sources: flash-attn v1 csrc/flash_attn/src/fmha_fprop_kernel_1xN.h, fmha_dgrad_kernel_1xN_loop.h,
/// fmha_{fwd,bwd}_launch_template.h and fmha_{fwd,bwd}_hdim{64,128}.cu (see arch/gpu/kernels.yaml, source fa1).
/// </summary>
internal static class Flash1Model
{
    /// <summary>flash-attn v1 caps the forward query splits at 30 (fmha_fwd_launch_template.h).</summary>
    internal const int MaxForwardSplits = 30;

    public static PhaseReport Forward(GpuSpec gpu, KernelFamily k, AttentionShape s, List<string> notes, out CtaFootprint footprint)
    {
        var pass = k.Forward!;
        var tile = pass.TileFor(s.HeadDim, s.DType);
        double e = s.DType.Bytes();
        int br = tile.BlockRows, bc = tile.BlockKeys;
        int d = s.HeadDim, dv = s.ValueDim;
        footprint = Footprint(gpu, pass, tile, s, forward: true);
        var c = footprint.CtasPerSm;

        long units = (long)s.Batch * s.Heads;
        int steps = (int)Math.Ceiling(s.QueryLen / (double)br);
        int kBlocks = (int)Math.Ceiling(s.KvLen / (double)bc);
        var splits = Math.Min(steps, ForwardSplits(units, gpu.SmCount, c, MaxForwardSplits));
        var stepsPerSplit = (int)Math.Ceiling(steps / (double)splits);
        splits = (int)Math.Ceiling(steps / (double)stepsPerSplit);
        if (splits > 1) notes.Add($"FlashAttention-1 query splits: {splits} CTAs per head (num_splits_heuristic_fwd)");

        var launched = units * splits;
        c = (int)Math.Clamp((launched + gpu.SmCount - 1) / gpu.SmCount, 1, c);
        var slots = gpu.SmCount * c;

        // Global traffic of one step visit: Q (fp16), O accumulator (FP32 read + write), row statistics (FP32).
        var qStep = br * d * e;
        var oFirst = br * dv * 4.0;                 // first visit: write the FP32 accumulator
        var oMiddle = 2 * br * dv * 4.0;            // read + write
        var oLast = br * dv * 4.0 + br * dv * e;    // read the accumulator, write O
        var lseStep = br * 8.0;                     // read the previous log-sum-exp, write the new one

        var cost = StepCost(gpu, k, pass, tile, s, forward: true, globalBytesPerStep: qStep + oMiddle + lseStep);
        var (stepCycles, bound) = FlashModel.PhasedCycles(gpu, pass, cost, c);
        var maskExtra = 2.0 * br * bc / gpu.Fp32LanesPerSm;
        var latencyCycles = gpu.MemoryLatencySeconds * gpu.ClockHz;
        var l2PerSm = gpu.L2BytesPerClk / gpu.SmCount;
        // Each key block: K and V are loaded into registers (latency + transfer) before the first step can start.
        var keyBlockPrologue = latencyCycles + bc * (d + dv) * e / l2PerSm;

        var mask = s.Mask;
        var durations = new List<double>();
        double visits = 0, masked = 0, reuseBytes = 0, l2Bytes = 0, counted = 0;
        for (int sp = 0; sp < splits; sp++)
        {
            int first = sp * stepsPerSplit, end = Math.Min(steps, first + stepsPerSplit);
            double cycles = 0;
            for (int j = 0; j < kBlocks; j++)
            {
                long k0 = j * (long)bc, k1 = Math.Min(s.KvLen, k0 + bc) - 1;
                var (n, m, c1) = VisitingSteps(mask, first, end, br, k0, k1, bc);
                if (n == 0) continue;
                cycles += keyBlockPrologue + n * stepCycles + m * maskExtra;
                visits += n;
                masked += m;
                counted += c1;
                l2Bytes += bc * (d + dv) * e;
            }
            // Per step: how many key blocks it visits decides how often its accumulator round-trips.
            for (int i = first; i < end; i++)
            {
                var v = VisitedKeyBlocks(mask, i, br, bc, kBlocks);
                if (v <= 0) continue;
                var o = v == 1 ? br * dv * e : oFirst + (v - 2) * oMiddle + oLast;
                var stepBytes = v * qStep + o + (2.0 * v - 1) * br * 4;
                l2Bytes += stepBytes;
                reuseBytes += stepBytes - qStep - br * dv * e - br * 4;   // beyond the compulsory Q read and O / LSE write
            }
            durations.Add(cycles + EpilogueCycles(gpu));
        }
        var makespan = FlashModel.Schedule(durations, units, slots, 0);
        visits *= units; masked *= units; reuseBytes *= units; l2Bytes *= units; counted *= units;

        // The running CTAs sweep their query rows once per key block: Q, the FP32 accumulator and the statistics of
        // all those rows are the working set that decides whether the round trips stay in L2.
        var rowsPerCta = Math.Min(s.QueryLen, (long)stepsPerSplit * br);
        var workingSet = Math.Min(launched, slots) * rowsPerCta * (d * e + dv * 4.0 + 8);
        var hit = L2HitFraction(gpu, workingSet);

        double qBytes = units * s.QueryLen * d * e, oBytes = units * s.QueryLen * dv * e;
        double kvBytes = (double)s.Batch * s.KvHeads * s.KvLen * (d + dv) * e;
        double hbmBytes = qBytes + oBytes + kvBytes + units * s.QueryLen * 4.0 + (1 - hit) * reuseBytes;
        double smemBytes = visits * cost.SmemBytes;

        var clock = gpu.ClockHz;
        var kernelSeconds = makespan / clock;
        var hbmSeconds = hbmBytes / (gpu.HbmBytesPerSecond * gpu.StreamingHbmEfficiency);
        var l2Seconds = l2Bytes / (gpu.L2BytesPerClk * clock);
        var seconds = Math.Max(kernelSeconds, Math.Max(hbmSeconds, l2Seconds)) + gpu.KernelLaunchSeconds;
        notes.Add($"FlashAttention-1 forward: O accumulator round trips {Invariant.Sig(reuseBytes / 1e9, 3)} GB, {Invariant.Sig(100 * hit, 3)}% served by L2");

        var resources = FlashModel.TileResources(gpu, clock, seconds, visits, cost, masked * 2.0 * br * bc / gpu.Fp32LanesPerSm,
            smemBytes, l2Seconds, hbmSeconds);
        var bottleneck = FlashModel.Bottleneck(kernelSeconds, l2Seconds, hbmSeconds, bound);
        var ctas = units * splits;
        return new PhaseReport(k.Name + " fwd", seconds, s.ForwardFlops(), ctas, ctas / (double)slots, tile, bottleneck,
            FlashModel.Traffic(hbmBytes, l2Bytes, smemBytes, 0), resources)
        {
            CountedFlops = 2.0 * (d + dv) * counted,
            ExecutedFlops = 2.0 * br * bc * (d + dv) * visits,
        };
    }

    public static PhaseReport Backward(GpuSpec gpu, KernelFamily k, AttentionShape s, List<string> notes, out CtaFootprint footprint)
    {
        var pass = k.Backward!;
        var tile = pass.TileFor(s.HeadDim, s.DType);
        double e = s.DType.Bytes();
        int br = tile.BlockRows, bc = tile.BlockKeys;
        int d = s.HeadDim, dv = s.ValueDim;
        footprint = Footprint(gpu, pass, tile, s, forward: false);
        var c = footprint.CtasPerSm;

        long units = (long)s.Batch * s.Heads;
        int steps = (int)Math.Ceiling(s.QueryLen / (double)br);
        int kBlocks = (int)Math.Ceiling(s.KvLen / (double)bc);
        var parallel = BackwardSplitsKeys(units, gpu.SmCount, c, s.KvLen, bc, s.Causal) && kBlocks > 1;
        notes.Add(parallel
            ? "FlashAttention-1 backward: one CTA per key block, FP32 atomic dQ (num_splits_heuristic_bwd)"
            : "FlashAttention-1 backward: one CTA per head looping over the key blocks, dQ accumulated in global memory");

        var launched = parallel ? units * kBlocks : units;
        c = (int)Math.Clamp((launched + gpu.SmCount - 1) / gpu.SmCount, 1, c);
        var slots = gpu.SmCount * c;

        // Per step: Q and dO (fp16), LSE and D (FP32); dQ: FP32 read-modify-write (serial loop) or FP32 atomics.
        var inStep = br * (d + dv) * e + br * 8.0;
        var dqStep = 2 * br * d * 4.0;
        var cost = StepCost(gpu, k, pass, tile, s, forward: false, globalBytesPerStep: inStep + dqStep);
        var (stepCycles, bound) = FlashModel.PhasedCycles(gpu, pass, cost, c);
        var latencyCycles = gpu.MemoryLatencySeconds * gpu.ClockHz;
        var l2PerSm = gpu.L2BytesPerClk / gpu.SmCount;
        var keyBlockPrologue = latencyCycles + bc * (d + dv) * e / l2PerSm;
        // dK, dV leave through shared memory once per key block.
        var keyBlockEpilogue = 2.0 * bc * (d + dv) * 4 / gpu.SmemBytesPerClkPerSm + bc * (d + dv) * e / l2PerSm;

        var work = new int[kBlocks];
        double counted = 0;
        for (int j = 0; j < kBlocks; j++)
        {
            long k0 = j * (long)bc, k1 = Math.Min(s.KvLen, k0 + bc) - 1;
            (work[j], _, var c1) = VisitingSteps(s.Mask, 0, steps, br, k0, k1, bc);
            counted += c1;
        }
        long visits = work.Sum(x => (long)x);
        var blockCycles = work.Select(x => keyBlockPrologue + x * stepCycles + keyBlockEpilogue).ToList();
        double makespan = parallel
            ? FlashModel.Schedule(blockCycles, units, slots, 0)
            : FlashModel.Schedule([blockCycles.Sum() + EpilogueCycles(gpu)], units, slots, 0);

        double rows = units * s.QueryLen;
        double kvBytes = (double)s.Batch * s.KvHeads * s.KvLen * (d + dv) * e;
        double l2Bytes = units * (visits * (inStep + dqStep) + kBlocks * bc * (d + dv) * 2.0 * e);
        double hbmBytes, sideSeconds = 0;
        var streamBw = gpu.HbmBytesPerSecond * gpu.StreamingHbmEfficiency;
        double compulsory = rows * ((d + dv) * e + 8 + dv * e) + 2 * kvBytes + rows * d * e;   // Q, dO, LSE, D, O; K, V, dK, dV; dQ
        if (parallel)
        {
            // Atomics resolve in L2; the sweep over Q and dO is shared by the CTAs of one head running together.
            var unitsInFlight = Math.Max(1.0, Math.Min(units, slots / (double)kBlocks));
            var ws = unitsInFlight * s.QueryLen * ((d + dv) * e + 8 + d * 4.0);
            var hit = L2HitFraction(gpu, ws);
            hbmBytes = compulsory + rows * d * 4.0 + (1 - hit) * units * visits * (inStep + dqStep);
            // dot(dO, O) pre-kernel, zero-fill and conversion of the FP32 dQ accumulator.
            var sideBytes = rows * (2.0 * dv * e + 4) + rows * d * 4.0 + rows * d * (4.0 + e);
            sideSeconds = sideBytes / streamBw + 3 * gpu.KernelLaunchSeconds;
        }
        else
        {
            // Each CTA sweeps all query rows of its head once per key block.
            var ws = Math.Min(launched, slots) * (double)s.QueryLen * ((d + dv) * e + 8 + d * 4.0);
            var hit = L2HitFraction(gpu, ws);
            var reuse = units * (visits * (inStep + dqStep)) - rows * ((d + dv) * e + 8);
            hbmBytes = compulsory + (1 - hit) * Math.Max(0, reuse);
            notes.Add($"FlashAttention-1 backward: dQ round trips {Invariant.Sig(reuse / 1e9, 3)} GB, {Invariant.Sig(100 * hit, 3)}% served by L2");
        }
        double smemBytes = units * visits * cost.SmemBytes;

        var clock = gpu.ClockHz;
        var kernelSeconds = makespan / clock;
        var hbmSeconds = hbmBytes / streamBw;
        var l2Seconds = l2Bytes / (gpu.L2BytesPerClk * clock);
        var seconds = Math.Max(kernelSeconds, Math.Max(hbmSeconds, l2Seconds)) + gpu.KernelLaunchSeconds + sideSeconds;

        var resources = FlashModel.TileResources(gpu, clock, seconds, units * visits, cost, 0, smemBytes, l2Seconds, hbmSeconds);
        var bottleneck = FlashModel.Bottleneck(kernelSeconds, l2Seconds, hbmSeconds, bound);
        return new PhaseReport(k.Name + " bwd", seconds, 2.5 * s.ForwardFlops(), launched, launched / (double)slots, tile,
            bottleneck, FlashModel.Traffic(hbmBytes, l2Bytes, smemBytes, 0), resources)
        {
            CountedFlops = 2.5 * 2.0 * (d + dv) * counted * units,
            ExecutedFlops = 2.0 * br * bc * (3 * d + 2 * dv) * visits * units,
        };
    }

    /// <summary>
    /// One 16-row step against one key block. Warps split the keys, so every warp reads the whole query (and dO)
    /// step from shared memory, and what the warps produce for the same rows (O, or dQ) is reduced through shared
    /// memory. Forward: K and V stay in registers for the whole key block (kernel flags 0x08). Backward: K and V are
    /// re-read from shared memory every step, P and dS are transposed through shared memory for dV and dK.
    /// </summary>
    private static IterationCost StepCost(GpuSpec gpu, KernelFamily k, PassConfig pass, TileConfig tile, AttentionShape s,
        bool forward, double globalBytesPerStep)
    {
        double br = tile.BlockRows, bc = tile.BlockKeys, w = tile.Warps, d = s.HeadDim, dv = s.ValueDim, e = s.DType.Bytes();
        var rate = FlashModel.TensorRate(gpu, k, s.DType);
        var elements = br * bc;
        double tensor, alu, smem;
        if (forward)
        {
            tensor = 2 * br * bc * (d + dv) / rate;
            alu = elements * pass.AluOpsPerElement + br * dv * pass.RescaleOpsPerOutputElement + br * 8;
            smem = w * br * d * e            // every warp loads the query step
                   + br * d * e              // the next query step is committed to shared memory
                   + 2 * w * br * dv * 4     // partial outputs of the warps: stored, then reduced
                   + 2 * 2 * w * br * 4;     // row max and row sum exchanged between the warps
        }
        else
        {
            tensor = 2 * br * bc * (3 * d + 2 * dv) / rate;
            alu = elements * pass.AluOpsPerElement + br * 8;
            smem = w * br * (d + dv) * e     // Q for S = QK^T, dO for dP = dO V^T (each warp, whole step)
                   + bc * (2 * d + dv) * e   // K for S, V for dP, K^T for dQ (each key read by its warp)
                   + 2 * w * br * d * 4      // partial dQ of the warps: stored, then reduced
                   + 2 * 2 * br * bc * e     // P^T and dS^T through shared memory (store + load)
                   + w * br * (d + dv) * e   // Q^T and dO^T for dK += dS^T Q, dV += P^T dO
                   + br * (d + dv) * e;      // next Q and dO committed to shared memory
        }
        return new IterationCost(tensor, elements / gpu.MufuExp2PerClkPerSm, alu / gpu.Fp32LanesPerSm, smem, globalBytesPerStep, 0);
    }

    /// <summary>
    /// The 16-row query steps in [first, end) that visit key block [k0, k1]: from the step of the first query that
    /// sees one of its keys to that of the last (less steps with no visible pair under a block mask); how many of them
    /// see only part of the block (masked; a dense mask has none: the kernel masks only causal tiles); and the visible
    /// pairs inside them.
    /// </summary>
    internal static (int Steps, int Masked, long Counted) VisitingSteps(ScoreMask mask, int first, int end, int br, long k0, long k1, int bc)
    {
        if (mask.BandEmpty) return (0, 0, 0);
        long begin = mask.MaxOffset is { } hi ? Math.Max(first, Math.Max(0, k0 - hi) / br) : first;
        long stop = mask.MinOffset is { } lo ? Math.Min(end, (Math.Min(mask.QueryLen, k1 - lo + 1) + br - 1) / br) : end;
        if (begin >= stop) return (0, 0, 0);
        int steps = 0, masked = 0;
        long counted = 0;
        for (var i = begin; i < stop; i++)
        {
            var n = mask.Count(i * br, i * br + br - 1, k0, k1);
            if (n == 0 && mask.Blocks is not null) continue;
            steps++;
            counted += n;
            var rows = Math.Min(br, mask.QueryLen - i * br);
            if (!mask.IsDense && n < rows * (long)bc) masked++;
        }
        return (steps, masked, counted);
    }

    /// <summary>Key blocks of Bc keys that query step <paramref name="step"/> visits.</summary>
    internal static int VisitedKeyBlocks(ScoreMask mask, long step, int br, int bc, int kBlocks)
    {
        if (mask.BandEmpty) return 0;
        long q0 = step * br, q1 = q0 + br - 1;
        if (mask.Blocks is null)
        {
            long lo = mask.Lo(Math.Min(q0, mask.QueryLen - 1)), hi = mask.HiExclusive(q1);
            return hi <= lo ? 0 : (int)Math.Min(kBlocks, (hi - 1) / bc - lo / bc + 1);
        }
        var visited = 0;
        for (long j = 0; j < kBlocks; j++)
            if (mask.Count(q0, q1, j * bc, j * bc + bc - 1) > 0) visited++;
        return visited;
    }

    private static double EpilogueCycles(GpuSpec gpu) => gpu.MemoryLatencySeconds * gpu.ClockHz;

    /// <summary>
    /// Fraction of re-referenced global bytes served by L2 when the running CTAs cyclically sweep a working set
    /// larger than the cache: 1 when it fits, otherwise the cache's share of it (a random-replacement approximation
    /// of an L2 that is neither LRU nor fully associative).
    /// </summary>
    internal static double L2HitFraction(GpuSpec gpu, double workingSetBytes) =>
        workingSetBytes <= 0 ? 1 : Math.Min(1, gpu.L2Bytes / workingSetBytes);

    /// <summary>num_splits_heuristic_fwd of flash-attn v1: the fewest query splits reaching 95% of the best wave efficiency.</summary>
    internal static int ForwardSplits(long batchHeads, int smCount, int ctasPerSm, int maxSplits)
    {
        var eff = new double[maxSplits + 1];
        double best = 0;
        for (int n = 1; n <= maxSplits; n++)
        {
            var waves = batchHeads * n / (double)(smCount * ctasPerSm);
            eff[n] = waves / Math.Ceiling(waves);
            best = Math.Max(best, eff[n]);
        }
        for (int n = 1; n <= maxSplits; n++)
            if (eff[n] > 0.95 * best) return n;
        return 1;
    }

    /// <summary>num_splits_heuristic_bwd of flash-attn v1: parallelise over key blocks when its discounted wave efficiency wins.</summary>
    internal static bool BackwardSplitsKeys(long batchHeads, int smCount, int ctasPerSm, long seqLenK, int blockKeys, bool causal)
    {
        var slots = (double)smCount * ctasPerSm;
        var waves1 = batchHeads / slots;
        var eff1 = waves1 / Math.Ceiling(waves1);
        var splits = Math.Max(1, seqLenK / blockKeys);
        var wavesP = batchHeads * splits / slots;
        var effP = wavesP / Math.Ceiling(wavesP);
        double discount;
        if (!causal) discount = 1 + blockKeys / (double)seqLenK;
        else
        {
            if (seqLenK / blockKeys >= 10) return true;
            discount = 1 + 0.5 * blockKeys / seqLenK;
        }
        return effP / discount > eff1;
    }

    /// <summary>
    /// Shared memory and registers of a CTA. Forward: two Q step buffers, one buffer shared by K and V (or the warps'
    /// partial outputs), row statistics. Backward: Q and dO double-buffered, K and V, the warps' partial dQ, P and dS.
    /// </summary>
    internal static CtaFootprint Footprint(GpuSpec gpu, PassConfig pass, TileConfig tile, AttentionShape s, bool forward)
    {
        long br = tile.BlockRows, bc = tile.BlockKeys, w = tile.Warps, d = s.HeadDim, dv = s.ValueDim, e = s.DType.Bytes();
        long smem = forward
            ? 2 * br * d * e + Math.Max(bc * d * e, w * br * dv * 4 + 2 * w * br * 4) + br * 4 * 2
            : 2 * br * (d + dv) * e + bc * (d + dv) * e + w * br * d * 4 + 2 * br * bc * e + 2 * br * 4;
        var threads = (int)w * 32;
        long regs = threads * (long)pass.RegsPerThread;
        var limits = new List<(int, string)>
        {
            (gpu.MaxCtasPerSm, "max CTAs per SM"),
            ((int)(gpu.SmemBytesPerSm / Math.Max(1, smem)), "shared memory"),
            ((int)(gpu.RegisterFileBytesPerSm / 4 / Math.Max(1, regs)), "registers"),
            (gpu.MaxThreadsPerSm / threads, "threads"),
        };
        var (ctas, why) = limits.MinBy(l => l.Item1);
        if (smem > gpu.SmemBytesPerCta || ctas < 1)
            throw new InputException($"FlashAttention-1 tile {br}x{bc} for head_dim {d} does not fit on {gpu.Name} " +
                                     $"(needs {smem / 1024} KiB shared memory, {regs} registers per CTA)");
        return new CtaFootprint(smem, regs, 0, threads, ctas, why);
    }
}
