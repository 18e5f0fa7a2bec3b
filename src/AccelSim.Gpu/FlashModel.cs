using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>Per-CTA, per-iteration demand on each SM resource (cycles for pipes, bytes for memories).</summary>
internal readonly record struct IterationCost(
    double TensorCycles, double ExpCycles, double AluCycles, double SmemBytes, double L2Bytes, double TmemBytes);

/// <summary>One CTA of a launch: how many key (or query) iterations it runs and whether it pays the prologue.</summary>
internal readonly record struct CtaWork(int Iterations, int MaskedIterations);

/// <summary>
/// Tiled (FlashAttention-style) kernels: CTAs of Br query rows stream Bc-key tiles; every tile is priced on the
/// tensor cores, MUFU, FP32 pipes, shared memory, L2 and HBM of one SM; CTAs are list-scheduled onto
/// SM slots (waves, tails, causal imbalance).
/// </summary>
internal static class FlashModel
{
    public static PhaseReport Forward(GpuSpec gpu, KernelFamily k, AttentionShape s, List<string> notes, out CtaFootprint footprint)
    {
        var pass = k.Forward!;
        var tile = pass.TileFor(s.HeadDim, s.DType);
        var e = s.DType.Bytes();
        int br = tile.BlockRows, bc = tile.BlockKeys, w = tile.Warps;
        int d = s.HeadDim, dv = s.ValueDim;

        footprint = Footprint(gpu, k, pass, tile, s, forward: true);
        var c = footprint.CtasPerSm;

        // Decode / short queries with GQA: the query heads of a group share K/V and are packed into the tile rows.
        var pack = s.GroupSize > 1 && s.QueryLen * s.GroupSize <= Math.Max(br, 2L * s.QueryLen) ? s.GroupSize : 1;
        long rowsPerUnit = s.QueryLen * pack;
        long units = (long)s.Batch * s.Heads / pack;
        int qBlocks = (int)Math.Ceiling(rowsPerUnit / (double)br);

        // Key tiles visited by each query block: those holding at least one visible (query, key) pair of the mask.
        var mask = s.Mask;
        var blockWork = new CtaWork[qBlocks];
        long countedPerUnit = 0;
        for (int i = 0; i < qBlocks; i++)
        {
            long r0 = (long)i * br, r1 = Math.Min(rowsPerUnit, r0 + br) - 1;
            (blockWork[i], var counted) = VisitedKeyTiles(mask, r0, r1, pack, bc);
            countedPerUnit += counted;
        }

        // Split-KV (Flash-Decoding heuristic of FA2) or stream-K (Lean Attention) when there are too few CTAs.
        long baseCtas = units * qBlocks;
        int maxIter = blockWork.Max(b => b.Iterations);
        int splits = 1;
        var slots = gpu.SmCount * c;
        var streamK = k.DecodePartition == DecodePartition.StreamK && baseCtas < slots && maxIter > 1;
        if (!streamK)
            splits = SplitHeuristic(baseCtas, gpu.SmCount, maxIter);

        // A grid smaller than SMs x resident CTAs leaves SMs with fewer co-resident CTAs than the occupancy limit.
        var launched = streamK ? (long)gpu.SmCount * c : baseCtas * splits;
        c = (int)Math.Clamp((launched + gpu.SmCount - 1) / gpu.SmCount, 1, c);
        slots = gpu.SmCount * c;
        var cost = ForwardIteration(gpu, k, pass, tile, s);
        var (iterCycles, bound) = IterationCycles(gpu, k, pass, cost, c, tile.Warps);
        // Masked (diagonal) tiles pay for building and applying the mask on the FP32 pipes.
        var maskExtra = 2.0 * br * bc / gpu.Fp32LanesPerSm / pass.Efficiency.Value;

        var latencyCycles = gpu.MemoryLatencySeconds * gpu.ClockHz;
        var l2PerSm = gpu.L2BytesPerClk / gpu.SmCount;
        var prologue = latencyCycles + (br * d * e + bc * (d + dv) * e) / l2PerSm;
        var epilogue = (2.0 * br * dv) / gpu.Fp32LanesPerSm + br * (dv * e + 4) / l2PerSm
                       + (splits > 1 || streamK ? br * dv * 4.0 / l2PerSm : 0);
        // Software-pipelined softmax (FA3 Algorithm 2, FA4): the softmax of key tile j runs under the GEMMs of tile
        // j+1, so each work tile exposes one softmax that nothing overlaps (pipeline fill); the steady-state
        // iteration cost above already serialises the exponentials with the MMAs.
        if (pass.PipelineFill) epilogue += c * (cost.ExpCycles + cost.AluCycles);

        var durations = new List<double>();
        long totalIterations = 0, totalMasked = 0;
        if (streamK)
        {
            // Equal shares of all key tiles over all slots; each slot pays one fix-up per (unit, q-block) it touches.
            long work = units * blockWork.Sum(b => (long)b.Iterations);
            var share = Math.Ceiling(work / (double)slots);
            var touches = Math.Ceiling((double)baseCtas / slots) + 1;
            for (int sl = 0; sl < slots; sl++)
                durations.Add(share * iterCycles + touches * epilogue + prologue);
            totalIterations = work;
            splits = (int)Math.Ceiling(slots / (double)Math.Max(1, baseCtas));
            notes.Add($"stream-K partitioning: {Invariant.Num(work)} key tiles over {slots} CTA slots");
        }
        else
        {
            var order = Enumerable.Range(0, qBlocks).ToArray();
            if (k.CausalOrder == CausalOrder.HeaviestFirst)
                order = order.OrderByDescending(i => blockWork[i].Iterations).ToArray();
            foreach (var i in order)
            {
                var bw = blockWork[i];
                for (int sp = 0; sp < splits; sp++)
                {
                    var it = bw.Iterations / splits + (sp < bw.Iterations % splits ? 1 : 0);
                    var masked = sp == splits - 1 ? bw.MaskedIterations : 0;
                    var dur = it * iterCycles + masked * maskExtra + epilogue + (k.Persistent ? 0 : prologue);
                    durations.Add(dur);
                    totalIterations += it * units;
                    totalMasked += masked * units;
                }
            }
            if (splits > 1) notes.Add($"split-KV: {splits} splits per query block (FA2 num_splits heuristic)");
        }

        // The q-block pattern repeats for every (batch, head) unit: schedule units x pattern onto the slots.
        var ctaCount = streamK ? slots : units * durations.Count;
        var makespan = streamK ? durations.Max() : Schedule(durations, units, slots, k.Persistent ? prologue : 0);

        // Combine kernel for split-KV / stream-K partial outputs.
        double combineSeconds = 0, combineBytes = 0;
        if (splits > 1 || streamK)
        {
            combineBytes = units * rowsPerUnit * (splits * (dv * 4.0 + 4) + dv * e);
            combineSeconds = combineBytes / (gpu.HbmBytesPerSecond * gpu.StreamingHbmEfficiency) + gpu.KernelLaunchSeconds;
        }

        // Traffic.
        double qBytes = (double)s.Batch * s.Heads * s.QueryLen * d * e;
        double oBytes = (double)s.Batch * s.Heads * s.QueryLen * dv * e;
        double kvBytes = (double)s.Batch * s.KvHeads * s.KvLen * (d + dv) * e;
        double l2Bytes = totalIterations * cost.L2Bytes + ctaCount * (br * d * e + br * (dv * e + 4.0)) + combineBytes;
        double smemBytes = totalIterations * cost.SmemBytes;
        double hbmBytes = qBytes + oBytes + kvBytes * KvRereadFactor(gpu, s, bc, slots, qBlocks * splits) + combineBytes;

        var clock = gpu.ClockHz;
        var kernelSeconds = makespan / clock;
        var hbmSeconds = hbmBytes / (gpu.HbmBytesPerSecond * gpu.StreamingHbmEfficiency);
        var l2Seconds = l2Bytes / (gpu.L2BytesPerClk * clock);
        var seconds = Math.Max(kernelSeconds, Math.Max(hbmSeconds, l2Seconds)) + gpu.KernelLaunchSeconds + combineSeconds;

        var resources = TileResources(gpu, clock, seconds, totalIterations, cost, totalMasked * 2.0 * br * bc / gpu.Fp32LanesPerSm,
            smemBytes, l2Seconds, hbmSeconds);
        var bottleneck = Bottleneck(kernelSeconds, l2Seconds, hbmSeconds, bound);
        var traffic = Traffic(hbmBytes, l2Bytes, smemBytes, totalIterations * cost.TmemBytes);
        return new PhaseReport(k.Name + " fwd", seconds, s.ForwardFlops(), ctaCount,
            ctaCount / (double)slots, tile, bottleneck, traffic, resources)
        {
            CountedFlops = 2.0 * (d + dv) * countedPerUnit * units,
            ExecutedFlops = 2.0 * br * bc * (d + dv) * totalIterations,
        };
    }

