using System.Collections.Immutable;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>
/// One digit of an iteration variable's index in a loop nest: <see cref="Factor"/> values, and whether the digit
/// varies inside a tile (<see cref="Inside"/>) or places the tile (outside). A variable's digits are listed most
/// significant first; a digit's stride is the product of the factors after it.
/// </summary>
public readonly record struct TileDigit(long Factor, bool Inside);

/// <summary>
/// Counts the tiles of a loop nest that a mask leaves non-empty: the outside-digit vectors for which some point of
/// the tile (some value of the inside digits) satisfies the condition. The condition is rewritten over the outside
/// digits and counted by <see cref="PointCounter"/>:
/// * a linear comparison `f (op) 0` holds somewhere in the tile iff it holds at the tile's extreme value of f (each
///   inside digit at 0 or at its largest value by the sign of its coefficient): exact, for any tile shape;
/// * `or` is exact (a tile is non-empty for a union iff it is for one side); `and` keeps a tile when each side
///   holds somewhere in it, which over-counts only when the sides hold in disjoint parts of one tile (never for
///   causal, window, sink or head conditions, whose sides are extreme at the same corner of the tile);
/// * any other condition (block masks, `//`, non-linear comparisons) is exact when the tile does not vary its
///   variables, or varies them only below a block: `v // c` with the inside of v the low digits [0, r) and r
///   dividing c becomes `outside // (c / r)`. Otherwise the tile is kept (counted as non-empty).
/// Over-counting only ever keeps work, never drops it: the count is at least the exact one.
/// </summary>
public static class TileCounter
{
    /// <summary>Iteration variables the condition reads.</summary>
    public static ImmutableArray<int> UsedVariables(BoundExpr condition)
    {
        var used = new HashSet<int>();
        Support.CollectVariables(condition, used);
        return [.. used.Order()];
    }

    /// <summary>
    /// The condition over its used variables only, renumbered 0, 1, ... in order, with their sizes: equal for two
    /// Einsums whose masks agree on the variables they read (e.g. QK, SLN and SLNV of an attention cascade), so that
    /// their tile counts can be shared.
    /// </summary>
    public static (BoundExpr Condition, ImmutableArray<IterationVariable> Space) Normalize(BoundExpr condition, IReadOnlyList<IterationVariable> space)
    {
        var used = UsedVariables(condition);
        var map = new Dictionary<int, AffineIndex>();
        for (int i = 0; i < used.Length; i++) map[used[i]] = new AffineIndex(0, [new AffineTerm(i, "v" + i, 1)]);
        return (Support.Substitute(condition, map), [.. used.Select((v, i) => new IterationVariable("v" + i, "V" + i, space[v].Size))]);
    }

    /// <summary>
    /// Non-empty tiles. <paramref name="digits"/>[v] lists variable v's digits (their factors multiply to its size);
    /// variables the condition does not read contribute the product of their outside factors.
    /// </summary>
    public static long NonEmpty(BoundExpr condition, IReadOnlyList<IterationVariable> space, IReadOnlyList<IReadOnlyList<TileDigit>> digits)
    {
        var used = UsedVariables(condition).ToHashSet();
        long others = 1;
        var tileSpace = new List<IterationVariable>();
        var outside = new Dictionary<int, List<(int Var, long Stride)>>();
        var insideMax = new Dictionary<int, long>();
        var insideLow = new Dictionary<int, long>(); // r when the inside digits are exactly the low digits [0, r)
        for (int v = 0; v < space.Count; v++)
        {
            var ds = digits[v];
            if (!used.Contains(v))
            {
                foreach (var d in ds) if (!d.Inside) others = checked(others * d.Factor);
                continue;
            }
            long stride = 1, max = 0;
            bool low = true;
            long lowRange = 1;
            var terms = new List<(int, long)>();
            for (int k = ds.Count - 1; k >= 0; k--)
            {
                var d = ds[k];
                if (d.Factor > 1)
                {
                    if (d.Inside)
                    {
                        max += (d.Factor - 1) * stride;
                        if (low) lowRange *= d.Factor;
                    }
                    else
                    {
                        low = false;
                        terms.Add((tileSpace.Count, stride));
                        tileSpace.Add(new IterationVariable($"{space[v].Name}#{k}", space[v].Rank, d.Factor));
                    }
                }
                stride = checked(stride * d.Factor);
            }
            outside[v] = terms;
            insideMax[v] = max;
            // Inside digits all below every outside digit: the tile covers [r*T, r*T + r).
            bool contiguous = max == lowRange - 1;
            if (contiguous) insideLow[v] = lowRange;
        }
        var rewritten = Exists(condition, false, outside, insideMax, insideLow, tileSpace);
        return checked(others * PointCounter.Count(rewritten, tileSpace));
    }

