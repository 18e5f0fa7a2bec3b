using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>
/// Counts the points of an iteration space that satisfy a condition (a mask and/or operand supports), exactly and in
/// time linear in the number of tiles rather than points. Block-mask atoms see their variables only through tile
/// functions such as `p // 64`, so they are constant on each tile; affine atoms (causal, window, comparisons) are
/// decided on whole boxes from their corners. The space is split, along tile boundaries, into boxes on which the
/// condition is decided (counted by volume), purely affine (counted by <see cref="AffineCounter"/>, O(rows)) or purely
/// block-wise (each tile evaluated once). Conditions with other atoms fall back to <see cref="PointwiseCounter"/>.
/// </summary>
public static class PointCounter
{
    /// <summary>Enumeration budget; beyond it counting stops with an explanation rather than running for hours.</summary>
    public const long MaxEnumeration = 400_000_000;

    /// <summary>Tiles evaluated one by one (a hash each, a few ns) before counting stops with an explanation.</summary>
    public const long MaxTileEvaluations = 4_000_000_000;

    public static long Count(BoundExpr? condition, IReadOnlyList<IterationVariable> space) => Count(condition, space, null);

    /// <summary>
    /// Counts a condition that may hold declared-density masks (<see cref="DeclaredMaskExpr"/>): the top-level ones
    /// scale the exact count of the rest by their densities; any nested deeper is taken as always true.
    /// <paramref name="note"/> names the declared masks (null when the count is exact).
    /// </summary>
    internal static long CountDeclared(BoundExpr? condition, IReadOnlyList<IterationVariable> space, CountCache? cache, out string? note)
    {
        var declared = new List<DeclaredMaskExpr>();
        BoundExpr? rest = null;
        void Split(BoundExpr? c)
        {
            switch (c)
            {
                case null: break;
                case DeclaredMaskExpr d: if (!declared.Contains(d)) declared.Add(d); break;
                case BinaryBound { Fn: BinaryFn.And } b: Split(b.Left); Split(b.Right); break;
                default: rest = Support.And(rest, c); break;
            }
        }
        Split(condition);
        var exact = Count(Support.WithoutDeclared(rest), space, cache);
        var nested = rest is not null && Support.HasDeclared(rest);
        if (declared.Count == 0 && !nested) { note = null; return exact; }
        var fraction = declared.Aggregate(1.0, (a, d) => a * d.Density);
        note = string.Join("; ", declared.Select(d => d.Format(_ => "?")).Concat(nested ? ["a data-dependent mask reached through an input (taken as dense)"] : []));
        return (long)Math.Round(fraction * exact);
    }

    /// <summary>As <see cref="Count(BoundExpr?, IReadOnlyList{IterationVariable})"/>, remembering counts in
    /// <paramref name="cache"/>: the Einsums of a cascade often count the same mask over the same ranks.</summary>
    internal static long Count(BoundExpr? condition, IReadOnlyList<IterationVariable> space, CountCache? cache)
    {
        var dense = space.Aggregate(1L, (a, v) => checked(a * v.Size));
        if (condition is null) return dense;
        var vars = VariablesInOrderOfAppearance(condition);
        var used = vars.ToHashSet();
        var others = space.Where((_, i) => !used.Contains(i)).Aggregate(1L, (a, v) => checked(a * v.Size));
        // Renumber the variables the condition uses 0..k-1 as they appear, so that the same mask read by Einsums
        // with other iteration orders (QK[b,h,m,p] and MX[b,h,p] = max[m] QK) shares one count.
        var map = new Dictionary<int, AffineIndex>();
        for (var i = 0; i < vars.Length; i++) map[vars[i]] = new AffineIndex(0, [new AffineTerm(i, "v" + i, 1)]);
        var canonical = Support.Substitute(condition, map);
        var sizes = vars.Select(v => space[v].Size).ToArray();
        var key = (canonical, string.Join(",", sizes));
        if (cache is null || !cache.Counts.TryGetValue(key, out var count))
        {
            count = CountCanonical(canonical, sizes, cache);
            cache?.Counts.Add(key, count);
        }
        return checked(others * count);
    }

    private static int[] VariablesInOrderOfAppearance(BoundExpr condition)
    {
        var order = new List<int>();
        void Walk(BoundExpr e)
        {
            switch (e)
            {
                case IndexValueExpr i:
                    foreach (var t in i.Index.Terms) if (!order.Contains(t.Variable)) order.Add(t.Variable);
                    break;
                case UnaryBound u: Walk(u.Operand); break;
                case BinaryBound b: Walk(b.Left); Walk(b.Right); break;
                case BlockMaskExpr m: Walk(m.RowBlock); Walk(m.ColBlock); break;
            }
        }
        Walk(condition);
        return [.. order];
    }