    /// <summary>
    /// The key tiles a block of (packed) query rows [r0, r1] visits: every Bc-wide tile with at least one visible pair;
    /// a visited tile is masked (pays the mask on the FP32 pipes) unless every row sees all Bc keys of it. Also returns
    /// the visible pairs inside the visited tiles, which must be all of the block's visible pairs.
    /// </summary>
    internal static (CtaWork Work, long Counted) VisitedKeyTiles(ScoreMask mask, long r0, long r1, int pack, int bc)
    {
        long q0 = r0 / pack, q1 = r1 / pack;
        long rows = r1 - r0 + 1;
        long loMin = mask.Lo(q0), hiMax = mask.HiExclusive(q1);
        if (mask.BandEmpty || hiMax <= loMin) return (new CtaWork(0, 0), 0);
        long firstBlock = loMin / bc, endBlock = (hiMax + bc - 1) / bc;
        if (mask.Blocks is null)
        {
            // The band's rows are contiguous key ranges moving right with the query: tiles between the first row's
            // start and the last row's end are all visited; those inside every row's range are unmasked.
            var iterations = (int)(endBlock - firstBlock);
            long fullEnd = mask.HiExclusive(q0) / bc;
            long fullStart = (mask.Lo(q1) + bc - 1) / bc;
            var masked = (int)Math.Clamp(iterations - Math.Max(0, fullEnd - Math.Max(firstBlock, fullStart)), 0, iterations);
            var counted = mask.PackedCount(r0, r1, pack, firstBlock * bc, endBlock * bc - 1);
            return (new CtaWork(iterations, masked), counted);
        }
        int visited = 0, partial = 0;
        long total = 0;
        for (var j = firstBlock; j < endBlock; j++)
        {
            var n = mask.PackedCount(r0, r1, pack, j * bc, j * bc + bc - 1);
            if (n == 0) continue;
            visited++;
            if (n < rows * bc) partial++;
            total += n;
        }
        return (new CtaWork(visited, partial), total);
    }

