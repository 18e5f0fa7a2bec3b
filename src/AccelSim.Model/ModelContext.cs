using AccelSim.Core;
using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Model;

/// <summary>
/// The analytical model, precompiled for one (architecture path, problem): flat arrays built once, then
/// <see cref="Evaluate"/> prices a <see cref="CompactMapping"/> into a caller-owned <see cref="EvalResult"/> with no
/// allocation. Immutable and thread-safe; use one <see cref="EvalResult"/> per thread.
///
/// Semantics (Timeloop legacy v0.2, see docs in arch/README.md and the golden tests):
/// * A level instance holds, per kept tensor, the bounding box of the data its sub-nest touches (its tile).
/// * Fills: when the loops above move the tile, the instance fetches the new points. Residual data is reused
///   only while the tile slides along one rank in one direction (Timeloop's "reset on stride change" policy);
///   any other move refetches the whole tile. The first tile is fetched whole. The backing store is never filled.
/// * A parent serves its children's fills (or, for the innermost keeping level, one operand per operation);
///   children whose data offsets coincide share one access (multicast, or spatial reduction for the output),
///   counted per spatial fan-out level.
/// * Output (read-write) tensor: updates = accesses from below; reads = updates - distinct points (first update
///   needs no read); fills include the first (cold) fill, as legacy Timeloop counts them.
/// * Masked problems (<see cref="ProblemShape.Mask"/>; dense ones never take this path): level tiles and compute
///   steps that hold no required point are skipped; each level's fills, the parent reads that serve them and an
///   output's updates and reads scale by the non-empty share of that level's tiles, compute by the non-empty steps
///   (see arch/README.md, Masks).
/// * Cycles = max(compute cycles, each level's traffic / bandwidth). Energy = block accesses x per-action energy
///   (<see cref="BlockPricing"/>: per action, or legacy Timeloop's one ceil over a tensor's accesses); unknown
///   (<see cref="EvalResult.EnergyKnown"/> false) when a component on the path has no energy table.
/// </summary>
public sealed class ModelContext
{
    private const byte KindZero = 0, KindFull = 1, KindSlide = 2;

    public ArchPath Path { get; }
    public ProblemShape Problem { get; }
    public int LevelCount { get; }
    public int DimCount { get; }
    public int TensorCount { get; }

    private readonly int L, D, T, R;
    private readonly long[] _dimSize;
    private readonly int[] _rankCount;
    private readonly long[] _coef;        // [(t*R + r)*D + d]
    private readonly int[] _rankMask;     // [t*D + d]: ranks of t that d appears in
    private readonly int[] _relevant;     // [t]: dims that appear in t
    private readonly bool[] _isOutput;
    private readonly long[] _capacity;
    private readonly int[] _block;
    private readonly int[] _fanX, _fanY;
    private readonly double[] _readBw, _writeBw, _sharedBw;
    private readonly double[] _eRead, _eWrite, _eUpdate, _leak;
    private readonly int[] _instances;
    private readonly int[] _mayHold;
    private readonly int[] _wpe;          // [l*T + t] words per element
    private readonly double[] _bytesPerElement;
    private readonly bool[] _isDram;
    private readonly bool[] _sharedVector;
    private readonly int _computeInstances;
    private readonly double _computeLeak;
    private readonly IterationMask? _mask;

    public double CyclesPerPoint { get; }
    public double EnergyPerPoint { get; }

