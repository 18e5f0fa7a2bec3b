using System.Collections.Immutable;
using AccelSim.Einsum.Ir;

namespace AccelSim.Gpu.Generic;

/// <summary>How one group of Einsums runs as one tiled kernel, at the best tile the on-chip budget allows.</summary>
public sealed record GroupCost(
    ImmutableArray<int> Members,
    ImmutableArray<string> ParallelRanks,
    ImmutableArray<string> CarriedRanks,
    string? StreamedRank,
    long? StreamChunk,
    ImmutableSortedDictionary<string, long> Tile,
    double Ctas,
    long FootprintBytes,
    bool Fits,
    double Seconds,
    double ComputeSeconds,
    string Bottleneck,
    ImmutableArray<ResourceUse> Resources,
    double HbmBytes,
    double L2Bytes,
    double SmemBytes,
    ImmutableArray<string> OnChip,
    ImmutableArray<string> Reads,
    ImmutableArray<string> Writes,
    long TensorMacs,
    double ExecutedTensorMacs,
    long MufuOps,
    long Fp32Ops);

/// <summary>
/// Prices a set of Einsums fused into one kernel (see README.md in this folder): the grid tiles the ranks every member
/// keeps as a plain output index (the parallel ranks); a rank a member writes one step ahead (a running recurrence) is
/// the kernel's sequential loop; tensors produced and consumed only inside the group stay on chip; the rest are read
/// from and written to HBM through L2.
/// </summary>
internal sealed class GroupCoster
{
    /// <summary>Largest tile tried along one parallel rank (a CTA's rows or columns).</summary>
    internal const long MaxTile = 256;

    /// <summary>Elements staged across the reduced ranks of an operand: one 64-wide K-chunk, as in a CUTLASS-style main loop.</summary>
    internal const long StagingChunk = 64;

    /// <summary>Tensor-core instruction shape: mma.m16n8k16 (PTX ISA, warp-level MMA): 16 rows by 8 columns.</summary>
    private const int MmaRows = 16, MmaColumns = 8;

    /// <summary>The MMA's reduction depth (k16 for 16-bit inputs): a streamed loop advances at least this many elements per step.</summary>
    private const long MmaDepth = 16;

    private readonly GpuSpec gpu;
    private readonly Cascade cascade;
    private readonly DataType dtype;
    private readonly ImmutableArray<EinsumWork> work;
    private readonly Dictionary<string, int> producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> consumers = new(StringComparer.Ordinal);

    public GroupCoster(GpuSpec gpu, Cascade cascade, DataType dtype, ImmutableArray<EinsumWork> work)
    {
        this.gpu = gpu;
        this.cascade = cascade;
        this.dtype = dtype;
        this.work = work;
        for (var i = 0; i < cascade.Einsums.Length; i++)
        {
            var e = cascade.Einsums[i];
            producer.TryAdd(e.Output.Tensor, i);
            foreach (var t in e.Inputs.Select(a => a.Tensor).Distinct())
                (consumers.TryGetValue(t, out var list) ? list : consumers[t] = []).Add(i);
        }
    }

    /// <summary>On-chip bytes one CTA may hold: the opt-in shared memory of a CTA plus the SM's register file.</summary>
    public long Budget => gpu.SmemBytesPerCta + gpu.RegisterFileBytesPerSm;

    /// <summary>The Einsums whose outputs an Einsum reads (itself excluded).</summary>
    public IEnumerable<int> ProducersOf(int einsum) =>
        cascade.Einsums[einsum].Inputs.Select(a => producer.TryGetValue(a.Tensor, out var p) ? p : -1)
            .Where(p => p >= 0 && p != einsum).Distinct();

    private string RankOf(ExtendedEinsum e, int variable) => e.Iteration[variable].Rank;

    private static bool UsesRank(ExtendedEinsum e, AffineIndex index, string rank) =>
        index.Terms.Any(t => t.Coefficient != 0 && e.Iteration[t.Variable].Rank == rank);

    private sealed record Held(string Tensor, double FixedElements, ImmutableArray<string> TiledRanks, double WordBytes);