    public static PhaseReport Backward(GpuSpec gpu, KernelFamily k, AttentionShape s, List<string> notes, out CtaFootprint footprint)
    {
        if (k.BackwardParallelism != BackwardParallelism.Fastest)
            return BackwardVariant(gpu, k, s, k.BackwardParallelism == BackwardParallelism.PerHead, notes, out footprint);
        // The implementation is run both ways and the faster backward is reported (Triton FlashAttention in the
        // FlashAttention-2 benchmark: sequence_parallel False and True).
        var perHeadNotes = new List<string>();
        var keyNotes = new List<string>();
        var perHead = BackwardVariant(gpu, k, s, perHead: true, perHeadNotes, out var perHeadFootprint);
        var keyBlocks = BackwardVariant(gpu, k, s, perHead: false, keyNotes, out var keyFootprint);
        var usePerHead = perHead.Seconds <= keyBlocks.Seconds;
        notes.AddRange(usePerHead ? perHeadNotes : keyNotes);
        notes.Add(usePerHead ? "backward: one CTA per head is faster than one per key block"
                             : "backward: one CTA per key block is faster than one per head");
        footprint = usePerHead ? perHeadFootprint : keyFootprint;
        return usePerHead ? perHead : keyBlocks;
    }

    /// <summary>
    /// The backward kernel: CTAs own key blocks (dK, dV accumulate in registers) and iterate over the query blocks
    /// that see them. <paramref name="perHead"/>: one CTA per (batch, head) loops over all key blocks and
    /// read-modify-writes dQ in global memory; otherwise one CTA per key block and dQ is combined by the family's
    /// <see cref="DqAccumulation"/>.
    /// </summary>
    private static PhaseReport BackwardVariant(GpuSpec gpu, KernelFamily k, AttentionShape s, bool perHead, List<string> notes, out CtaFootprint footprint)
    {
        var pass = k.Backward!;
        var tile = pass.TileFor(s.HeadDim, s.DType);
        var e = s.DType.Bytes();
        int br = tile.BlockRows, bc = tile.BlockKeys;
        int d = s.HeadDim, dv = s.ValueDim;
        footprint = Footprint(gpu, k, pass, tile, s, forward: false);
        var c = footprint.CtasPerSm;

        long units = (long)s.Batch * s.Heads;
        int kBlocks = (int)Math.Ceiling(s.KvLen / (double)bc);
        var work = new int[kBlocks];
        long countedPerUnit = 0;
        for (int j = 0; j < kBlocks; j++)
        {
            long k0 = (long)j * bc, k1 = Math.Min(s.KvLen, k0 + bc) - 1;
            (work[j], var counted) = VisitedQueryBlocks(s.Mask, s.QueryLen, k0, k1, br);
            countedPerUnit += counted;
        }

        // dQ: bytes of global traffic per (key block, query block) iteration, and how they are combined.
        var dq = perHead
            ? (k.DqAccumulation == DqAccumulation.RmwInput ? DqAccumulation.RmwInput : DqAccumulation.RmwFp32)
            : k.DqAccumulation;
        double dqBytesPerIteration = dq switch
        {
            DqAccumulation.AtomicFp32 => br * d * 4.0 * (k.TwoCtaMmaBackward ? 1 : 2),   // FA4: 2-CTA MMA halves the atomics
            DqAccumulation.RmwFp32 => 2.0 * br * d * 4,
            DqAccumulation.RmwInput => 2.0 * br * d * e,
            _ => br * d * (double)e,                                                       // this key block's dQ copy
        };

        var launched = perHead ? units : units * kBlocks;
        c = (int)Math.Clamp((launched + gpu.SmCount - 1) / gpu.SmCount, 1, c);
        var cost = BackwardIteration(gpu, k, pass, tile, s, dqBytesPerIteration);
        var (iterCycles, bound) = IterationCycles(gpu, k, pass, cost, c, tile.Warps);
        var latencyCycles = gpu.MemoryLatencySeconds * gpu.ClockHz;
        var l2PerSm = gpu.L2BytesPerClk / gpu.SmCount;
        var prologue = latencyCycles + bc * (d + dv) * e / l2PerSm;
        var epilogue = bc * (d + dv) * (double)e / l2PerSm + 2.0 * bc * (d + dv) / gpu.Fp32LanesPerSm;
        var order = Enumerable.Range(0, kBlocks).ToArray();
        if (k.CausalOrder == CausalOrder.HeaviestFirst) order = order.OrderByDescending(j => work[j]).ToArray();
        var blockCycles = order.Select(j => work[j] * iterCycles + epilogue + (k.Persistent ? 0 : prologue)).ToList();
        var durations = perHead ? [blockCycles.Sum() + (k.Persistent ? 0 : prologue)] : blockCycles;
        var slots = gpu.SmCount * c;
        var makespan = Schedule(durations, units, slots, k.Persistent ? prologue : 0);
        long iterationsPerUnit = work.Sum(x => (long)x);
        long totalIterations = units * iterationsPerUnit;

        // Side kernels, all streaming: D = rowsum(dO * O) before; after, the FP32 dQ accumulator is converted
        // (atomics), or the per-key-block dQ copies are zero-filled before and summed after (replicas).
        double rows = (double)s.Batch * s.Heads * s.QueryLen;
        var streamBw = gpu.HbmBytesPerSecond * gpu.StreamingHbmEfficiency;
        var preBytes = rows * (2.0 * dv * e + 4);
        double postBytes = dq switch
        {
            DqAccumulation.AtomicFp32 => rows * d * (4.0 + e),
            DqAccumulation.Replicas => kBlocks * rows * d * (double)e /* zero-fill */ + kBlocks * rows * d * (double)e /* sum */ + rows * d * e,
            // one CTA per head with an FP32 dQ tensor: zero-filled before, cast to the input type after
            DqAccumulation.RmwFp32 when perHead => rows * d * 4.0 + rows * d * (4.0 + e),
            _ => 0,
        };
        var sideKernels = 1 + (postBytes > 0 ? (dq is DqAccumulation.Replicas || perHead ? 2 : 1) : 0);
        var sideSeconds = (preBytes + postBytes) / streamBw + sideKernels * gpu.KernelLaunchSeconds;

        double qdoBytes = rows * (d + dv) * e;
        double kvBytes = (double)s.Batch * s.KvHeads * s.KvLen * (d + dv) * e;
        double hbmMain = qdoBytes + rows * 8 + 2 * kvBytes;   // read Q, dO, LSE, D, K, V; write dK, dV
        hbmMain += dq switch
        {
            DqAccumulation.AtomicFp32 or DqAccumulation.RmwFp32 => rows * d * 4.0,   // accumulator write-back
            DqAccumulation.Replicas => kBlocks * rows * d * (double)e,              // every key block writes its copy
            _ => rows * d * (double)e,
        };
        if (perHead)
        {
            // Each CTA sweeps all query rows of its head (Q, dO, statistics, dQ) once per key block; what does not
            // stay in L2 is re-read from HBM.
            var ws = Math.Min(launched, slots) * (double)s.QueryLen * ((d + dv) * e + 8 + 2.0 * d * (dq == DqAccumulation.RmwInput ? e : 4));
            var hit = Flash1Model.L2HitFraction(gpu, ws);
            var reuse = Math.Max(0, totalIterations * cost.L2Bytes - rows * ((d + dv) * e + 8 + d * 2.0 * (dq == DqAccumulation.RmwInput ? e : 4)));
            hbmMain += (1 - hit) * reuse;
            notes.Add($"backward, one CTA per head: {Invariant.Sig(100 * hit, 3)}% of the per-key-block re-reads of Q, dO and dQ served by L2");
        }
        double l2Bytes = totalIterations * cost.L2Bytes + launched * (perHead ? kBlocks : 1) * bc * (d + dv) * 2.0 * e;
        double smemBytes = totalIterations * cost.SmemBytes;

        var clock = gpu.ClockHz;
        var kernelSeconds = makespan / clock;
        var hbmSeconds = hbmMain / streamBw;
        var l2Seconds = l2Bytes / (gpu.L2BytesPerClk * clock);
        var seconds = Math.Max(kernelSeconds, Math.Max(hbmSeconds, l2Seconds)) + gpu.KernelLaunchSeconds + sideSeconds;

        var resources = TileResources(gpu, clock, seconds, totalIterations, cost, 0, smemBytes, l2Seconds,
            hbmSeconds + (preBytes + postBytes) / streamBw);
        var bottleneck = Bottleneck(kernelSeconds, l2Seconds, hbmSeconds, bound);
        var traffic = Traffic(hbmMain + preBytes + postBytes, l2Bytes, smemBytes, totalIterations * cost.TmemBytes);
        return new PhaseReport(k.Name + " bwd", seconds, 2.5 * s.ForwardFlops(), launched, launched / (double)slots,
            tile, bottleneck, traffic, resources)
        {
            CountedFlops = 2.5 * 2.0 * (d + dv) * countedPerUnit * units,
            ExecutedFlops = 2.0 * br * bc * (3 * d + 2 * dv) * totalIterations,
        };
    }