    public ModelContext(ArchPath path, ProblemShape problem)
    {
        Path = path;
        Problem = problem;
        L = LevelCount = path.LevelCount;
        D = DimCount = problem.Dims.Length;
        T = TensorCount = problem.Tensors.Length;
        if (T > 30 || D > 30) throw new InputException(null, "problem", "at most 30 tensors and 30 dimensions are supported");
        R = Math.Max(1, problem.Tensors.Select(t => t.Ranks.Length).DefaultIfEmpty(1).Max());
        _dimSize = problem.Dims.Select(d => d.Size).ToArray();
        _rankCount = problem.Tensors.Select(t => t.Ranks.Length).ToArray();
        _coef = new long[T * R * D];
        _rankMask = new int[T * D];
        _relevant = new int[T];
        _isOutput = problem.Tensors.Select(t => t.IsOutput).ToArray();
        for (int t = 0; t < T; t++)
            for (int r = 0; r < _rankCount[t]; r++)
                foreach (var term in problem.Tensors[t].Ranks[r].Terms)
                {
                    _coef[(t * R + r) * D + term.Dim] += term.Coefficient;
                    if (_coef[(t * R + r) * D + term.Dim] != 0)
                    {
                        _rankMask[t * D + term.Dim] |= 1 << r;
                        _relevant[t] |= 1 << term.Dim;
                    }
                }
        _capacity = new long[L];
        _block = new int[L];
        _fanX = new int[L];
        _fanY = new int[L];
        _readBw = new double[L];
        _writeBw = new double[L];
        _sharedBw = new double[L];
        _eRead = new double[L];
        _eWrite = new double[L];
        _eUpdate = new double[L];
        _leak = new double[L];
        _instances = new int[L];
        _mayHold = new int[L];
        _wpe = new int[L * T];
        _isDram = new bool[L];
        _sharedVector = new bool[L];
        _bytesPerElement = new double[T];
        for (int l = 0; l < L; l++)
        {
            var lv = path.Levels[l];
            _capacity[l] = lv.EffectiveCapacityWords ?? long.MaxValue;
            _block[l] = Math.Max(1, lv.BlockSize);
            _fanX[l] = path.FanoutX(l);
            _fanY[l] = path.FanoutY(l);
            _readBw[l] = lv.ReadBandwidth ?? double.PositiveInfinity;
            _writeBw[l] = lv.WriteBandwidth ?? double.PositiveInfinity;
            _sharedBw[l] = lv.SharedBandwidth ?? double.PositiveInfinity;
            _eRead[l] = lv.ReadEnergy.Value;
            _eWrite[l] = lv.WriteEnergy.Value;
            _eUpdate[l] = lv.UpdateEnergy.Value;
            _leak[l] = lv.LeakPerCycle.Value;
            _instances[l] = lv.Instances;
            _mayHold[l] = CompactMapping.AllowedMask(lv, problem);
            _isDram[l] = lv.IsDram;
            _sharedVector[l] = lv.Pricing == BlockPricing.SharedVector;
            for (int t = 0; t < T; t++)
            {
                var bits = problem.Tensors[t].WordBits ?? lv.WordBits;
                _wpe[l * T + t] = Math.Max(1, (bits + lv.WordBits - 1) / lv.WordBits);
            }
        }
        for (int t = 0; t < T; t++)
            _bytesPerElement[t] = (problem.Tensors[t].WordBits ?? path.Levels[0].WordBits) / 8.0;
        var cu = path.Compute;
        _computeInstances = cu.Instances;
        _computeLeak = cu.LeakPerCycle.Value;
        double cycles = 0, energy = 0;
        foreach (var op in problem.OpsPerPoint)
        {
            if (op.Count == 0) continue;
            var spec = cu.Find(op.Kind) ?? throw new InputException(cu.Location, $"compute.{cu.Name}.operations",
                $"compute unit '{cu.Name}' cannot perform '{op.Kind}' (it performs: {string.Join(", ", cu.Operations.Select(o => o.Kind))})");
            cycles += op.Count * spec.Cycles;
            energy += op.Count * (cu.EnergyOf(op.Kind) ?? 0);
        }
        CyclesPerPoint = cycles;
        EnergyPerPoint = energy;
        _mask = problem.Mask;
        ComponentsWithoutEnergy = path.ComponentsWithoutEnergy(problem.OpsPerPoint.Where(o => o.Count > 0).Select(o => o.Kind));
        EnergyKnown = ComponentsWithoutEnergy.Count == 0;
    }

    /// <summary>False when a level or the compute unit on the path has no energy: results then carry no energy.</summary>
    public bool EnergyKnown { get; }

    /// <summary>The path's components that have no energy (empty when <see cref="EnergyKnown"/>).</summary>
    public IReadOnlyList<string> ComponentsWithoutEnergy { get; }

    public EvalResult CreateResult() => new(L, D, T, R);

    public CompactMapping CreateMapping() => new(L, D);

    /// <summary>Cheap validity check: factor products, fan-outs, keep masks and tile capacity only.</summary>
    public bool CheckCapacity(CompactMapping m, EvalResult r) => Prepare(m, r);

