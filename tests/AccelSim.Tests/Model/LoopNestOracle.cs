using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Tests.Model;

/// <summary>
/// Brute-force reference for the analytical model (tests only). It walks every iteration of the mapping's loop
/// nest, derives the tile each level instance holds at each time step as the bounding box of the data the points
/// under it touch, applies the buffer policy (keep residual data only while the tile slides along one rank in one
/// direction, otherwise refetch), materialises every fill and write-back as an explicit point set, and counts a
/// parent's accesses by grouping identical requests of its children level by level (multicast / spatial reduction).
/// Totals are summed over all instances.
/// </summary>
public sealed class LoopNestOracle
{
    private readonly ProblemShape _p;
    private readonly CompactMapping _m;
    private readonly int L, D, T;
    private readonly List<(int Level, int Kind, int Dim, int Factor)> _loops = new();
    private readonly List<int[]> _index = new();   // every iteration point's loop indices
    private readonly List<long[]> _dimValues = new();

    public long[] Reads, Fills, Updates, MaxTile;

    public LoopNestOracle(ProblemShape problem, CompactMapping mapping)
    {
        _p = problem;
        _m = mapping;
        L = mapping.Levels;
        D = mapping.Dims;
        T = problem.Tensors.Length;
        for (int l = 0; l < L; l++)
        {
            for (int k = 0; k < D; k++)
            {
                int d = mapping.Order[l * D + k];
                if (mapping.Temporal[l * D + d] > 1) _loops.Add((l, 0, d, mapping.Temporal[l * D + d]));
            }
            for (int d = 0; d < D; d++) if (mapping.SpatialX[l * D + d] > 1) _loops.Add((l, 1, d, mapping.SpatialX[l * D + d]));
            for (int d = 0; d < D; d++) if (mapping.SpatialY[l * D + d] > 1) _loops.Add((l, 2, d, mapping.SpatialY[l * D + d]));
        }
        var stride = new long[_loops.Count];
        for (int i = 0; i < _loops.Count; i++)
        {
            long s = 1;
            for (int j = i + 1; j < _loops.Count; j++) if (_loops[j].Dim == _loops[i].Dim) s *= _loops[j].Factor;
            stride[i] = s;
        }
        var idx = new int[_loops.Count];
        while (true)
        {
            var v = new long[D];
            for (int i = 0; i < _loops.Count; i++) v[_loops[i].Dim] += idx[i] * stride[i];
            _index.Add((int[])idx.Clone());
            _dimValues.Add(v);
            int p = _loops.Count - 1;
            while (p >= 0 && ++idx[p] == _loops[p].Factor) { idx[p] = 0; p--; }
            if (p < 0) break;
        }
        Reads = new long[L * T];
        Fills = new long[L * T];
        Updates = new long[L * T];
        MaxTile = new long[L * T];
        for (int t = 0; t < T; t++) Run(t);
    }

    private long[] Coord(int t, long[] v)
    {
        var ranks = _p.Tensors[t].Ranks;
        var c = new long[ranks.Length];
        for (int r = 0; r < ranks.Length; r++)
        {
            long x = ranks[r].Constant;
            foreach (var term in ranks[r].Terms) x += term.Coefficient * v[term.Dim];
            c[r] = x;
        }
        return c;
    }

    private static long Key(long[] c)
    {
        long k = 0;
        foreach (var x in c) k = k * 100_003 + (x + 50_000);
        return k;
    }

    // Mixed-radix number of the loops selected by the predicate, in nest order (outermost most significant).
    private long Number(int[] idx, Func<(int Level, int Kind, int Dim, int Factor), bool> pick)
    {
        long n = 0;
        for (int i = 0; i < _loops.Count; i++)
            if (pick(_loops[i])) n = n * _loops[i].Factor + idx[i];
        return n;
    }

    private long Count(Func<(int Level, int Kind, int Dim, int Factor), bool> pick) =>
        _loops.Where(pick).Aggregate(1L, (a, x) => a * x.Factor);

    private int[] SpatialOf(int[] idx, int level) =>
        Enumerable.Range(0, _loops.Count).Where(i => _loops[i].Level == level && _loops[i].Kind != 0).Select(i => idx[i]).ToArray();