    private static BoundExpr Exists(BoundExpr c, bool negate, Dictionary<int, List<(int Var, long Stride)>> outside,
        Dictionary<int, long> insideMax, Dictionary<int, long> insideLow, List<IterationVariable> tileSpace)
    {
        BoundExpr Recurse(BoundExpr x, bool n) => Exists(x, n, outside, insideMax, insideLow, tileSpace);
        switch (c)
        {
            case ConstExpr k:
                return new ConstExpr(((k.Value != 0) ^ negate) ? 1 : 0);
            case UnaryBound { Fn: UnaryFn.Not } u:
                return Recurse(u.Operand, !negate);
            case BinaryBound { Fn: BinaryFn.And or BinaryFn.Or } b:
                var fn = (b.Fn == BinaryFn.And) ^ negate ? BinaryFn.And : BinaryFn.Or;
                return new BinaryBound(fn, Recurse(b.Left, negate), Recurse(b.Right, negate));
            case BinaryBound b when LinearAtom.TryFrom(b) is { } atom:
                return Linear(negate ? Negate(atom) : atom, outside, insideMax, tileSpace);
        }
        // Opaque: exact when the inside digits cannot change it.
        bool ok = true;
        var replaced = Opaque(c, outside, insideMax, insideLow, tileSpace, ref ok);
        if (!ok) return new ConstExpr(1);
        return negate ? new UnaryBound(UnaryFn.Not, replaced) : replaced;
    }

    private static LinearAtom Negate(LinearAtom a) => a.Op switch
    {
        BinaryFn.Le => new LinearAtom(a.Form.Times(-1), BinaryFn.Lt),
        BinaryFn.Lt => new LinearAtom(a.Form.Times(-1), BinaryFn.Le),
        BinaryFn.Eq => a with { Op = BinaryFn.Ne },
        _ => a with { Op = BinaryFn.Eq },
    };

    /// <summary>`f (op) 0` somewhere in the tile, over the outside digits.</summary>
    private static BoundExpr Linear(LinearAtom atom, Dictionary<int, List<(int Var, long Stride)>> outside, Dictionary<int, long> insideMax,
        List<IterationVariable> tileSpace)
    {
        var coef = new Dictionary<int, double>();
        double lo = atom.Form.Constant, hi = atom.Form.Constant;
        foreach (var (v, c) in atom.Form.Coefficients)
        {
            foreach (var (t, stride) in outside[v]) coef[t] = coef.GetValueOrDefault(t) + c * stride;
            var span = c * insideMax[v];
            if (span < 0) lo += span; else hi += span;
        }
        BoundExpr Form(double constant)
        {
            BoundExpr sum = new ConstExpr(constant);
            foreach (var (t, k) in coef)
                if (k != 0)
                    sum = new BinaryBound(BinaryFn.Add, sum, new BinaryBound(BinaryFn.Mul, new ConstExpr(k),
                        new IndexValueExpr(new AffineIndex(0, [new AffineTerm(t, tileSpace[t].Name, 1)]))));
            return sum;
        }
        var zero = new ConstExpr(0);
        return atom.Op switch
        {
            BinaryFn.Le => new BinaryBound(BinaryFn.Le, Form(lo), zero),
            BinaryFn.Lt => new BinaryBound(BinaryFn.Lt, Form(lo), zero),
            // f takes 0 somewhere between its extremes (exact for unit steps; otherwise the tile may be kept needlessly).
            BinaryFn.Eq => new BinaryBound(BinaryFn.And, new BinaryBound(BinaryFn.Le, Form(lo), zero), new BinaryBound(BinaryFn.Ge, Form(hi), zero)),
            // f != 0 somewhere unless it is the constant 0 over the tile.
            _ => hi > lo ? new ConstExpr(1) : new BinaryBound(BinaryFn.Ne, Form(lo), zero),
        };
    }