    /// <summary>
    /// The query blocks of Br rows that visit key block [k0, k1] (backward: a CTA owns the key block): from the block of
    /// the first query that sees one of its keys to that of the last, less blocks with no visible pair; and the visible
    /// pairs inside them.
    /// </summary>
    internal static (int Blocks, long Counted) VisitedQueryBlocks(ScoreMask mask, long queryLen, long k0, long k1, int br)
    {
        if (mask.BandEmpty) return (0, 0);
        long qStart = mask.MaxOffset is { } hi ? Math.Max(0, k0 - hi) : 0;
        long qEnd = mask.MinOffset is { } lo ? Math.Min(queryLen, k1 - lo + 1) : queryLen;
        if (qEnd <= qStart) return (0, 0);
        long first = qStart / br, end = (qEnd + br - 1) / br;
        if (mask.Blocks is null) return ((int)(end - first), mask.Count(first * br, end * br - 1, k0, k1));
        int visited = 0;
        long total = 0;
        for (var i = first; i < end; i++)
        {
            var n = mask.Count(i * br, i * br + br - 1, k0, k1);
            if (n == 0) continue;
            visited++;
            total += n;
        }
        return (visited, total);
    }

    /// <summary>Tensor rate a family's MMA instruction class reaches on this GPU, FLOP/clk/SM.</summary>
    internal static double TensorRate(GpuSpec gpu, KernelFamily k, DataType t)
    {
        var rate = gpu.TensorFlopsPerClkPerSm(t);
        return k.Mma == MmaClass.MmaSync ? rate * gpu.LegacyMmaSyncFraction : rate;
    }