    /// <summary>Evaluates a mapping. Returns false (with <see cref="EvalResult.Status"/>) when it is invalid.</summary>
    public bool Evaluate(CompactMapping m, EvalResult r)
    {
        if (!Prepare(m, r)) return false;
        BuildLoops(m, r);
        long pt = r.TemporalIterations;
        long steps = pt;
        if (_mask is not null)
        {
            CountMaskedTiles(m, r);
            steps = pt / r.Tiles[L] * r.NonEmptyTiles[L];
        }
        r.ComputedIterations = steps;

        // Distinct data offsets among each level's spatial children, per tensor.
        for (int l = 0; l < L; l++)
            for (int t = 0; t < T; t++)
                r.Distinct[l * T + t] = DistinctOffsets(m, r, l, t);

        for (int i = 0; i < L * T; i++)
            r.Reads[i] = r.Fills[i] = r.Updates[i] = r.Partition[i] = r.DistinctChildren[i] = r.ChildInstances[i] = 0;
        for (int t = 0; t < T; t++)
        {
            int bit = 1 << t;
            for (int l = 0; l < L; l++)
            {
                int i = l * T + t;
                if ((m.KeepMask[l] & bit) == 0) continue;
                int child = l + 1;
                while (child < L && (m.KeepMask[child] & bit) == 0) child++;
                long mult = 1;
                for (int s = l; s < child; s++) mult *= r.Distinct[s * T + t];
                long childAccesses = child < L ? Fills(r, child, t) : pt;
                if (child < L) r.Fills[child * T + t] = Live(r, childAccesses, child);
                r.DistinctChildren[i] = mult;
                r.ChildInstances[i] = r.UtilizedInstances[child] / r.UtilizedInstances[l];
                long partition = Partition(m, r, l, t);
                if (_isOutput[t])
                {
                    // Masked: updates and reads scale alike, so the first update of a point still needs no read.
                    r.Updates[i] = Live(r, childAccesses * mult, child);
                    r.Reads[i] = Live(r, childAccesses * mult - partition, child);
                    r.Partition[i] = r.Updates[i] - r.Reads[i];
                }
                else
                {
                    r.Reads[i] = Live(r, childAccesses * mult, child);
                    r.Partition[i] = Live(r, partition, child);
                }
            }
        }

        // Cycles.
        double computeCycles = steps * CyclesPerPoint;
        double cycles = computeCycles;
        for (int l = 0; l < L; l++)
        {
            double rd = 0, wr = 0;
            for (int t = 0; t < T; t++)
            {
                int i = l * T + t;
                rd += (double)r.Reads[i] * _wpe[i];
                wr += (double)(r.Fills[i] + r.Updates[i]) * _wpe[i];
            }
            double c = Math.Max(rd / _readBw[l], Math.Max(wr / _writeBw[l], (rd + wr) / _sharedBw[l]));
            r.LevelCycles[l] = c;
            if (c > cycles) cycles = c;
        }
        r.ComputeCycles = computeCycles;
        r.Cycles = cycles;
        long busy = r.UtilizedInstances[L];
        r.Operations = (double)steps * busy;
        r.SpatialUtilization = (double)busy / _computeInstances;
        r.Utilization = cycles > 0 ? r.Operations * CyclesPerPoint / (_computeInstances * cycles) : 0;

        // Energy.
        double energy = 0, offchip = 0;
        for (int l = 0; l < L; l++)
        {
            double inst = r.UtilizedInstances[l];
            for (int t = 0; t < T; t++)
            {
                int i = l * T + t;
                long w = _wpe[i], b = _block[l];
                if (_sharedVector[l])
                {
                    // One ceil over all of the tensor's accesses, shared out in proportion to each action's count
                    // (legacy Timeloop's "Energy (per-scalar-access)" is the same ratio).
                    long all = r.Reads[i] + r.Fills[i] + r.Updates[i];
                    double perAccess = all > 0 ? inst * (double)CeilDiv(all * w, b) / all : 0;
                    r.ReadEnergy[i] = perAccess * r.Reads[i] * _eRead[l];
                    r.FillEnergy[i] = perAccess * r.Fills[i] * _eWrite[l];
                    r.UpdateEnergy[i] = perAccess * r.Updates[i] * _eUpdate[l];
                }
                else
                {
                    r.ReadEnergy[i] = inst * CeilDiv(r.Reads[i] * w, b) * _eRead[l];
                    r.FillEnergy[i] = inst * CeilDiv(r.Fills[i] * w, b) * _eWrite[l];
                    r.UpdateEnergy[i] = inst * CeilDiv(r.Updates[i] * w, b) * _eUpdate[l];
                }
                energy += r.ReadEnergy[i] + r.FillEnergy[i] + r.UpdateEnergy[i];
                if (_isDram[l]) offchip += inst * (double)(r.Reads[i] + r.Fills[i] + r.Updates[i]) * _bytesPerElement[t];
            }
            r.LevelLeakEnergy[l] = _leak[l] * _instances[l] * cycles;
            energy += r.LevelLeakEnergy[l];
        }
        r.ComputeEnergy = r.Operations * EnergyPerPoint;
        r.LeakEnergy = _computeLeak * _computeInstances * cycles;
        r.EnergyPJ = energy + r.ComputeEnergy + r.LeakEnergy;
        r.EnergyKnown = EnergyKnown;
        r.OffChipBytes = offchip;
        return true;
    }

