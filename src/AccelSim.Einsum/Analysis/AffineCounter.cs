namespace AccelSim.Einsum.Analysis;

/// <summary>
/// Counts the integer points of a box [lo, hi] (inclusive, per variable) satisfying a boolean formula of affine
/// atoms, exactly. The formula's top-level conjuncts are grouped into components that share no variable and counted
/// separately; split-rank pairs (`s*m1 + m0` with m0 spanning s values) are merged into one variable; then all but the
/// widest variable of a component are enumerated and the widest is solved in closed form: an interval per row for a
/// conjunction, a few segments per row otherwise. A causal or windowed mask over two ranks costs O(rows).
/// </summary>
internal static class AffineCounter
{
    private sealed class Row(long[] coefficients, long constant)
    {
        public readonly long[] C = coefficients;
        public long K = constant;
    }

    public static long Count(Formula formula, IReadOnlyList<Atom> atoms, int[] active, long[] lo, long[] hi)
    {
        lo = (long[])lo.Clone();
        hi = (long[])hi.Clone();
        // Local copies of the atoms with fixed variables (a single value in the box) folded into the constant.
        var rows = new Dictionary<int, Row>();
        foreach (var a in AtomsOf(formula))
        {
            var atom = (LinearLe)atoms[a];
            var row = new Row((long[])atom.Coefficients.Clone(), atom.Constant);
            foreach (var v in active)
                if (row.C[v] != 0 && lo[v] == hi[v]) { row.K = checked(row.K + row.C[v] * lo[v]); row.C[v] = 0; }
            rows[a] = row;
        }
        var free = active.Where(v => hi[v] > lo[v]).ToArray();
        var parts = Conjuncts(formula);

        // union-find over the free variables the parts share
        var parent = free.ToDictionary(v => v, v => v);
        int Find(int v) => parent[v] == v ? v : parent[v] = Find(parent[v]);
        var partVars = parts.Select(p => AtomsOf(p).SelectMany(a => free.Where(v => rows[a].C[v] != 0)).Distinct().ToArray()).ToArray();
        foreach (var vs in partVars)
            for (var i = 1; i < vs.Length; i++) parent[Find(vs[i])] = Find(vs[0]);

        long total = 1;
        foreach (var v in free.Where(v => !partVars.Any(vs => vs.Contains(v)))) total = checked(total * (hi[v] - lo[v] + 1));
        for (var i = 0; i < parts.Count; i++)
            if (partVars[i].Length == 0 && !Holds(parts[i], a => rows[a].K <= 0)) return 0;
        foreach (var group in free.Where(v => partVars.Any(vs => vs.Contains(v))).GroupBy(Find))
        {
            var vars = group.ToList();
            var members = parts.Where((_, i) => partVars[i].Length > 0 && vars.Contains(partVars[i][0])).ToArray();
            var part = members.Length == 1 ? members[0] : new FAnd(members);
            var count = CountComponent(part, rows, vars, lo, hi);
            if (count == 0) return 0;
            total = checked(total * count);
        }
        return total;
    }