    private sealed record ExternalRead(string Tensor, double Bytes, ImmutableArray<string> UnusedParallel, double Density);

    public GroupCost Cost(IReadOnlyList<int> members)
    {
        var set = members.ToHashSet();
        var es = members.Select(i => cascade.Einsums[i]).ToList();
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in es)
            foreach (var v in e.Iteration)
                sizes[v.Rank] = v.Size;

        // Carried ranks: a member writes its output one step ahead along them (X[m1+1] from X[m1]).
        var carried = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in es)
            foreach (var idx in e.Output.Indices)
                if (idx.Constant != 0 && idx.Terms.Length == 1)
                    carried.Add(RankOf(e, idx.Terms[0].Variable));

        // Parallel ranks: plain output indices of every member, read back unshifted inside the group.
        HashSet<string>? parallel = null;
        foreach (var e in es)
        {
            var mine = e.Output.Indices.Where(i => i.Constant == 0 && i.SoleVariable is not null)
                .Select(i => RankOf(e, i.SoleVariable!.Value)).ToHashSet(StringComparer.Ordinal);
            if (parallel is null) parallel = mine;
            else parallel.IntersectWith(mine);
        }
        parallel!.ExceptWith(carried);
        foreach (var e in es)
            foreach (var access in e.Inputs)
            {
                if (!producer.TryGetValue(access.Tensor, out var p) || !set.Contains(p)) continue;
                var prod = cascade.Einsums[p];
                for (var d = 0; d < access.Indices.Length && d < prod.Output.Indices.Length; d++)
                {
                    if (prod.Output.Indices[d].SoleVariable is not { } pv) continue;
                    var rank = RankOf(prod, pv);
                    if (!parallel.Contains(rank)) continue;
                    var read = access.Indices[d];
                    if (!(read.Constant == 0 && read.SoleVariable is { } cv && RankOf(e, cv) == rank)) parallel.Remove(rank);
                }
            }
        var parallelRanks = parallel.Order(StringComparer.Ordinal).ToImmutableArray();

        // The kernel's sequential loop: the carried ranks, plus optionally one rank a member reduces, streamed in
        // chunks with its reduction kept on chip as a running value. The cheapest choice is kept.
        var loops = es.SelectMany(e => e.ReduceVariables.Select(v => RankOf(e, v)))
            .Where(r => !parallel.Contains(r) && !carried.Contains(r)).Distinct().Order(StringComparer.Ordinal);
        GroupCost? best = null;
        foreach (var loop in loops.Prepend(null))
        {
            var cost = CostWithLoop(members, set, sizes, carried, parallel, parallelRanks, loop);
            if (best is null || (cost.Fits && !best.Fits) || (cost.Fits == best.Fits && cost.Seconds < best.Seconds)) best = cost;
        }
        return best!;
    }

    private GroupCost CostWithLoop(IReadOnlyList<int> members, HashSet<int> set, Dictionary<string, long> sizes,
        HashSet<string> carried, HashSet<string> parallel, ImmutableArray<string> parallelRanks, string? loop)
    {
        var sequential = new HashSet<string>(carried, StringComparer.Ordinal);
        if (loop is not null) sequential.Add(loop);
        // Ranks whose tile or chunk the search chooses: the parallel ranks, then the streamed loop rank.
        var tiledRanks = loop is null ? parallelRanks : parallelRanks.Add(loop);

        // Pass level along each sequential rank: the number of complete traversals a member must wait for.
        var level = new Dictionary<string, Dictionary<int, int>>(StringComparer.Ordinal);
        foreach (var rank in sequential)
        {
            var lv = new Dictionary<int, int>();
            foreach (var i in members)
            {
                var e = cascade.Einsums[i];
                var iterates = e.Iteration.Any(v => v.Rank == rank);
                var need = 0;
                foreach (var access in e.Inputs)
                {
                    // A tensor written later in the cascade is read at the previous step of a recurrence: same pass.
                    if (!producer.TryGetValue(access.Tensor, out var p) || p == i || !set.Contains(p) || !lv.ContainsKey(p)) continue;
                    var prodIterates = cascade.Einsums[p].Iteration.Any(v => v.Rank == rank);
                    var same = iterates && access.Indices.Any(x => UsesRank(e, x, rank));
                    need = Math.Max(need, prodIterates && !same ? lv[p] + 1 : lv[p]);
                }
                lv[i] = need;
            }
            level[rank] = lv;
        }

        // Tensors: produced here and read only here stay on chip; read or kept outside: written to HBM.
        var held = new List<Held>();
        var staged = new List<(double Fixed, ImmutableArray<string> Tiled, double WordBytes)>();
        var onChip = new List<string>();
        var writes = new List<string>();
        double writeBytes = 0;
        foreach (var i in members)
        {
            var e = cascade.Einsums[i];
            var t = cascade.Tensor(e.Output.Tensor);
            var readers = consumers.TryGetValue(t.Name, out var cs) ? cs : [];
            var outside = t.Role == TensorRole.Output || readers.Any(c => !set.Contains(c));
            var inside = readers.Any(set.Contains);
            var word = t.WordBits / 8.0;
            if (outside)
            {
                writes.Add(t.Name);
                writeBytes += t.Bytes;
            }
            else if (inside) onChip.Add(t.Name);
            if (inside || (outside && e.Reduce is not null))
                held.Add(HeldSlice(i, e, t, readers.Where(set.Contains).ToList(), parallel, carried, loop, level));
            else if (outside)
                staged.Add(Staging(e, e.Output, parallel, carried, loop));
        }

        var externals = new Dictionary<string, ExternalRead>(StringComparer.Ordinal);
        var stagedInputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in members)
        {
            var e = cascade.Einsums[i];
            foreach (var access in e.Inputs)
            {
                if (producer.TryGetValue(access.Tensor, out var p) && set.Contains(p)) continue;
                var t = cascade.Tensor(access.Tensor);
                double touched = t.WordBits / 8.0;
                for (var d = 0; d < access.Indices.Length; d++)
                    if (!access.Indices[d].Terms.IsEmpty) touched *= t.Extents[d];
                var unused = parallelRanks.Where(r => !access.Indices.Any(x => UsesRank(e, x, r))).ToImmutableArray();
                var read = new ExternalRead(t.Name, touched, unused, work[i].Density);
                if (!externals.TryGetValue(t.Name, out var known) || Rereads(read) > Rereads(known)) externals[t.Name] = read;
                if (stagedInputs.Add(t.Name)) staged.Add(Staging(e, access, parallel, carried, loop));
            }
        }
        double Rereads(ExternalRead r) => r.UnusedParallel.Aggregate(1.0, (a, rank) => a * sizes[rank]) * r.Density;


        var tensorMacs = members.Sum(i => work[i].TensorMacs);
        var mufuOps = members.Sum(i => work[i].MufuOps);
        var fp32Ops = members.Sum(i => work[i].Fp32Ops);

        // Everything the tile changes, as products over indices of the parallel ranks.
        int[] Indices(IEnumerable<string> ranks) => [.. ranks.Select(r => tiledRanks.IndexOf(r))];
        var onChipTerms = held.Select(h => new Term(h.FixedElements * h.WordBytes, Indices(h.TiledRanks)))
            .Concat(staged.Select(x => new Term(x.Fixed * x.WordBytes, Indices(x.Tiled)))).ToArray();
        var readTerms = externals.Values.Select(x => new Read(x.Bytes, Indices(x.UnusedParallel), x.Density)).ToArray();
        var mmaTerms = members.Where(i => work[i].Matmul).Select(i => MmaTerm(cascade.Einsums[i], work[i], tiledRanks, carried)).ToArray();
        var pricing = new Pricing(parallelRanks.Select(r => (double)sizes[r]).ToArray(), onChipTerms, readTerms, mmaTerms,
            writeBytes, tensorMacs, mufuOps, fp32Ops);

        // Tile search over the parallel ranks: the fastest tile whose on-chip footprint fits.
        var choices = tiledRanks.Select(r => r == loop ? TileChoices(sizes[r], MmaDepth) : TileChoices(sizes[r])).ToArray();
        var tile = new double[tiledRanks.Length];
        Priced? best = null, smallest = null;
        void Search(int k)
        {
            if (k == tiledRanks.Length)
            {
                var footprint = pricing.Footprint(tile);
                var fits = footprint <= Budget;
                if (!fits && smallest is not null && footprint >= smallest.Footprint) return;
                var priced = Price(pricing, tile, footprint);
                if (smallest is null || footprint < smallest.Footprint) smallest = priced;
                if (fits && (best is null || priced.Seconds < best.Seconds || (priced.Seconds == best.Seconds && priced.Ctas < best.Ctas)))
                    best = priced;
                return;
            }
            foreach (var c in choices[k])
            {
                tile[k] = c;
                // The footprint grows with every tile: once it overflows with the later ranks at their smallest
                // tile, larger choices here overflow too.
                for (var j = k + 1; j < tile.Length; j++) tile[j] = choices[j][0];
                if (smallest is not null && pricing.Footprint(tile) > Budget) break;
                Search(k + 1);
            }
        }
        Search(0);
        var chosen = best ?? smallest!;
        var tileByRank = parallelRanks.Select((r, k) => KeyValuePair.Create(r, (long)chosen.Tile[k]))
            .ToImmutableSortedDictionary(StringComparer.Ordinal);
        return new GroupCost([.. members], parallelRanks, [.. carried.Order(StringComparer.Ordinal)], loop,
            loop is null ? null : (long)chosen.Tile[^1], tileByRank, chosen.Ctas, (long)Math.Ceiling(chosen.Footprint), best is not null, chosen.Seconds, chosen.Compute,
            chosen.Bottleneck, chosen.Resources, chosen.Hbm, chosen.L2, chosen.Smem, [.. onChip],
            [.. externals.Keys.Order(StringComparer.Ordinal)], [.. writes], tensorMacs, chosen.ExecutedMacs, mufuOps, fp32Ops);
    }

    /// <summary>Powers of two from <paramref name="least"/> up to <see cref="MaxTile"/> (and the rank's own size when it is smaller).</summary>
    internal static IReadOnlyList<long> TileChoices(long size, long least = 1)
    {
        var list = new List<long>();
        for (long t = Math.Min(least, size); t <= Math.Min(size, MaxTile); t *= 2) list.Add(t);
        if (size <= MaxTile && !list.Contains(size)) list.Add(size);
        return list;
    }

    /// <summary>
    /// The part of a tensor one CTA holds: its tile along parallel ranks, one step (two for the running value itself)
    /// along a carried rank every reader in the group uses in the same pass, and the whole extent along other ranks.
    /// </summary>
    private Held HeldSlice(int index, ExtendedEinsum e, TensorDef t, List<int> readers, HashSet<string> parallel,
        HashSet<string> carried, string? loop, Dictionary<string, Dictionary<int, int>> level)
    {
        double fixedElements = 1;
        var tiled = ImmutableArray.CreateBuilder<string>();
        var recurrence = readers.Contains(index);
        for (var d = 0; d < t.Extents.Length; d++)
        {
            var idx = e.Output.Indices[d];
            if (idx.Terms.IsEmpty) continue;
            if (idx.Terms.Length == 1 && idx.Terms[0].Coefficient == 1)
            {
                var rank = RankOf(e, idx.Terms[0].Variable);
                if (parallel.Contains(rank))
                {
                    tiled.Add(rank);
                    continue;
                }
                if (rank == loop && Streamable(index, t.Name, d, rank, readers, level[rank]))
                {
                    tiled.Add(rank);
                    continue;
                }
                if (carried.Contains(rank) && Streamable(index, t.Name, d, rank, readers, level[rank]))
                {
                    fixedElements *= recurrence || idx.Constant != 0 ? 2 : 1;
                    continue;
                }
            }
            fixedElements *= t.Extents[d];
        }
        return new Held(t.Name, fixedElements, tiled.ToImmutable(), t.WordBits / 8.0);
    }

    private bool Streamable(int producerIndex, string tensor, int dim, string rank, List<int> readers, Dictionary<int, int> level)
    {
        foreach (var c in readers)
        {
            if (c == producerIndex) continue;
            var e = cascade.Einsums[c];
            foreach (var access in e.Inputs.Where(a => a.Tensor == tensor))
            {
                var idx = access.Indices[dim];
                if (idx.Terms.IsEmpty) continue; // a fixed element (the final running value)
                if (!(idx.Terms.Length == 1 && RankOf(e, idx.Terms[0].Variable) == rank && level[c] == level[producerIndex])) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The part of an operand (or of an output streamed out) a CTA stages in shared memory, double-buffered: its tile
    /// along parallel ranks, the whole extent along the other output ranks of the Einsum (the CTA computes them whole),
    /// one step along carried ranks, and one <see cref="StagingChunk"/> across the ranks it reduces.
    /// </summary>
    private (double Fixed, ImmutableArray<string> Tiled, double WordBytes) Staging(ExtendedEinsum e, TensorAccess access,
        HashSet<string> parallel, HashSet<string> carried, string? loop)
    {
        var tiled = new HashSet<string>(StringComparer.Ordinal);
        var outputs = e.OutputVariables.ToHashSet();
        double whole = 1, reduced = 1;
        foreach (var v in EinsumWork.Variables(access))
        {
            var rank = RankOf(e, v);
            if (parallel.Contains(rank) || rank == loop) tiled.Add(rank);
            else if (carried.Contains(rank)) continue;
            else if (outputs.Contains(v)) whole *= e.Iteration[v].Size;
            else reduced *= e.Iteration[v].Size;
        }
        var word = cascade.Tensor(access.Tensor).WordBits / 8.0;
        return (2 * whole * Math.Min(reduced, StagingChunk), [.. tiled.Order(StringComparer.Ordinal)], word);
    }

    /// <summary>A quantity <see cref="Fixed"/> x the product of the tile along <see cref="Ranks"/>.</summary>
    private sealed record Term(double Fixed, int[] Ranks);

    /// <summary>An operand read from outside the group: once from HBM, and again from L2 per tile of the parallel ranks it does not index.</summary>
    private sealed record Read(double Bytes, int[] UnusedRanks, double Density);

    /// <summary>A matmul's operand widths in the CTA (the output variables only one operand has), as tile products.</summary>
    private sealed record Mma(double Macs, Term RowsA, Term RowsB);

    private sealed record Pricing(double[] Sizes, Term[] OnChip, Read[] Reads, Mma[] Mmas, double WriteBytes,
        long TensorMacs, long MufuOps, long Fp32Ops)
    {
        public static double Product(Term t, double[] tile)
        {
            var v = t.Fixed;
            foreach (var r in t.Ranks) v *= tile[r];
            return v;
        }

        public double Footprint(double[] tile)
        {
            double f = 0;
            foreach (var t in OnChip) f += Product(t, tile);
            return f;
        }

        public double Blocks(int rank, double[] tile) => Math.Ceiling(Sizes[rank] / tile[rank]);
    }

    private Mma MmaTerm(ExtendedEinsum e, EinsumWork w, ImmutableArray<string> tiledRanks, HashSet<string> carried)
    {
        var body = (BinaryBound)e.Body;
        var a = EinsumWork.Variables(e.Inputs[((ReadExpr)body.Left).Input]);
        var b = EinsumWork.Variables(e.Inputs[((ReadExpr)body.Right).Input]);
        var outputs = e.OutputVariables.ToHashSet();
        Term Width(IEnumerable<int> vars)
        {
            double fixedPart = 1;
            var ranks = new List<int>();
            foreach (var v in vars)
            {
                var rank = e.Iteration[v].Rank;
                var k = tiledRanks.IndexOf(rank);
                if (k >= 0) ranks.Add(k);
                else if (!carried.Contains(rank)) fixedPart *= e.Iteration[v].Size;
            }
            return new Term(fixedPart, [.. ranks]);
        }
        return new Mma(w.TensorMacs, Width(outputs.Where(v => a.Contains(v) && !b.Contains(v))),
            Width(outputs.Where(v => b.Contains(v) && !a.Contains(v))));
    }

    private sealed record Priced(double[] Tile, double Ctas, double Footprint, double Seconds,
        double Compute, string Bottleneck, ImmutableArray<ResourceUse> Resources, double Hbm, double L2, double Smem, double ExecutedMacs);

    private Priced Price(Pricing p, double[] tile, double footprint)
    {
        double ctas = 1;
        for (var r = 0; r < p.Sizes.Length; r++) ctas *= p.Blocks(r, tile);

        double hbmReads = 0, l2Reads = 0;
        foreach (var x in p.Reads)
        {
            hbmReads += x.Bytes;
            // Each tile of a parallel rank the read does not index reads the operand again (from L2); tiles a mask
            // leaves empty are skipped.
            double rereads = x.Density;
            foreach (var r in x.UnusedRanks) rereads *= p.Blocks(r, tile);
            l2Reads += x.Bytes * Math.Max(1, rereads);
        }

        // Tensor-core MACs, padded to the MMA shape where the CTA's tile of an operand is narrower than it.
        double executedMacs = p.TensorMacs;
        foreach (var m in p.Mmas)
        {
            double rowsA = Pricing.Product(m.RowsA, tile), rowsB = Pricing.Product(m.RowsB, tile);
            double small = Math.Min(rowsA, rowsB), large = Math.Max(rowsA, rowsB);
            var pad = Math.Ceiling(small / MmaColumns) * MmaColumns / small * (Math.Ceiling(large / MmaRows) * MmaRows / large);
            executedMacs += m.Macs * (pad - 1);
        }

        var clock = gpu.ClockHz;
        var sms = gpu.SmCount;
        var writeBytes = p.WriteBytes;
        var smem = 2 * l2Reads + writeBytes;
        var tensorBusy = 2 * executedMacs / gpu.PeakTensorFlops(dtype);
        var mufuBusy = p.MufuOps / (gpu.MufuExp2PerClkPerSm * sms * clock);
        var fp32Busy = p.Fp32Ops / ((double)gpu.Fp32LanesPerSm * sms * clock);
        var smemBusy = smem / (gpu.SmemBytesPerClkPerSm * sms * clock);
        var l2Busy = (l2Reads + writeBytes) / (gpu.L2BytesPerClk * clock);
        var hbmBusy = (hbmReads + writeBytes) / gpu.HbmBytesPerSecond;
        // The busiest SM runs ceil(ctas / SMs) CTAs while the average runs ctas / SMs.
        var imbalance = Math.Ceiling(ctas / sms) * sms / ctas;
        // Exponentials sit on the tensor-core critical path (the evidence kernels.yaml cites for the FA families);
        // FP32 and shared-memory work overlap them.
        var compute = Math.Max(tensorBusy + mufuBusy, Math.Max(fp32Busy, smemBusy)) * imbalance;
        var hbmSeconds = hbmBusy / gpu.StreamingHbmEfficiency;
        var kernel = Math.Max(compute, Math.Max(l2Busy, hbmSeconds));
        var seconds = kernel + gpu.KernelLaunchSeconds + gpu.MemoryLatencySeconds;
        var computeBound = fp32Busy >= tensorBusy + mufuBusy && fp32Busy >= smemBusy ? GpuResources.Fma
            : smemBusy >= tensorBusy + mufuBusy ? GpuResources.Smem
            : tensorBusy >= mufuBusy ? GpuResources.Tensor : GpuResources.Exp;
        var bottleneck = FlashModel.Bottleneck(compute, l2Busy, hbmSeconds, computeBound);
        var resources = FlashModel.Resources(seconds, [
            (GpuResources.Tensor, tensorBusy), (GpuResources.Exp, mufuBusy), (GpuResources.Fma, fp32Busy),
            (GpuResources.Smem, smemBusy), (GpuResources.L2, l2Busy), (GpuResources.Hbm, hbmBusy),
        ]);
        return new Priced((double[])tile.Clone(), ctas, footprint, seconds, compute, bottleneck,
            resources, hbmReads + writeBytes, l2Reads + writeBytes, smem, executedMacs);
    }
}