    private sealed class Box
    {
        public long[] Lo = Array.Empty<long>(), Hi = Array.Empty<long>();
        public long Size => Lo.Select((x, i) => Hi[i] - x + 1).Aggregate(1L, (a, b) => a * b);
        public bool Contains(long[] c) => c.Select((x, i) => x >= Lo[i] && x <= Hi[i]).All(b => b);
        public IEnumerable<long[]> Points()
        {
            var c = (long[])Lo.Clone();
            while (true)
            {
                yield return (long[])c.Clone();
                int p = c.Length - 1;
                while (p >= 0 && ++c[p] > Hi[p]) { c[p] = Lo[p]; p--; }
                if (p < 0) yield break;
            }
        }
    }

    /// <summary>Per child instance and step: the fill set and the write-back set (write-backs also at step = steps, the drain).</summary>
    private sealed record Movement(Dictionary<(long Inst, long Step), long[]> FillSets, Dictionary<(long Inst, long Step), long[]> Evictions, long Steps);

    private void Run(int t)
    {
        int bit = 1 << t;
        var kept = Enumerable.Range(0, L).Where(l => (_m.KeepMask[l] & bit) != 0).ToList();
        var moves = new Dictionary<int, Movement>();
        foreach (var l in kept.Where(l => l > 0)) moves[l] = Move(t, l);
        for (int i = 0; i < kept.Count; i++)
        {
            int P = kept[i];
            int C = i + 1 < kept.Count ? kept[i + 1] : L;
            if (C < L)
            {
                var mv = moves[C];
                Fills[C * T + t] = mv.FillSets.Values.Sum(s => (long)s.Length);
                Serve(t, P, C, mv.Steps, (inst, step) => mv.FillSets.GetValueOrDefault((inst, step)), out var readTraffic, out _);
                if (!_p.Tensors[t].IsOutput) Reads[P * T + t] = readTraffic;
                else
                {
                    Serve(t, P, C, mv.Steps + 1, (inst, step) => mv.Evictions.GetValueOrDefault((inst, step)), out var upd, out var distinct);
                    Updates[P * T + t] = upd;
                    Reads[P * T + t] = upd - distinct;
                }
            }
            else
            {
                // Compute units: one access per operation, grouped across the spatial levels P..L-1.
                var pts = new Dictionary<(long Inst, long Step), long[]>();
                for (int k = 0; k < _index.Count; k++)
                {
                    var idx = _index[k];
                    long inst = Number(idx, x => x.Kind != 0);
                    long step = Number(idx, x => x.Kind == 0);
                    pts[(inst, step)] = new[] { Key(Coord(t, _dimValues[k])) };
                }
                long steps = Count(x => x.Kind == 0);
                Serve(t, P, L, steps, (inst, step) => pts.GetValueOrDefault((inst, step)), out var traffic, out var distinct);
                if (_p.Tensors[t].IsOutput) { Updates[P * T + t] = traffic; Reads[P * T + t] = traffic - distinct; }
                else Reads[P * T + t] = traffic;
            }
        }
    }