    private static IterationCost ForwardIteration(GpuSpec gpu, KernelFamily k, PassConfig pass, TileConfig tile, AttentionShape s)
    {
        double br = tile.BlockRows, bc = tile.BlockKeys, w = tile.Warps, d = s.HeadDim, dv = s.ValueDim, e = s.DType.Bytes();
        var tensor = 2 * br * bc * (d + dv) / TensorRate(gpu, k, s.DType);
        var exps = br * bc;
        var mufu = (1 - pass.ExpEmulatedFraction) * exps / gpu.MufuExp2PerClkPerSm;
        var aluOps = exps * pass.AluOpsPerElement
                     + pass.RescaleFraction * br * dv * pass.RescaleOpsPerOutputElement
                     + br * 8                                              // row max / sum / correction factor
                     + pass.ExpEmulatedFraction * exps * pass.ExpPolyFmaOps;
        var alu = aluOps / gpu.Fp32LanesPerSm;

        double kvTile = bc * (d + dv) * e, smem, l2, tmem = 0;
        switch (k.Mma)
        {
            case MmaClass.MmaSync:
            {
                // Warps tile the score block (rows x keys; FlashAttention-2: all warps along the rows). The A operand
                // (Q, re-read every iteration unless it stays in registers) is read once per warp column, the B
                // operands K and V once per warp row (ldmatrix); cp.async writes the incoming tile.
                double wm = tile.WarpRows, wn = tile.WarpCols;
                smem = (pass.QInRegisters ? 0 : wn * br * d * e) + wm * bc * (d + dv) * e + kvTile;
                // CUTLASS back-to-back GEMM: P is stored to shared memory and read back as the A operand of PV.
                if (pass.PViaSmem) smem += br * bc * e + wn * br * bc * e;
                // Warps sharing rows exchange the row max and row sum through shared memory.
                if (wn > 1) smem += 2 * 2 * wn * br * 4;
                break;
            }
            case MmaClass.Wgmma:
                // Each consumer warpgroup (64 rows) reads K and V (B operands) once; Q (A of QK^T) once; TMA writes the tile.
                var warpgroups = Math.Max(1.0, br / 64);
                smem = br * d * e + warpgroups * bc * (d + dv) * e + kvTile;
                if (s.DType == DataType.Fp8) smem += 2 * bc * dv * e;   // FP8: in-kernel transpose of V (FA3 Sec. 3.3)
                break;
            default:
                // tcgen05: one MMA per 128-row Q tile reads Q and K / V from shared memory; P comes from TMEM.
                var qTiles = Math.Max(1.0, br / 128);
                smem = br * d * e + qTiles * bc * (d + dv) * e + kvTile;
                tmem = br * bc * (4 + 4 + 2) + pass.RescaleFraction * br * dv * 8;  // S write+read, P write, O correction
                break;
        }
        l2 = kvTile;
        return new IterationCost(tensor, mufu, alu, smem, l2, tmem);
    }