    private static long CeilDiv(long a, long b) => a <= 0 ? 0 : (a + b - 1) / b;

    /// <summary>
    /// A dense count of accesses made by level <paramref name="level"/>'s tiles (the compute units' steps when it is
    /// L), scaled to the tiles the mask leaves non-empty. Unchanged for a dense problem.
    /// </summary>
    private long Live(EvalResult r, long dense, int level)
    {
        if (_mask is null) return dense;
        long tiles = r.Tiles[level], live = r.NonEmptyTiles[level];
        if (live == tiles) return dense;
        return (long)(((Int128)dense * live + tiles / 2) / tiles);
    }

    /// <summary>
    /// Tiles of each level, and the compute units' steps, that hold a point of the mask, over the dimensions it
    /// reads. A level-l tile is the box its sub-nest covers (extents <c>Ext[l]</c>), placed by every loop above it; a
    /// compute step is the points all busy units compute in one temporal iteration (the spatial digits vary inside it,
    /// the temporal ones place it).
    /// </summary>
    private void CountMaskedTiles(CompactMapping m, EvalResult r)
    {
        var used = _mask!.UsedDims;
        for (int l = 0; l < L; l++)
        {
            var shape = TileShape.Create();
            foreach (var d in used)
            {
                long e = r.Ext[l * D + d];
                shape.Add(_dimSize[d] / e, inside: false);
                shape.Add(e, inside: true);
                shape.EndDimension();
            }
            r.Tiles[l] = shape.OutsideTiles;
            r.NonEmptyTiles[l] = _mask.NonEmptyTiles(shape);
        }
        var steps = TileShape.Create();
        foreach (var d in used)
        {
            for (int l = 0; l < L; l++)
            {
                steps.Add(m.Temporal[l * D + d], inside: false);
                steps.Add((long)m.SpatialX[l * D + d] * m.SpatialY[l * D + d], inside: true);
            }
            steps.EndDimension();
        }
        r.Tiles[L] = steps.OutsideTiles;
        r.NonEmptyTiles[L] = _mask.NonEmptyTiles(steps);
    }