    private static long CountCanonical(BoundExpr condition, long[] sizes, CountCache? cache)
    {
        var builder = new MaskBuilder(sizes.Length);
        if (builder.Build(condition) is { } formula && Tiling.Create(builder.Slots, sizes) is { } tiling)
            return new BoxCounter(builder.Atoms, tiling, sizes).Count(formula, cache);
        var space = sizes.Select((n, i) => new IterationVariable("v" + i, "V" + i, n)).ToArray();
        return PointwiseCounter.Count(condition, space);
    }
}

/// <summary>Counts already made during one analysis, by canonical condition and sizes.</summary>
internal sealed class CountCache
{
    public Dictionary<(BoundExpr Condition, string Sizes), long> Counts { get; } = [];

    /// <summary>By formula once simplified over the whole space: the supports that downstream Einsums add to a
    /// mask (`p >= 0` once the key rank is reduced) are always true and vanish there.</summary>
    public Dictionary<string, long> Formulas { get; } = [];
}

/// <summary>
/// The tiles of each variable: maximal runs on which every tile function of that variable is constant
/// (a variable no tile function reads is one tile), and each tile function's value per tile.
/// </summary>
internal sealed class Tiling
{
    public required long[][] Starts { get; init; } // per variable, first index of each tile
    public required long[] Sizes { get; init; }
    public required long[][] SlotValues { get; init; } // per slot, its value on each tile of its variable
    public required TileFn[] Slots { get; init; }

    public long End(int v, int t) => t + 1 < Starts[v].Length ? Starts[v][t + 1] - 1 : Sizes[v] - 1;

    public static Tiling? Create(IReadOnlyList<TileFn> slots, long[] sizes)
    {
        var starts = new long[sizes.Length][];
        for (var v = 0; v < sizes.Length; v++)
        {
            var fns = slots.Where(s => s.Variable == v).ToArray();
            var n = sizes[v];
            if (fns.Length == 0) { starts[v] = [0]; continue; }
            long estimate = 1;
            foreach (var f in fns) estimate += Math.Max(0, f.At(n - 1) - f.At(0));
            if (estimate > MaxTilesPerVariable) return null;
            var cuts = new List<long> { 0 };
            foreach (var f in fns)
                // f steps up to value j at the first v with A*v + K >= C*j
                for (var j = f.At(0) + 1; j <= f.At(n - 1); j++)
                    cuts.Add(IntMath.CeilDiv(checked(f.C * j - f.K), f.A));
            cuts.Sort();
            starts[v] = [.. cuts.Distinct()];
        }
        var values = slots.Select(s => starts[s.Variable].Select(s.At).ToArray()).ToArray();
        return new Tiling { Starts = starts, Sizes = sizes, SlotValues = values, Slots = [.. slots] };
    }

    /// <summary>Tiles one variable may have; beyond it the condition is counted point by point.</summary>
    private const long MaxTilesPerVariable = 1 << 24;
}

/// <summary>The recursive box counting of <see cref="PointCounter"/> for one condition.</summary>
internal sealed class BoxCounter(List<Atom> atoms, Tiling tiling, long[] sizes)
{
    private enum Tri { False, True, Unknown }

    private sealed record Box(int[] Active, long[] Lo, long[] Hi, int[] TLo, int[] THi)
    {
        public long Volume => Active.Aggregate(1L, (a, v) => checked(a * (Hi[v] - Lo[v] + 1)));
        public Box Copy() => new(Active, (long[])Lo.Clone(), (long[])Hi.Clone(), (int[])TLo.Clone(), (int[])THi.Clone());
    }

    /// <summary>Sweeps of fewer tiles interpret the condition; compiling one costs about as much as 20,000 evaluations.</summary>
    private const long CompileAbove = 20_000;

    private readonly Dictionary<BoundExpr, Func<long[], bool>> _compiled = [];
    private readonly long[] _slotBuffer = new long[tiling.Slots.Length];

    public long Count(Formula formula, CountCache? cache)
    {
        formula = Simplify(formula, FullBox([.. Enumerable.Range(0, sizes.Length)]));
        if (cache is null) return CountSimplified(formula);
        var key = Describe(formula) + " over " + string.Join(",", sizes);
        if (!cache.Formulas.TryGetValue(key, out var count)) cache.Formulas[key] = count = CountSimplified(formula);
        return count;
    }

    private string Describe(Formula f) => f switch
    {
        FConst c => c.Value ? "true" : "false",
        FAtom a => atoms[a.Index] switch
        {
            LinearLe l => $"[{string.Join(" ", l.Coefficients)} {l.Constant} <= 0]",
            TileAtom t => $"[{t.Slotted.Format(_ => "?")} with {string.Join(" ", t.Slots.Select(s => $"s{s}=({tiling.Slots[s].A}*v{tiling.Slots[s].Variable}+{tiling.Slots[s].K})//{tiling.Slots[s].C}"))}]",
            _ => "?",
        },
        FNot n => "not " + Describe(n.Operand),
        FAnd a => "and(" + string.Join(", ", a.Parts.Select(Describe)) + ")",
        FOr o => "or(" + string.Join(", ", o.Parts.Select(Describe)) + ")",
        _ => "?",
    };

