using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Interpretation;

namespace AccelSim.Einsum.Analysis;

/// <summary>
/// The fallback for conditions outside what <see cref="PointCounter"/> counts by tiles (atoms that are neither affine
/// comparisons nor constant on tiles, such as `(p + m) % 3 == 0`): the condition is put in disjunctive normal form,
/// counted by inclusion-exclusion, and each conjunction of linear constraints is counted by enumerating all but its
/// largest variable and intersecting intervals on that one; other atoms are evaluated point by point.
/// </summary>
internal static class PointwiseCounter
{
    private const long MaxEnumeration = PointCounter.MaxEnumeration;

    public static long Count(BoundExpr? condition, IReadOnlyList<IterationVariable> space)
    {
        var dense = space.Aggregate(1L, (a, v) => checked(a * v.Size));
        if (condition is null) return dense;
        var used = new HashSet<int>();
        Support.CollectVariables(condition, used);
        var others = space.Where((_, i) => !used.Contains(i)).Aggregate(1L, (a, v) => checked(a * v.Size));
        var vars = used.OrderBy(v => v).ToArray();
        if (TryCoarsen(condition, space) is { } coarse)
            return checked(others * WeightedBrute(coarse.Condition, vars, space, coarse.Blocks));
        var dnf = Dnf(condition);
        long count;
        if (dnf is null || dnf.Count > 6)
            count = Brute(condition, vars, space);
        else
        {
            count = 0;
            var n = dnf.Count;
            for (var mask = 1; mask < 1 << n; mask++)
            {
                var atoms = new List<object>();
                for (var i = 0; i < n; i++) if ((mask & (1 << i)) != 0) atoms.AddRange(dnf[i]);
                var c = CountConjunction(atoms, vars, space);
                count += (System.Numerics.BitOperations.PopCount((uint)mask) % 2 == 1) ? c : -c;
            }
        }
        return checked(others * count);
    }

    /// <summary>A list of conjunctions; each atom is a <see cref="LinearAtom"/> or an opaque boolean expression.</summary>
    private static List<List<object>>? Dnf(BoundExpr c, bool negate = false)
    {
        switch (c)
        {
            case ConstExpr k:
                var truth = (k.Value != 0) ^ negate;
                return truth ? [[]] : [];
            case UnaryBound { Fn: UnaryFn.Not } u:
                return Dnf(u.Operand, !negate);
            case BinaryBound { Fn: BinaryFn.And or BinaryFn.Or } b:
                var isAnd = (b.Fn == BinaryFn.And) ^ negate;
                var l = Dnf(b.Left, negate);
                var r = Dnf(b.Right, negate);
                if (l is null || r is null) return null;
                if (!isAnd) return [.. l, .. r];
                var product = new List<List<object>>();
                foreach (var x in l) foreach (var y in r) product.Add([.. x, .. y]);
                return product.Count > 16 ? null : product;
            case BinaryBound b when LinearAtom.TryFrom(b) is { } atom:
                return [[negate ? Negate(atom) : atom]];
            default:
                return [[negate ? new UnaryBound(UnaryFn.Not, c) : c]];
        }
    }

    private static LinearAtom Negate(LinearAtom a) => a.Op switch
    {
        BinaryFn.Le => new LinearAtom(a.Form.Times(-1), BinaryFn.Lt), // not (f <= 0)  <=>  -f < 0
        BinaryFn.Lt => new LinearAtom(a.Form.Times(-1), BinaryFn.Le),
        BinaryFn.Eq => a with { Op = BinaryFn.Ne },
        _ => a with { Op = BinaryFn.Eq },
    };

    private static long CountConjunction(List<object> atoms, int[] vars, IReadOnlyList<IterationVariable> space)
    {
        if (vars.Length == 0) return atoms.All(a => Holds(a, [])) ? 1 : 0;
        var inner = vars.MaxBy(v => space[v].Size);
        var outer = vars.Where(v => v != inner).ToArray();
        var outerCount = outer.Aggregate(1L, (a, v) => checked(a * space[v].Size));
        if (outerCount > MaxEnumeration)
            throw new CountingLimitException($"counting this mask needs {outerCount:N0} enumerations; it is too complex for exact analytical counting at this size");

        var linear = atoms.OfType<LinearAtom>().Where(a => a.Op is BinaryFn.Le or BinaryFn.Lt && a.Form.Coefficient(inner) != 0).ToArray();
        var perPoint = atoms.Where(a => !linear.Contains(a))
            .Select(a => a is BoundExpr e ? new CompiledAtom(e, ScalarCompiler.CompilePredicate(e)) : a).ToArray();
        var point = new long[space.Count];
        var n = space[inner].Size;
        long total = 0, evaluated = 0;
        for (long k = 0; k < outerCount; k++)
        {
            var rem = k;
            foreach (var v in outer) { point[v] = rem % space[v].Size; rem /= space[v].Size; }
            long lo = 0, hi = n - 1;
            point[inner] = 0;
            foreach (var a in linear)
            {
                var c = a.Form.Coefficient(inner);
                var rest = a.Form.Evaluate(point); // inner is 0 here
                var t = -rest / c;
                if (c > 0) hi = Math.Min(hi, a.Op == BinaryFn.Le ? FloorTol(t) : CeilTol(t) - 1);
                else lo = Math.Max(lo, a.Op == BinaryFn.Le ? CeilTol(t) : FloorTol(t) + 1);
            }
            if (lo > hi) continue;
            if (perPoint.Length == 0) { total += hi - lo + 1; continue; }
            var innerDependent = perPoint.Where(a => DependsOn(a, inner)).ToArray();
            if (!perPoint.Except(innerDependent).All(a => Holds(a, point))) continue;
            if (innerDependent.Length == 0) { total += hi - lo + 1; continue; }
            evaluated += hi - lo + 1;
            if (evaluated > MaxEnumeration)
                throw new CountingLimitException($"counting this mask needs more than {MaxEnumeration:N0} point evaluations; it is too complex for exact analytical counting at this size");
            for (var x = lo; x <= hi; x++)
            {
                point[inner] = x;
                if (innerDependent.All(a => Holds(a, point))) total++;
            }
        }
        return total;
    }