    /// <summary>Extents, fan-outs, keep masks and capacities.</summary>
    private bool Prepare(CompactMapping m, EvalResult r)
    {
        r.Status = EvalStatus.Valid;
        var ext = r.Ext;
        for (int d = 0; d < D; d++) ext[L * D + d] = 1;
        r.UtilizedInstances[0] = 1;
        for (int l = L - 1; l >= 0; l--)
        {
            long px = 1, py = 1;
            int o = l * D;
            for (int d = 0; d < D; d++)
            {
                int sx = m.SpatialX[o + d], sy = m.SpatialY[o + d];
                px *= sx;
                py *= sy;
                ext[o + d] = (long)m.Temporal[o + d] * sx * sy * ext[o + D + d];
            }
            if (px > _fanX[l]) return Fail(r, EvalStatus.SpatialOverflowX, l, -1, px);
            if (py > _fanY[l]) return Fail(r, EvalStatus.SpatialOverflowY, l, -1, py);
        }
        for (int d = 0; d < D; d++)
            if (ext[d] != _dimSize[d]) return Fail(r, EvalStatus.FactorMismatch, -1, d, ext[d]);
        for (int l = 0; l < L; l++)
        {
            long px = 1;
            for (int d = 0; d < D; d++) px *= (long)m.SpatialX[l * D + d] * m.SpatialY[l * D + d];
            r.UtilizedInstances[l + 1] = r.UtilizedInstances[l] * px;
        }
        int all = (1 << T) - 1;
        if ((m.KeepMask[0] & all) != all) return Fail(r, EvalStatus.KeepViolation, 0, -1, 0);
        for (int l = 0; l < L; l++)
        {
            int keep = m.KeepMask[l] & all;
            if ((keep & ~_mayHold[l]) != 0) return Fail(r, EvalStatus.KeepViolation, l, -1, 0);
            long used = 0;
            int o = l * D;
            for (int t = 0; t < T; t++)
            {
                long size = 0;
                if ((keep & (1 << t)) != 0)
                {
                    size = 1;
                    int rc = _rankCount[t];
                    for (int rr = 0; rr < rc; rr++)
                    {
                        long len = 1;
                        int co = (t * R + rr) * D;
                        for (int d = 0; d < D; d++)
                        {
                            long c = _coef[co + d];
                            if (c != 0) len += Math.Abs(c) * (ext[o + d] - 1);
                        }
                        size *= len;
                    }
                    used += size * _wpe[l * T + t];
                }
                r.TileWords[l * T + t] = size;
            }
            r.CapacityUsed[l] = used;
            if (used > _capacity[l]) return Fail(r, EvalStatus.CapacityExceeded, l, -1, used);
        }
        return true;
    }

    private static bool Fail(EvalResult r, EvalStatus s, int level, int dim, long need)
    {
        r.Status = s;
        r.FailedLevel = level;
        r.FailedDim = dim;
        r.FailedNeed = need;
        return false;
    }

    /// <summary>The temporal loops (factor > 1) of the whole nest, outermost first, and where each level's begin.</summary>
    private void BuildLoops(CompactMapping m, EvalResult r)
    {
        int n = 0;
        long pt = 1;
        for (int l = 0; l < L; l++)
        {
            r.LoopStart[l] = n;
            int o = l * D;
            for (int k = 0; k < D; k++)
            {
                int d = m.Order[o + k];
                int f = m.Temporal[o + d];
                if (f <= 1) continue;
                r.LoopDim[n] = d;
                r.LoopFactor[n] = f;
                r.LoopStride[n] = (long)m.SpatialX[o + d] * m.SpatialY[o + d] * r.Ext[o + D + d];
                pt *= f;
                n++;
            }
        }
        r.LoopStart[L] = n;
        r.TemporalIterations = pt;
    }

    /// <summary>Per-instance fills of tensor t at level l (l > 0): the tile-movement automaton over the loops above.</summary>
    private long Fills(EvalResult r, int l, int t)
    {
        int J = r.LoopStart[l];
        int o = l * D;
        int rc = _rankCount[t];
        var len = r.RankLen;
        long size = 1;
        for (int rr = 0; rr < rc; rr++)
        {
            long ln = 1;
            int co = (t * R + rr) * D;
            for (int d = 0; d < D; d++)
            {
                long c = _coef[co + d];
                if (c != 0) ln += Math.Abs(c) * (r.Ext[o + d] - 1);
            }
            len[rr] = ln;
            size *= ln;
        }
        if (J == 0) return size;
        var reset = r.Reset;
        for (int rr = 0; rr < rc; rr++) reset[rr] = 0;
        for (int j = J - 1; j >= 0; j--)
        {
            int d = r.LoopDim[j];
            long s = r.LoopStride[j], f = r.LoopFactor[j];
            int moved = 0, rank = -1;
            long dr = 0;
            bool full = false;
            for (int rr = 0; rr < rc; rr++)
            {
                long c = _coef[(t * R + rr) * D + d];
                long delta = s * c - reset[rr];
                if (delta != 0)
                {
                    moved++;
                    rank = rr;
                    dr = delta;
                    if (Math.Abs(delta) >= len[rr]) full = true;
                }
                reset[rr] += (f - 1) * s * c;
            }
            if (moved == 0) r.StepKind[j] = KindZero;
            else if (full || moved > 1) r.StepKind[j] = KindFull;
            else
            {
                r.StepKind[j] = KindSlide;
                r.StepGrad[j] = (byte)(1 + 2 * rank + (dr > 0 ? 1 : 0));
                r.StepPoints[j] = Math.Abs(dr) * (size / len[rank]);
            }
        }
        r.Stamp++;
        if (r.Stamp == int.MaxValue) { Array.Clear(r.MemoStamp); r.Stamp = 1; }
        return size + Block(r, 0, 0, J, size, 2 * rc + 1, out _);
    }