    private long CountSimplified(Formula formula)
    {
        // Top-level conjuncts over disjoint variables are independent: count each over its own variables.
        var parts = AffineCounter.Conjuncts(formula);
        var partVars = parts.Select(VariablesOf).ToArray();
        var parent = Enumerable.Range(0, sizes.Length).ToArray();
        int Find(int v) => parent[v] == v ? v : parent[v] = Find(parent[v]);
        foreach (var vs in partVars)
            for (var i = 1; i < vs.Length; i++) parent[Find(vs[i])] = Find(vs[0]);
        for (var i = 0; i < parts.Count; i++)
            if (partVars[i].Length == 0 && !AffineCounter.Holds(parts[i], a => Evaluate(a, FullBox([])) == Tri.True)) return 0;
        long total = 1;
        for (var v = 0; v < sizes.Length; v++)
            if (!partVars.Any(vs => vs.Contains(v))) total = checked(total * sizes[v]);
        foreach (var group in Enumerable.Range(0, sizes.Length).Where(v => partVars.Any(vs => vs.Contains(v))).GroupBy(Find))
        {
            var vars = group.ToArray();
            var members = parts.Where((_, i) => partVars[i].Length > 0 && vars.Contains(partVars[i][0])).ToArray();
            var count = CountBox(members.Length == 1 ? members[0] : new FAnd(members), FullBox(vars));
            if (count == 0) return 0;
            total = checked(total * count);
        }
        return total;
    }

    private Box FullBox(int[] active) => new(active, new long[sizes.Length], [.. sizes.Select(n => n - 1)],
        new int[sizes.Length], [.. tiling.Starts.Select(s => s.Length - 1)]);

    private int[] VariablesOf(Formula f) => [.. AffineCounter.AtomsOf(f).SelectMany(a => atoms[a] switch
    {
        LinearLe l => Enumerable.Range(0, sizes.Length).Where(l.Uses),
        TileAtom t => t.Variables,
        _ => [],
    }).Distinct().Order()];

    private long CountBox(Formula f, Box box)
    {
        var s = Simplify(f, box);
        if (s is FConst c) return c.Value ? box.Volume : 0;
        var ids = AffineCounter.AtomsOf(s).ToArray();
        var tiles = ids.Where(a => atoms[a] is TileAtom).ToArray();
        if (tiles.Length == 0) return AffineCounter.Count(s, atoms, box.Active, box.Lo, box.Hi);
        if (tiles.Length == ids.Length) return Sweep(s, tiles, box);
        // Mixed: split the box at a tile boundary of the undecided block atoms' widest variable.
        var v = tiles.SelectMany(a => ((TileAtom)atoms[a]).Variables).MaxBy(x => box.THi[x] - box.TLo[x]);
        var mid = (box.TLo[v] + box.THi[v] + 1) / 2;
        var left = box.Copy();
        left.THi[v] = mid - 1;
        left.Hi[v] = tiling.Starts[v][mid] - 1;
        var right = box.Copy();
        right.TLo[v] = mid;
        right.Lo[v] = tiling.Starts[v][mid];
        return checked(CountBox(s, left) + CountBox(s, right));
    }

    private Formula Simplify(Formula f, Box box)
    {
        switch (f)
        {
            case FConst: return f;
            case FAtom a:
                var t = Evaluate(a.Index, box);
                return t == Tri.Unknown ? f : FConst.Of(t == Tri.True);
            case FNot n:
                var o = Simplify(n.Operand, box);
                return o is FConst c ? FConst.Of(!c.Value) : o == n.Operand ? f : new FNot(o);
            case FAnd and:
                return Combine(and.Parts, box, isAnd: true, f);
            case FOr or:
                return Combine(or.Parts, box, isAnd: false, f);
            default: throw new ArgumentOutOfRangeException(nameof(f));
        }
    }

    private Formula Combine(Formula[] parts, Box box, bool isAnd, Formula original)
    {
        var kept = new List<Formula>(parts.Length);
        var changed = false;
        foreach (var p in parts)
        {
            var s = Simplify(p, box);
            if (s is FConst c)
            {
                if (c.Value != isAnd) return FConst.Of(!isAnd); // false in an and, true in an or
                changed = true;
                continue;
            }
            changed |= s != p;
            kept.Add(s);
        }
        if (kept.Count == 0) return FConst.Of(isAnd);
        if (!changed) return original;
        return kept.Count == 1 ? kept[0] : isAnd ? new FAnd([.. kept]) : new FOr([.. kept]);
    }