    /// <summary>Tiles of level l over time for every instance, under the sliding-window reuse policy.</summary>
    private Movement Move(int t, int l)
    {
        var boxes = new Dictionary<(long, long), Box>();
        for (int k = 0; k < _index.Count; k++)
        {
            var idx = _index[k];
            long inst = Number(idx, x => x.Level < l && x.Kind != 0);
            long step = Number(idx, x => x.Level < l && x.Kind == 0);
            var c = Coord(t, _dimValues[k]);
            if (!boxes.TryGetValue((inst, step), out var b))
                boxes[(inst, step)] = new Box { Lo = (long[])c.Clone(), Hi = (long[])c.Clone() };
            else
                for (int r = 0; r < c.Length; r++) { b.Lo[r] = Math.Min(b.Lo[r], c[r]); b.Hi[r] = Math.Max(b.Hi[r], c[r]); }
        }
        long steps = Count(x => x.Level < l && x.Kind == 0);
        var fills = new Dictionary<(long, long), long[]>();
        var evictions = new Dictionary<(long, long), long[]>();
        foreach (var inst in boxes.Keys.Select(k => k.Item1).Distinct())
        {
            Box? old = null;
            (int Rank, int Sign) grad = (-1, 0);
            for (long s = 0; s < steps; s++)
            {
                var b = boxes[(inst, s)];
                MaxTile[l * T + t] = Math.Max(MaxTile[l * T + t], b.Size);
                long[] fill, evict;
                if (old is null) { fill = b.Points().Select(Key).ToArray(); evict = Array.Empty<long>(); grad = (-1, 0); }
                else
                {
                    var differing = Enumerable.Range(0, b.Lo.Length).Where(r => b.Lo[r] != old.Lo[r]).ToList();
                    bool disjoint = Enumerable.Range(0, b.Lo.Length).Any(r => b.Lo[r] > old.Hi[r] || b.Hi[r] < old.Lo[r]);
                    if (differing.Count == 0) { fill = Array.Empty<long>(); evict = fill; grad = (-1, 0); }
                    else if (disjoint || differing.Count > 1) { fill = All(b); evict = All(old); grad = (-1, 0); }
                    else
                    {
                        int r = differing[0];
                        int sign = b.Lo[r] > old.Lo[r] ? 1 : -1;
                        if (grad.Rank < 0 || grad == (r, sign))
                        {
                            fill = b.Points().Where(c => !old.Contains(c)).Select(Key).ToArray();
                            evict = old.Points().Where(c => !b.Contains(c)).Select(Key).ToArray();
                            grad = (r, sign);
                        }
                        else { fill = All(b); evict = All(old); grad = (-1, 0); }
                    }
                }
                Array.Sort(fill);
                Array.Sort(evict);
                fills[(inst, s)] = fill;
                evictions[(inst, s)] = evict;
                old = b;
            }
            var last = All(old!);
            Array.Sort(last);
            evictions[(inst, steps)] = last;
        }
        return new Movement(fills, evictions, steps);
    }

    private static long[] All(Box b) => b.Points().Select(Key).ToArray();

    /// <summary>
    /// Accesses a parent level P makes to serve child level C (or the compute units when C == L): for every parent
    /// instance and child step, children are grouped spatial level by spatial level; identical requests share one access.
    /// </summary>
    private void Serve(int t, int P, int C, long steps, Func<long, long, long[]?> setOf, out long traffic, out long distinctPoints)
    {
        traffic = 0;
        var parentLoops = (Func<(int Level, int Kind, int Dim, int Factor), bool>)(x => x.Level < P && x.Kind != 0);
        var childLoops = (Func<(int Level, int Kind, int Dim, int Factor), bool>)(x => x.Level < C && x.Kind != 0);
        // Child instances, each with its parent instance and its per-level spatial indices for levels P..C-1.
        var children = new Dictionary<long, (long Parent, int[][] Path)>();
        foreach (var idx in _index)
        {
            long ci = Number(idx, childLoops);
            if (children.ContainsKey(ci)) continue;
            var path = Enumerable.Range(P, C - P).Select(s => SpatialOf(idx, s)).ToArray();
            children[ci] = (Number(idx, parentLoops), path);
        }
        var all = new HashSet<(long, long)>();
        foreach (var group in children.GroupBy(kv => kv.Value.Parent))
        {
            var points = new HashSet<long>();
            for (long s = 0; s < steps; s++)
            {
                var members = group.Select(kv => (kv.Value.Path, Set: setOf(kv.Key, s) ?? Array.Empty<long>())).ToList();
                traffic += Group(members, 0).Traffic;
                foreach (var mm in members) foreach (var x in mm.Set) points.Add(x);
            }
            foreach (var x in points) all.Add((group.Key, x));
        }
        distinctPoints = all.Count;
    }

    private static (long Traffic, long[] Union) Group(List<(int[][] Path, long[] Set)> members, int depth)
    {
        if (depth == (members.Count == 0 ? 0 : members[0].Path.Length))
            return (members.Sum(x => (long)x.Set.Length), members.SelectMany(x => x.Set).Distinct().OrderBy(x => x).ToArray());
        var subs = members.GroupBy(x => string.Join(",", x.Path[depth])).Select(g => Group(g.ToList(), depth + 1)).ToList();
        long traffic = 0;
        var seen = new HashSet<string>();
        foreach (var (tr, u) in subs)
            if (seen.Add(string.Join(",", u))) traffic += tr;
        return (traffic, subs.SelectMany(x => x.Union).Distinct().OrderBy(x => x).ToArray());
    }
}