    private static IterationCost BackwardIteration(GpuSpec gpu, KernelFamily k, PassConfig pass, TileConfig tile, AttentionShape s, double dqBytes)
    {
        double br = tile.BlockRows, bc = tile.BlockKeys, w = tile.Warps, d = s.HeadDim, dv = s.ValueDim, e = s.DType.Bytes();
        // Five GEMMs per tile: S = QK^T, dP = dO V^T, dV += P^T dO, dK += dS^T Q, dQ += dS K.
        var tensor = 2 * br * bc * (3 * d + 2 * dv) / TensorRate(gpu, k, s.DType);
        var mufu = br * bc / gpu.MufuExp2PerClkPerSm;
        var alu = (br * bc * pass.AluOpsPerElement + br * 8) / gpu.Fp32LanesPerSm;
        double smem;
        if (k.Mma == MmaClass.MmaSync && tile.WarpCols > 1)
        {
            // Explicit warp tiling [wm, wn] applied to each of the five GEMMs: every A operand (Q, dO; P^T, dS^T, dS
            // staged in shared memory) is read once per warp column, every B operand (K, V; dO, Q; K) once per warp row.
            double wm = tile.WarpRows, wn = tile.WarpCols;
            smem = wn * (br * (d + dv) + 3 * br * bc) * e
                   + wm * (bc * (2 * d + dv) + br * (d + dv)) * e
                   + 2 * br * bc * e                                             // P and dS written to shared memory
                   + br * (d + dv) * e;                                          // incoming Q, dO tiles
        }
        else
        {
            // Operand replication: how many warps/warpgroups read each shared-memory operand.
            var replication = k.Mma switch
            {
                MmaClass.MmaSync => Math.Max(1.0, w / 2),
                MmaClass.Wgmma => Math.Max(1.0, Math.Min(br, 128) / 64),
                _ => k.TwoCtaMmaBackward ? 0.5 : 1.0,
            };
            smem = replication * (2 * br * (d + dv) + bc * d + 3 * br * bc) * e   // Q, dO twice; K; P^T, dS^T, dS
                   + 2 * br * bc * e                                             // P and dS written to shared memory
                   + br * (d + dv) * e;                                          // incoming Q, dO tiles
        }
        if (k.Mma == MmaClass.MmaSync) smem += SpillBytes(pass, tile, s);
        var l2 = br * (d + dv) * e + br * 8 + dqBytes;                          // Q, dO, LSE, D; dQ (see DqAccumulation)
        if (pass.GlobalOperandGemms > 0)
        {
            // GEMMs that stream their operands from global memory re-read them through L2 (S^T = K Q^T, dV += P^T dO,
            // dP^T = V dO^T, dK += dS^T Q, dQ = dS K: K, Q and dO twice, V once; P and dS are staged on chip).
            var operands = new[] { bc * d + br * d, br * dv, bc * dv + br * dv, br * d, bc * d };
            l2 += operands.Take(pass.GlobalOperandGemms).Sum() * e - br * (d + dv) * e;
        }
        var tmem = k.Mma == MmaClass.Tcgen05 ? br * bc * 4 * 3.0 : 0;
        return new IterationCost(tensor, mufu, alu, smem, l2, tmem);
    }

    /// <summary>
    /// Backward register pressure of warp-level MMA kernels: the dK and dV accumulators (FP32, kept for the whole
    /// key block), the S/P and dP/dS tiles (FP32, both live when dS is formed), K and V when they are held in registers
    /// (kernels without pipelined shared-memory loads), plus about 24 registers of addresses and loop state. What
    /// exceeds the per-thread cap spills to local memory and is stored and reloaded once per iteration through L1,
    /// which shares its SRAM bandwidth with shared memory. Returns those bytes per iteration.
    /// </summary>
    internal static double SpillBytes(PassConfig pass, TileConfig tile, AttentionShape s)
    {
        double br = tile.BlockRows, bc = tile.BlockKeys, d = s.HeadDim, dv = s.ValueDim, e = s.DType.Bytes();
        var threads = tile.Warps * 32.0;
        var accumulators = (bc * (d + dv) + 2 * br * bc) / threads;             // FP32 values per thread
        var operands = pass.SoftwarePipelined ? 0 : bc * (d + dv) * e / 4 / threads;
        var demand = accumulators + operands + 24;
        return 2 * Math.Max(0, demand - pass.RegsPerThread) * 4 * threads;
    }

    /// <summary>
    /// Cycles for <paramref name="c"/> co-resident CTAs to each finish one iteration (the wall time of one iteration
    /// of any of them), and the limiting resource.
    /// Exponentials sit on the MMA critical path except for the family's hidden fraction; the remaining softmax
    /// ALU work overlaps only through independent warps (or warp specialisation / ping-pong).
    /// </summary>
    internal static (double Cycles, string Bound) IterationCycles(GpuSpec gpu, KernelFamily k, PassConfig pass, IterationCost it, int c, int warps)
    {
        if (pass.BarrierPhases || !pass.SoftwarePipelined) return PhasedCycles(gpu, pass, it, c);
        var critical = it.TensorCycles + (1 - pass.ExpHiddenFraction) * it.ExpCycles;
        var asyncSoftmax = k.PingPong || k.IntraWarpgroupPipelining || k.Mma == MmaClass.Tcgen05;
        double compute;
        if (asyncSoftmax)
        {
            var consumerWarps = k.WarpSpecialised ? Math.Max(4, warps - 4) : warps;
            var streams = Math.Max(1.0, c * consumerWarps / 4.0);
            compute = Math.Max(c * critical, Math.Max(c * it.AluCycles, c * (it.ExpCycles + it.AluCycles) / streams));
        }
        else
        {
            var streams = Math.Max(1.0, c * warps / 4.0);
            compute = Math.Max(c * critical, c * (it.TensorCycles + it.ExpCycles + it.AluCycles) / streams);
        }
        compute /= pass.Efficiency.Value;
        var smem = c * it.SmemBytes / gpu.SmemBytesPerClkPerSm;
        var l2 = c * it.L2Bytes / (gpu.L2BytesPerClk / gpu.SmCount);
        var cycles = Math.Max(compute, Math.Max(smem, l2));
        string bound;
        if (cycles == smem && smem > compute) bound = GpuResources.Smem;
        else if (cycles == l2 && l2 > compute) bound = GpuResources.L2;
        else if (c * it.AluCycles / pass.Efficiency.Value >= compute * 0.999 && it.AluCycles > critical) bound = GpuResources.Fma;
        else bound = it.ExpCycles * (1 - pass.ExpHiddenFraction) > it.TensorCycles ? GpuResources.Exp : GpuResources.Tensor;
        return (cycles, bound);
    }