    private static long CountComponent(Formula f, Dictionary<int, Row> all, List<int> vars, long[] lo, long[] hi)
    {
        var ids = AtomsOf(f).ToArray();
        var rows = ids.Select(a => all[a]).ToArray();
        MergeSplitPairs(rows, vars, lo, hi);

        var inner = vars.MaxBy(v => hi[v] - lo[v]);
        var outer = vars.Where(v => v != inner).ToArray();
        var outerCount = outer.Aggregate(1L, (a, v) => checked(a * (hi[v] - lo[v] + 1)));
        if (outerCount > PointCounter.MaxEnumeration)
            throw new CountingLimitException($"counting this mask needs {outerCount:N0} enumerations; it is too complex for exact analytical counting at this size");

        var conjunction = AsConjunction(f, ids);
        var index = new Dictionary<int, int>();
        for (var i = 0; i < ids.Length; i++) index[ids[i]] = i;
        var n = rows.Length;
        var rest = new long[n];
        var point = outer.Select(v => lo[v]).ToArray();
        var cuts = new List<long>();
        long total = 0;
        for (long k = 0; k < outerCount; k++)
        {
            if (k > 0)
                for (var j = 0; j < outer.Length; j++)
                {
                    if (++point[j] <= hi[outer[j]]) break;
                    point[j] = lo[outer[j]];
                }
            for (var i = 0; i < n; i++)
            {
                var r = rows[i].K;
                for (var j = 0; j < outer.Length; j++) r += rows[i].C[outer[j]] * point[j];
                rest[i] = r;
            }
            long from = lo[inner], to = hi[inner];
            if (conjunction is not null)
            {
                // c*y + r <= 0 (negated: -c*y - r + 1 <= 0), intersected
                foreach (var (i, negated) in conjunction)
                {
                    var c = negated ? -rows[i].C[inner] : rows[i].C[inner];
                    var r = negated ? 1 - rest[i] : rest[i];
                    if (c == 0) { if (r > 0) { from = 1; to = 0; break; } }
                    else if (c > 0) to = Math.Min(to, IntMath.FloorDiv(-r, c));
                    else from = Math.Max(from, IntMath.CeilDiv(r, -c));
                }
                if (to >= from) total += to - from + 1;
                continue;
            }
            // Each atom changes truth at most once along y: cut there and evaluate the formula on each segment.
            cuts.Clear();
            cuts.Add(from);
            for (var i = 0; i < n; i++)
            {
                var c = rows[i].C[inner];
                if (c == 0) continue;
                // c > 0: true up to floor(-r/c); c < 0: true from ceil(r/-c)
                var cut = c > 0 ? IntMath.FloorDiv(-rest[i], c) + 1 : IntMath.CeilDiv(rest[i], -c);
                if (cut > from && cut <= to) cuts.Add(cut);
            }
            cuts.Sort();
            var distinct = 1;
            for (var s = 1; s < cuts.Count; s++)
                if (cuts[s] != cuts[distinct - 1]) cuts[distinct++] = cuts[s];
            for (var s = 0; s < distinct; s++)
            {
                var y = cuts[s];
                var end = s + 1 < distinct ? cuts[s + 1] - 1 : to;
                var at = y;
                if (Holds(f, a => { var i = index[a]; return rows[i].C[inner] * at + rest[i] <= 0; })) total += end - y + 1;
            }
        }
        return total;
    }

    /// <summary>
    /// Replaces each pair (o, i) that every atom uses as `c*(s*o + i)`, s being i's extent, by one variable spanning
    /// s * extent(o) values: the split rank m = m1*M0 + m0 of a tiled cascade counts as m.
    /// </summary>
    private static void MergeSplitPairs(Row[] rows, List<int> vars, long[] lo, long[] hi)
    {
        var merged = true;
        while (merged && vars.Count > 1)
        {
            merged = false;
            foreach (var o in vars)
            {
                foreach (var i in vars)
                {
                    if (i == o) continue;
                    var s = hi[i] - lo[i] + 1;
                    if (!rows.All(r => r.C[o] == s * r.C[i])) continue;
                    lo[i] = checked(s * lo[o] + lo[i]);
                    hi[i] = checked(s * hi[o] + hi[i]);
                    foreach (var r in rows) r.C[o] = 0;
                    vars.Remove(o);
                    merged = true;
                    break;
                }
                if (merged) break;
            }
        }
    }

    /// <summary>The formula as a list of (possibly negated) atoms when it is a conjunction of them, else null.</summary>
    private static List<(int Row, bool Negated)>? AsConjunction(Formula f, int[] ids)
    {
        var result = new List<(int, bool)>();
        foreach (var p in Conjuncts(f))
            switch (p)
            {
                case FAtom a: result.Add((Array.IndexOf(ids, a.Index), false)); break;
                case FNot { Operand: FAtom a }: result.Add((Array.IndexOf(ids, a.Index), true)); break;
                case FConst { Value: true }: break;
                default: return null;
            }
        return result;
    }

    public static List<Formula> Conjuncts(Formula f)
    {
        var result = new List<Formula>();
        void Walk(Formula x)
        {
            if (x is FAnd a) foreach (var p in a.Parts) Walk(p);
            else result.Add(x);
        }
        Walk(f);
        return result;
    }

    public static IEnumerable<int> AtomsOf(Formula f)
    {
        var seen = new HashSet<int>();
        var work = new Stack<Formula>();
        work.Push(f);
        while (work.Count > 0)
            switch (work.Pop())
            {
                case FAtom a: if (seen.Add(a.Index)) yield return a.Index; break;
                case FNot n: work.Push(n.Operand); break;
                case FAnd a: foreach (var p in a.Parts) work.Push(p); break;
                case FOr o: foreach (var p in o.Parts) work.Push(p); break;
            }
    }

    public static bool Holds(Formula f, Func<int, bool> atom) => f switch
    {
        FConst c => c.Value,
        FAtom a => atom(a.Index),
        FNot n => !Holds(n.Operand, atom),
        FAnd a => a.Parts.All(p => Holds(p, atom)),
        FOr o => o.Parts.Any(p => Holds(p, atom)),
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };
}

/// <summary>Counting would need more enumeration than <see cref="PointCounter"/> allows.</summary>
internal sealed class CountingLimitException(string message) : InvalidOperationException(message);