    private static BoundExpr Opaque(BoundExpr e, Dictionary<int, List<(int Var, long Stride)>> outside, Dictionary<int, long> insideMax,
        Dictionary<int, long> insideLow, List<IterationVariable> tileSpace, ref bool ok)
    {
        switch (e)
        {
            case BinaryBound { Fn: BinaryFn.FloorDiv, Left: IndexValueExpr { Index: { Constant: 0, Terms: [{ Coefficient: 1 } t] } }, Right: ConstExpr k }
                when insideMax[t.Variable] > 0 && insideLow.TryGetValue(t.Variable, out var r) && k.Value >= 1 && k.Value == Math.Floor(k.Value) && (long)k.Value % r == 0:
                // (r*T + u) // c with u < r and r | c is T // (c / r).
                var terms = outside[t.Variable].Select(o => new AffineTerm(o.Var, tileSpace[o.Var].Name, o.Stride / r)).ToImmutableArray();
                return new BinaryBound(BinaryFn.FloorDiv, new IndexValueExpr(new AffineIndex(0, terms)), new ConstExpr(k.Value / r));
            case IndexValueExpr i:
                long constant = i.Index.Constant;
                var sum = new Dictionary<int, long>();
                foreach (var term in i.Index.Terms)
                {
                    if (insideMax[term.Variable] > 0) { ok = false; return e; }
                    foreach (var (v, stride) in outside[term.Variable]) sum[v] = sum.GetValueOrDefault(v) + term.Coefficient * stride;
                }
                return new IndexValueExpr(new AffineIndex(constant,
                    [.. sum.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key).Select(kv => new AffineTerm(kv.Key, tileSpace[kv.Key].Name, kv.Value))]));
            case UnaryBound u:
                return u with { Operand = Opaque(u.Operand, outside, insideMax, insideLow, tileSpace, ref ok) };
            case BinaryBound b:
                var l = Opaque(b.Left, outside, insideMax, insideLow, tileSpace, ref ok);
                var rr = Opaque(b.Right, outside, insideMax, insideLow, tileSpace, ref ok);
                return b with { Left = l, Right = rr };
            case BlockMaskExpr m:
                var row = Opaque(m.RowBlock, outside, insideMax, insideLow, tileSpace, ref ok);
                var col = Opaque(m.ColBlock, outside, insideMax, insideLow, tileSpace, ref ok);
                return m with { RowBlock = row, ColBlock = col };
            default:
                return e;
        }
    }
}

/// <summary>The condition under which each Einsum of a cascade computes a point: its mask and its inputs' supports.</summary>
public static class MaskConditions
{
    /// <summary>Per Einsum (cascade order), the point condition `analyze` counts; null where the Einsum is dense.</summary>
    public static ImmutableArray<BoundExpr?> Of(Cascade cascade)
    {
        var supports = new Dictionary<string, BoundExpr?>(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<BoundExpr?>(cascade.Einsums.Length);
        foreach (var e in cascade.Einsums)
        {
            var condition = Support.PointCondition(e, supports);
            supports[e.Output.Tensor] = Support.OutputSupport(e, condition);
            result.Add(condition);
        }
        return result.MoveToImmutable();
    }
}