    private Tri Evaluate(int atom, Box box)
    {
        switch (atoms[atom])
        {
            case LinearLe l:
                long min = l.Constant, max = l.Constant;
                for (var v = 0; v < sizes.Length; v++)
                {
                    var c = l.Coefficients[v];
                    if (c == 0) continue;
                    var a = checked(c * box.Lo[v]);
                    var b = checked(c * box.Hi[v]);
                    min = checked(min + Math.Min(a, b));
                    max = checked(max + Math.Max(a, b));
                }
                return max <= 0 ? Tri.True : min > 0 ? Tri.False : Tri.Unknown;
            case TileAtom t:
                foreach (var v in t.Variables)
                    if (box.TLo[v] != box.THi[v]) return Tri.Unknown;
                foreach (var s in t.Slots)
                    _slotBuffer[s] = tiling.SlotValues[s][box.TLo[tiling.Slots[s].Variable]];
                return ScalarEvaluator.Truth(t.Slotted, _slotBuffer) ? Tri.True : Tri.False;
            default: return Tri.Unknown;
        }
    }

    /// <summary>Every tile of the box evaluated once, weighted by its number of points.</summary>
    private long Sweep(Formula f, int[] ids, Box box)
    {
        var vars = ids.SelectMany(a => ((TileAtom)atoms[a]).Variables).Distinct()
            .OrderBy(v => box.THi[v] - box.TLo[v]).ToArray(); // the variable with most tiles innermost
        var tileCount = vars.Aggregate(1L, (a, v) => checked(a * (box.THi[v] - box.TLo[v] + 1)));
        if (tileCount > PointCounter.MaxTileEvaluations)
            throw new CountingLimitException($"counting this mask needs {tileCount:N0} tile evaluations; it is too complex for exact analytical counting at this size");
        var expr = ToExpr(f);
        if (!_compiled.TryGetValue(expr, out var predicate))
        {
            if (tileCount < CompileAbove) predicate = slotValues => ScalarEvaluator.Truth(expr, slotValues);
            else _compiled[expr] = predicate = ScalarCompiler.CompilePredicate(expr);
        }
        var rest = box.Active.Where(v => !vars.Contains(v)).Aggregate(1L, (a, v) => checked(a * (box.Hi[v] - box.Lo[v] + 1)));
        var slots = new long[tiling.Slots.Length];
        var slotsOf = vars.Select(v => Enumerable.Range(0, tiling.Slots.Length).Where(s => tiling.Slots[s].Variable == v).ToArray()).ToArray();
        var inner = vars.Length - 1;
        var innerVar = vars[inner];
        var innerSlots = slotsOf[inner];
        var innerValues = innerSlots.Select(s => tiling.SlotValues[s]).ToArray();
        int t0 = box.TLo[innerVar], t1 = box.THi[innerVar];
        var weights = new long[t1 - t0 + 1];
        for (var t = t0; t <= t1; t++) weights[t - t0] = tiling.End(innerVar, t) - tiling.Starts[innerVar][t] + 1;

        var outer = new int[inner];
        for (var j = 0; j < inner; j++) outer[j] = box.TLo[vars[j]];
        long total = 0;
        while (true)
        {
            long weight = 1;
            for (var j = 0; j < inner; j++)
            {
                var v = vars[j];
                var t = outer[j];
                foreach (var s in slotsOf[j]) slots[s] = tiling.SlotValues[s][t];
                weight *= tiling.End(v, t) - tiling.Starts[v][t] + 1;
            }
            long run = 0;
            for (var t = t0; t <= t1; t++)
            {
                for (var s = 0; s < innerSlots.Length; s++) slots[innerSlots[s]] = innerValues[s][t];
                if (predicate(slots)) run += weights[t - t0];
            }
            total = checked(total + run * weight);
            var k = 0;
            for (; k < inner; k++)
            {
                if (++outer[k] <= box.THi[vars[k]]) break;
                outer[k] = box.TLo[vars[k]];
            }
            if (k == inner) break;
        }
        return checked(total * rest);
    }

    private BoundExpr ToExpr(Formula f) => f switch
    {
        FConst c => new ConstExpr(c.Value ? 1 : 0),
        FAtom a => ((TileAtom)atoms[a.Index]).Slotted,
        FNot n => new UnaryBound(UnaryFn.Not, ToExpr(n.Operand)),
        FAnd a => a.Parts.Select(ToExpr).Aggregate((l, r) => new BinaryBound(BinaryFn.And, l, r)),
        FOr o => o.Parts.Select(ToExpr).Aggregate((l, r) => new BinaryBound(BinaryFn.Or, l, r)),
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };
}