    /// <summary>
    /// Cycles for <paramref name="c"/> co-resident CTAs to each finish one iteration when block-wide barriers separate
    /// the GEMM, softmax and shared-memory phases (or every iteration waits for its own global loads): one CTA runs
    /// the phases one after the other, plus one exposed memory latency when its loads are not issued ahead;
    /// co-resident CTAs overlap up to the limit of each pipe.
    /// </summary>
    internal static (double Cycles, string Bound) PhasedCycles(GpuSpec gpu, PassConfig pass, IterationCost it, int c)
    {
        var tensor = it.TensorCycles / pass.Efficiency.Value;
        var softmax = it.ExpCycles + it.AluCycles;
        var smem = it.SmemBytes / gpu.SmemBytesPerClkPerSm;
        var l2 = it.L2Bytes / (gpu.L2BytesPerClk / gpu.SmCount);
        var latency = gpu.MemoryLatencySeconds * gpu.ClockHz;
        var exposed = (pass.SoftwarePipelined ? 0 : latency) + pass.GlobalOperandGemms * latency;
        var serial = tensor + softmax + smem + exposed;
        var pipes = new (double Cycles, string Name)[]
        {
            (c * tensor, GpuResources.Tensor), (c * softmax, it.ExpCycles > it.AluCycles ? GpuResources.Exp : GpuResources.Fma),
            (c * smem, GpuResources.Smem), (c * l2, GpuResources.L2),
        };
        var busiest = pipes.MaxBy(p => p.Cycles);
        return busiest.Cycles >= serial ? (busiest.Cycles, busiest.Name) : (serial, GpuResources.Latency);
    }

    /// <summary>
    /// Greedy list scheduling: CTAs are launched in order onto the first free slot (SM x resident CTAs); returns
    /// the makespan in cycles. Persistent kernels pay the prologue only on each slot's first tile.
    /// </summary>
    internal static double Schedule(List<double> pattern, long repeats, int slots, double firstTilePrologue)
    {
        var n = pattern.Count * repeats;
        if (pattern.Count == 0 || repeats == 0) return 0;
        var min = pattern.Min();
        if (pattern.All(p => p == min))
        {
            var waves = Math.Ceiling(n / (double)slots);
            return waves * min + firstTilePrologue;
        }
        if (n > 4_000_000)
        {
            // Very large grids: wave quantisation is negligible; use the average load plus the longest CTA.
            return pattern.Sum() * repeats / slots + pattern.Max() + firstTilePrologue;
        }
        var heap = new PriorityQueue<int, double>();
        for (int sIdx = 0; sIdx < Math.Min(slots, n); sIdx++) heap.Enqueue(sIdx, firstTilePrologue);
        double end = 0;
        for (long r = 0; r < repeats; r++)
            foreach (var p in pattern)
            {
                heap.TryDequeue(out var slot, out var free);
                var finish = free + p;
                end = Math.Max(end, finish);
                heap.Enqueue(slot, finish);
            }
        return end;
    }

    /// <summary>FA2's num_splits heuristic: split the keys only when the grid fills less than 80% of the SMs.</summary>
    internal static int SplitHeuristic(long ctas, int smCount, int keyBlocks)
    {
        if (ctas >= 0.8 * smCount || keyBlocks <= 1) return 1;
        var maxSplits = Math.Min(Math.Min(128, smCount), keyBlocks);
        var eff = new double[maxSplits + 1];
        double best = 0;
        for (int sp = 1; sp <= maxSplits; sp++)
        {
            var waves = (double)ctas * sp / smCount;
            eff[sp] = waves / Math.Ceiling(waves);
            best = Math.Max(best, eff[sp]);
        }
        for (int sp = 1; sp <= maxSplits; sp++)
        {
            bool valid = sp == 1 || Math.Ceiling(keyBlocks / (double)sp) != Math.Ceiling(keyBlocks / (double)(sp - 1));
            if (valid && eff[sp] >= 0.85 * best) return sp;
        }
        return 1;
    }

    /// <summary>
    /// How many times K/V are read from HBM. The CTAs of one head stream the same K/V tiles in the same order at
    /// about the same time, so L2 serves their re-reads as long as the tiles in flight fit; only when even one
    /// tile per resident CTA overflows L2 does every CTA fetch its own copy.
    /// </summary>
    private static double KvRereadFactor(GpuSpec gpu, AttentionShape s, int bc, int slots, int ctasPerUnit)
    {
        var inFlight = (double)slots * bc * (s.HeadDim + s.ValueDim) * s.DType.Bytes() * 2;
        return inFlight <= gpu.L2Bytes ? 1 : Math.Max(1, ctasPerUnit);
    }