    /// <summary>Fills inside one pass of loops j..J-1 entered in automaton state g (0 = no direction; else rank/sign).</summary>
    private static long Block(EvalResult r, int j, int g, int J, long size, int states, out int gOut)
    {
        if (j == J) { gOut = g; return 0; }
        int idx = j * states + g;
        if (r.MemoStamp[idx] == r.Stamp) { gOut = r.MemoOut[idx]; return r.MemoSum[idx]; }
        long total = Block(r, j + 1, g, J, size, states, out int cur);
        long n = r.LoopFactor[j] - 1;
        long k = 0;
        while (k < n && k < 2) { total += Step(r, j, cur, J, size, states, out cur); k++; }
        if (k < n)
        {
            // From the second iteration on the state lives in a set of at most two values, so it is periodic.
            int x3 = cur;
            long inc3 = Step(r, j, x3, J, size, states, out int x4);
            long m = n - k;
            if (x4 == x3) { total += inc3 * m; cur = x3; }
            else
            {
                long inc4 = Step(r, j, x4, J, size, states, out int x5);
                if (x5 == x3)
                {
                    total += (m / 2) * (inc3 + inc4);
                    if ((m & 1) == 1) { total += inc3; cur = x4; }
                    else cur = x3;
                }
                else
                {
                    total += inc3 + (m - 1) * inc4;
                    cur = x4;
                }
            }
        }
        r.MemoStamp[idx] = r.Stamp;
        r.MemoSum[idx] = total;
        r.MemoOut[idx] = (byte)cur;
        gOut = cur;
        return total;
    }

    /// <summary>One move of loop j (inner loops reset) followed by a full pass of the inner loops.</summary>
    private static long Step(EvalResult r, int j, int g, int J, long size, int states, out int gOut)
    {
        long delta;
        int next;
        switch (r.StepKind[j])
        {
            case KindZero: delta = 0; next = 0; break;
            case KindFull: delta = size; next = 0; break;
            default:
                int gj = r.StepGrad[j];
                if (g == 0 || g == gj) { delta = r.StepPoints[j]; next = gj; }
                else { delta = size; next = 0; }
                break;
        }
        return delta + Block(r, j + 1, next, J, size, states, out gOut);
    }

    /// <summary>Distinct points of an output tensor that one level-l instance updates over the run.</summary>
    private long Partition(CompactMapping m, EvalResult r, int l, int t)
    {
        long size = 1;
        int rc = _rankCount[t];
        for (int rr = 0; rr < rc; rr++)
        {
            long ln = 1;
            int co = (t * R + rr) * D;
            for (int d = 0; d < D; d++)
            {
                long c = _coef[co + d];
                if (c == 0) continue;
                long share = _dimSize[d];
                for (int s = 0; s < l; s++) share /= (long)m.SpatialX[s * D + d] * m.SpatialY[s * D + d];
                ln += Math.Abs(c) * (share - 1);
            }
            size *= ln;
        }
        return size;
    }

    /// <summary>Number of distinct data offsets (tile positions) of tensor t among the spatial children of level l.</summary>
    private long DistinctOffsets(CompactMapping m, EvalResult r, int l, int t)
    {
        int o = l * D;
        long product = 1;
        int usedRanks = 0, relevantCount = 0;
        bool overlap = false;
        int rel = _relevant[t];
        for (int d = 0; d < D; d++)
        {
            long n = (long)m.SpatialX[o + d] * m.SpatialY[o + d];
            if (n <= 1 || (rel & (1 << d)) == 0) continue;
            int mask = _rankMask[t * D + d];
            if ((usedRanks & mask) != 0) overlap = true;
            usedRanks |= mask;
            product *= n;
            relevantCount++;
        }
        if (!overlap) return product;
        return DistinctOffsetsSlow(m, r, l, t);
    }