    private static long FloorTol(double t) => (long)Math.Floor(t + 1e-9);
    private static long CeilTol(double t) => (long)Math.Ceiling(t - 1e-9);

    private sealed record CompiledAtom(BoundExpr Expr, Func<long[], bool> Predicate);

    private static bool DependsOn(object atom, int v) => atom switch
    {
        LinearAtom a => a.Form.Coefficient(v) != 0,
        CompiledAtom c => Support.Uses(c.Expr, [v]),
        BoundExpr e => Support.Uses(e, [v]),
        _ => true,
    };

    private static bool Holds(object atom, long[] point) => atom switch
    {
        LinearAtom a => a.Holds(a.Form.Evaluate(point)),
        CompiledAtom c => c.Predicate(point),
        BoundExpr e => ScalarEvaluator.Truth(e, point),
        _ => false,
    };

    /// <summary>
    /// Block masks see a variable only as `v // c`: count over blocks instead of points, each block weighted by how
    /// many values of v it holds (the last one may be partial). Applies when every use of some variable is `v // c`
    /// with one constant c.
    /// </summary>
    private static (BoundExpr Condition, Dictionary<int, long> Blocks)? TryCoarsen(BoundExpr condition, IReadOnlyList<IterationVariable> space)
    {
        var uses = new Dictionary<int, HashSet<long>>(); // block size per use; 0 = used directly
        void Scan(BoundExpr e)
        {
            switch (e)
            {
                case BinaryBound { Fn: BinaryFn.FloorDiv, Left: IndexValueExpr { Index: { Constant: 0, Terms: [{ Coefficient: 1 } t] } }, Right: ConstExpr k }
                    when k.Value >= 1 && k.Value == Math.Floor(k.Value):
                    (uses.TryGetValue(t.Variable, out var set) ? set : uses[t.Variable] = []).Add((long)k.Value);
                    break;
                case IndexValueExpr i:
                    foreach (var term in i.Index.Terms) (uses.TryGetValue(term.Variable, out var s0) ? s0 : uses[term.Variable] = []).Add(0);
                    break;
                case UnaryBound u: Scan(u.Operand); break;
                case BinaryBound b: Scan(b.Left); Scan(b.Right); break;
                case BlockMaskExpr m: Scan(m.RowBlock); Scan(m.ColBlock); break;
            }
        }
        Scan(condition);
        var blocks = uses.Where(kv => kv.Value.Count == 1 && kv.Value.First() > 1).ToDictionary(kv => kv.Key, kv => kv.Value.First());
        if (blocks.Count == 0) return null;

        BoundExpr Rewrite(BoundExpr e) => e switch
        {
            BinaryBound { Fn: BinaryFn.FloorDiv, Left: IndexValueExpr { Index.Terms: [var t] } iv } when blocks.ContainsKey(t.Variable) => iv,
            UnaryBound u => u with { Operand = Rewrite(u.Operand) },
            BinaryBound b => b with { Left = Rewrite(b.Left), Right = Rewrite(b.Right) },
            BlockMaskExpr m => m with { RowBlock = Rewrite(m.RowBlock), ColBlock = Rewrite(m.ColBlock) },
            _ => e,
        };
        return (Rewrite(condition), blocks);
    }

    private static long WeightedBrute(BoundExpr condition, int[] vars, IReadOnlyList<IterationVariable> space, Dictionary<int, long> blocks)
    {
        long Extent(int v) => blocks.TryGetValue(v, out var c) ? (space[v].Size + c - 1) / c : space[v].Size;
        long Weight(int v, long x) => blocks.TryGetValue(v, out var c) ? Math.Min(c, space[v].Size - x * c) : 1;
        var total = vars.Aggregate(1L, (a, v) => checked(a * Extent(v)));
        if (total > MaxEnumeration)
            throw new CountingLimitException($"counting this mask needs {total:N0} evaluations; it is too complex for exact analytical counting at this size");
        var predicate = ScalarCompiler.CompilePredicate(condition);
        var point = new long[space.Count];
        long count = 0;
        for (long k = 0; k < total; k++)
        {
            var rem = k;
            long weight = 1;
            foreach (var v in vars)
            {
                var extent = Extent(v);
                point[v] = rem % extent;
                rem /= extent;
                weight *= Weight(v, point[v]);
            }
            if (predicate(point)) count += weight;
        }
        return count;
    }

    private static long Brute(BoundExpr condition, int[] vars, IReadOnlyList<IterationVariable> space) =>
        WeightedBrute(condition, vars, space, []);
}