    internal static CtaFootprint Footprint(GpuSpec gpu, KernelFamily k, PassConfig pass, TileConfig tile, AttentionShape s, bool forward)
    {
        long br = tile.BlockRows, bc = tile.BlockKeys, d = s.HeadDim, dv = s.ValueDim, e = s.DType.Bytes();
        var threads = tile.Warps * 32;
        long smem;
        if (forward)
        {
            var stages = k.Mma == MmaClass.MmaSync ? 1 : 2;
            smem = br * d * e + stages * bc * (d + dv) * e;
        }
        else if (pass.BarrierPhases)
        {
            // GEMMs separated by barriers reuse one staging area (CUTLASS SharedStorage unions, Triton's liveness-based
            // allocator): K and V resident (in registers when loads are not pipelined through shared memory) plus the
            // largest pair of operands one GEMM stages.
            smem = pass.GlobalOperandGemms > 0
                // each GEMM streams 32-wide K slices of both operands through a 3-stage cp.async pipeline while the
                // next GEMM's first stages are preloaded; P^T and dS^T are staged for the GEMMs that read them
                ? 2 * 3 * (br + bc) * 32 * e + 2 * br * bc * e + br * 8
                : (pass.SoftwarePipelined ? bc * (d + dv) * e : 0) + br * Math.Max(d + dv, bc + d) * e + br * 8;
        }
        else
        {
            // K, V resident; Q, dO tiles double-buffered; P/dS staging; LSE and D rows.
            smem = bc * (d + dv) * e + 2 * br * (d + dv) * e + 2 * br * bc * e + br * 8;
            if (k.Mma == MmaClass.Tcgen05 && k.TwoCtaMmaBackward) smem -= bc * (d + dv) * e / 2;
        }
        long regsPerCta;
        if (k.WarpSpecialised)
        {
            // setmaxnreg: the producer warpgroup drops to 24 registers, the consumers share the rest (multiple of 8).
            var consumerThreads = (tile.Warps - 4) * 32L;
            var budget = gpu.RegisterFileBytesPerSm / 4 - 4 * 32L * 24;
            var perConsumer = Math.Min(pass.RegsPerThread, budget / consumerThreads / 8 * 8);
            regsPerCta = consumerThreads * perConsumer + 4 * 32L * 24;
        }
        else regsPerCta = threads * (long)pass.RegsPerThread;
        long tmem = 0;
        if (k.Mma == MmaClass.Tcgen05)
            tmem = forward ? 2 * 128 * bc * 4 + br * dv * 4 : bc * (d + dv) * 4 + 128 * bc * 4;
        var limits = new List<(int, string)>
        {
            (gpu.MaxCtasPerSm, "max CTAs per SM"),
            ((int)(gpu.SmemBytesPerSm / Math.Max(1, smem)), "shared memory"),
            ((int)(gpu.RegisterFileBytesPerSm / 4 / Math.Max(1, regsPerCta)), "registers"),
            (gpu.MaxThreadsPerSm / threads, "threads"),
        };
        if (tmem > 0) limits.Add(((int)(gpu.TmemBytesPerSm / tmem), "tensor memory"));
        var (ctas, why) = limits.MinBy(l => l.Item1);
        if (smem > gpu.SmemBytesPerCta || ctas < 1)
            throw new InputException($"{k.Name} tile {br}x{bc} for head_dim {d} ({s.DType.Name()}) does not fit on {gpu.Name} " +
                                     $"(needs {smem / 1024} KiB shared memory, {regsPerCta} registers, {tmem / 1024} KiB TMEM per CTA)");
        return new CtaFootprint(smem, regsPerCta, tmem, threads, ctas, why);
    }

    /// <summary>
    /// Busy time of each GPU resource for a tiled kernel: <paramref name="iterations"/> tile iterations of
    /// <paramref name="cost"/> spread over all SMs (plus <paramref name="extraFmaCycles"/>, e.g. masking), shared
    /// memory at its per-SM bandwidth, and the given L2 and HBM times.
    /// </summary>
    internal static ImmutableArray<ResourceUse> TileResources(GpuSpec gpu, double clock, double seconds, double iterations,
        IterationCost cost, double extraFmaCycles, double smemBytes, double l2Seconds, double hbmSeconds)
    {
        var perSm = 1.0 / (gpu.SmCount * clock);
        return Resources(seconds, [
            (GpuResources.Tensor, iterations * cost.TensorCycles * perSm),
            (GpuResources.Exp, iterations * cost.ExpCycles * perSm),
            (GpuResources.Fma, (iterations * cost.AluCycles + extraFmaCycles) * perSm),
            (GpuResources.Smem, smemBytes / gpu.SmemBytesPerClkPerSm * perSm),
            (GpuResources.L2, l2Seconds),
            (GpuResources.Hbm, hbmSeconds),
        ]);
    }

    /// <summary>What bounds a kernel: HBM or L2 when their time reaches the compute time, else the compute bound.</summary>
    internal static string Bottleneck(double kernelSeconds, double l2Seconds, double hbmSeconds, string computeBound) =>
        hbmSeconds >= kernelSeconds && hbmSeconds >= l2Seconds ? GpuResources.Hbm
            : l2Seconds >= kernelSeconds ? GpuResources.L2 : computeBound;

    internal static ImmutableArray<ResourceUse> Resources(double seconds, (string, double)[] busy) =>
        busy.Select(b => new ResourceUse(b.Item1, b.Item2, seconds > 0 ? Math.Min(1, b.Item2 / seconds) : 0)).ToImmutableArray();

    internal static ImmutableSortedDictionary<string, double> Traffic(double hbm, double l2, double smem, double tmem)
    {
        var b = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        b["hbm"] = hbm;
        b["l2"] = l2;
        b["smem"] = smem;
        if (tmem > 0) b["tmem"] = tmem;
        return b.ToImmutable();
    }
}