    /// <summary>
    /// Several spatial dimensions move the same rank (e.g. a sliding window, or a split rank m = m1*M0 + m0, spread
    /// across the array). Dimensions that share no rank vary independently, so the count is the product over groups of
    /// dimensions connected through shared ranks; each group is counted on its own.
    /// </summary>
    private long DistinctOffsetsSlow(CompactMapping m, EvalResult r, int l, int t)
    {
        int o = l * D;
        int rel = _relevant[t];
        Span<int> dims = stackalloc int[D];
        Span<long> counts = stackalloc long[D];
        int nd = 0;
        for (int d = 0; d < D; d++)
        {
            long n = (long)m.SpatialX[o + d] * m.SpatialY[o + d];
            if (n <= 1 || (rel & (1 << d)) == 0) continue;
            dims[nd] = d;
            counts[nd] = n;
            nd++;
        }
        // Connected groups: a dimension joins every group whose ranks it shares.
        Span<int> groupOf = stackalloc int[nd];
        Span<int> groupRanks = stackalloc int[nd];
        int groups = 0;
        for (int i = 0; i < nd; i++)
        {
            int mask = _rankMask[t * D + dims[i]], g = -1;
            for (int k = 0; k < groups; k++)
            {
                if ((groupRanks[k] & mask) == 0) continue;
                if (g < 0) { g = k; continue; }
                // Merge group k into g.
                groupRanks[g] |= groupRanks[k];
                for (int j = 0; j < i; j++) if (groupOf[j] == k) groupOf[j] = g;
                groupRanks[k] = 0;
            }
            if (g < 0) g = groups++;
            groupRanks[g] |= mask;
            groupOf[i] = g;
        }
        long product = 1;
        Span<int> gd = stackalloc int[nd];
        Span<long> gc = stackalloc long[nd];
        for (int g = 0; g < groups; g++)
        {
            int n = 0;
            for (int i = 0; i < nd; i++)
                if (groupOf[i] == g) { gd[n] = dims[i]; gc[n] = counts[i]; n++; }
            if (n > 0) product *= DistinctInGroup(r, l, t, gd[..n], gc[..n]);
        }
        return product;
    }

    private long DistinctInGroup(EvalResult r, int l, int t, ReadOnlySpan<int> dims, ReadOnlySpan<long> counts)
    {
        int o = l * D;
        int nd = dims.Length;
        if (nd == 1) return counts[0];
        // Two dimensions sharing exactly one rank: the number of distinct a*i + b*j has a closed form.
        if (nd == 2)
        {
            int d1 = dims[0], d2 = dims[1];
            int m1 = _rankMask[t * D + d1], m2 = _rankMask[t * D + d2];
            if (m1 == m2 && (m1 & (m1 - 1)) == 0)
            {
                int rank = System.Numerics.BitOperations.TrailingZeroCount(m1);
                long a = Math.Abs(_coef[(t * R + rank) * D + d1]) * r.Ext[o + D + d1];
                long b = Math.Abs(_coef[(t * R + rank) * D + d2]) * r.Ext[o + D + d2];
                long g = Gcd(a, b);
                long ap = a / g, bp = b / g;
                long n1 = counts[0], n2 = counts[1];
                return n1 * n2 - Math.Max(0, n1 - bp) * Math.Max(0, n2 - ap);
            }
        }
        // General case: enumerate offset vectors and count distinct ones.
        int rc = _rankCount[t];
        long total = 1;
        foreach (var c in counts) total *= c;
        if (r.Keys.Length < total) r.Keys = new long[Math.Max(total, r.Keys.Length * 2)];
        var keys = r.Keys.AsSpan(0, (int)total);
        Span<long> idx = stackalloc long[nd];
        for (long k = 0; k < total; k++)
        {
            long rem = k;
            for (int i = 0; i < nd; i++) { idx[i] = rem % counts[i]; rem /= counts[i]; }
            long key = 0;
            for (int rr = 0; rr < rc; rr++)
            {
                long v = 0;
                for (int i = 0; i < nd; i++) v += _coef[(t * R + rr) * D + dims[i]] * r.Ext[o + D + dims[i]] * idx[i];
                key = unchecked(key * 1_000_003 + v);
            }
            keys[(int)k] = key;
        }
        keys.Sort();
        long distinct = total > 0 ? 1 : 0;
        for (int i = 1; i < keys.Length; i++) if (keys[i] != keys[i - 1]) distinct++;
        return distinct;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a == 0 ? 1 : a;
    }
}
