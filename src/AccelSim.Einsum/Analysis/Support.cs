using System.Collections.Immutable;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>
/// Where a tensor's elements are present (non-empty), as a boolean condition over its own ranks (variable i = rank i);
/// null means dense. Masks create supports; Einsums propagate them (see <see cref="ExtendedEinsum"/> remarks for the
/// union/intersection rules). Projection onto an output over-approximates conjunctions of several conditions on a
/// reduced variable, which is exact for the masks attention uses (causal, window, block).
/// </summary>
internal static class Support
{
    /// <summary>The condition, over the Einsum's iteration variables, under which a point is computed.</summary>
    /// <remarks>
    /// A data-dependent part of the filter (one that reads tensors) is left out (over-approximated as dense) unless
    /// <paramref name="declared"/>, where it becomes a <see cref="DeclaredMaskExpr"/> of the Einsum's declared density.
    /// </remarks>
    public static BoundExpr? PointCondition(ExtendedEinsum e, IReadOnlyDictionary<string, BoundExpr?> supports, bool declared = false)
    {
        var body = OfExpr(e.Body, e, supports);
        if (!declared) body = WithoutDeclared(body);
        var filter = e.StaticFilter;
        var data = e.DataFilter;
        if (declared && !data.IsEmpty && e.DeclaredDensity is { } density)
        {
            var indices = data.SelectMany(c => c.Reads()).Distinct().SelectMany(r => e.Inputs[r].Indices).Distinct().ToImmutableArray();
            var label = string.Join(" and ", data.Select(c => c.Format(i => e.Inputs[i].ToString())));
            filter = And(filter, new DeclaredMaskExpr(density, label, indices));
        }
        return And(filter, body);
    }

    /// <summary>The condition with every declared-density mask taken as always true (an over-approximation).</summary>
    public static BoundExpr? WithoutDeclared(BoundExpr? x) => x switch
    {
        null => null,
        DeclaredMaskExpr => null,
        BinaryBound { Fn: BinaryFn.And } b => And(WithoutDeclared(b.Left), WithoutDeclared(b.Right)),
        BinaryBound { Fn: BinaryFn.Or } b => Or(WithoutDeclared(b.Left), WithoutDeclared(b.Right)),
        _ => HasDeclared(x) ? null : x,
    };

    public static bool HasDeclared(BoundExpr x) => x switch
    {
        DeclaredMaskExpr => true,
        UnaryBound u => HasDeclared(u.Operand),
        BinaryBound b => HasDeclared(b.Left) || HasDeclared(b.Right),
        _ => false,
    };

    /// <summary>
    /// The output tensor's support, in the output's rank coordinates. An Einsum with an `init:` value is dense: every
    /// element it masks, never reaches, or reduces over nothing holds that starting value (as the interpreter computes).
    /// </summary>
    public static BoundExpr? OutputSupport(ExtendedEinsum e, BoundExpr? pointCondition)
    {
        if (pointCondition is null || e.Init is not null) return null;
        var reduced = e.ReduceVariables.ToHashSet();
        var projected = Project(pointCondition, reduced, e.Iteration);
        if (projected is null) return null;
        // iteration variable v = output dim d - constant
        var map = new Dictionary<int, AffineIndex>();
        for (var d = 0; d < e.Output.Indices.Length; d++)
        {
            var idx = e.Output.Indices[d];
            map[idx.SoleVariable!.Value] = new AffineIndex(-idx.Constant, [new AffineTerm(d, "d" + d, 1)]);
        }
        return Substitute(projected, map);
    }

    private static BoundExpr? OfExpr(BoundExpr x, ExtendedEinsum e, IReadOnlyDictionary<string, BoundExpr?> supports) => x switch
    {
        ReadExpr r => supports.GetValueOrDefault(e.Inputs[r.Input].Tensor) is { } s
            ? Substitute(s, e.Inputs[r.Input].Indices.Select((idx, d) => (d, idx)).ToDictionary(t => t.d, t => t.idx))
            : null,
        UnaryBound u => OfExpr(u.Operand, e, supports),
        // An operand that reads no tensor (a constant, an index value) adds no support: x + c is empty where x is.
        BinaryBound { Fn: BinaryFn.Add or BinaryFn.Max or BinaryFn.Min } b when !b.Left.Reads().Any() => OfExpr(b.Right, e, supports),
        BinaryBound { Fn: BinaryFn.Add or BinaryFn.Max or BinaryFn.Min } b when !b.Right.Reads().Any() => OfExpr(b.Left, e, supports),
        BinaryBound { Fn: BinaryFn.Add or BinaryFn.Max or BinaryFn.Min } b => Or(OfExpr(b.Left, e, supports), OfExpr(b.Right, e, supports)),
        BinaryBound b => And(OfExpr(b.Left, e, supports), OfExpr(b.Right, e, supports)),
        _ => null,
    };

    /// <summary>Intersection; equal sides (a tensor read twice) collapse, so conditions do not double per Einsum.</summary>
    public static BoundExpr? And(BoundExpr? a, BoundExpr? b) =>
        a is null ? b : b is null ? a : a.Equals(b) ? a : new BinaryBound(BinaryFn.And, a, b);

    /// <summary>Union: dense if either side is dense.</summary>
    private static BoundExpr? Or(BoundExpr? a, BoundExpr? b) =>
        a is null || b is null ? null : a.Equals(b) ? a : new BinaryBound(BinaryFn.Or, a, b);

    /// <summary>
    /// Levels (1 for a leaf) and nodes of a condition's tree, without recursion; the walk stops once either passes its
    /// limit, so measuring a condition that grew too large stays cheap.
    /// </summary>
    public static (int Depth, int Nodes) Measure(BoundExpr x, int maxDepth, int maxNodes)
    {
        int deepest = 0, nodes = 0;
        var work = new Stack<(BoundExpr Node, int Level)>();
        work.Push((x, 1));
        while (work.Count > 0 && deepest <= maxDepth && nodes <= maxNodes)
        {
            var (node, level) = work.Pop();
            deepest = Math.Max(deepest, level);
            nodes++;
            switch (node)
            {
                case UnaryBound u: work.Push((u.Operand, level + 1)); break;
                case BinaryBound b: work.Push((b.Left, level + 1)); work.Push((b.Right, level + 1)); break;
                case BlockMaskExpr m: work.Push((m.RowBlock, level + 1)); work.Push((m.ColBlock, level + 1)); break;
                case TopKExpr t: work.Push((t.Operand, level + 1)); break;
            }
        }
        return (deepest, nodes);
    }

    /// <summary>Replaces variable v by <paramref name="map"/>[v] (affine), everywhere in a condition.</summary>
    public static BoundExpr Substitute(BoundExpr x, IReadOnlyDictionary<int, AffineIndex> map) => x switch
    {
        IndexValueExpr i => new IndexValueExpr(Compose(i.Index, map)),
        UnaryBound u => u with { Operand = Substitute(u.Operand, map) },
        BinaryBound b => b with { Left = Substitute(b.Left, map), Right = Substitute(b.Right, map) },
        BlockMaskExpr m => m with { RowBlock = Substitute(m.RowBlock, map), ColBlock = Substitute(m.ColBlock, map) },
        DeclaredMaskExpr d => d with { Indices = [.. d.Indices.Select(i => Compose(i, map))] },
        _ => x,
    };

    private static AffineIndex Compose(AffineIndex outer, IReadOnlyDictionary<int, AffineIndex> map)
    {
        var constant = outer.Constant;
        var terms = new Dictionary<int, (string Name, long Coefficient)>();
        foreach (var t in outer.Terms)
        {
            var inner = map[t.Variable];
            constant = checked(constant + t.Coefficient * inner.Constant);
            foreach (var it in inner.Terms)
            {
                var prev = terms.GetValueOrDefault(it.Variable, (it.VariableName, 0));
                terms[it.Variable] = (it.VariableName, checked(prev.Item2 + t.Coefficient * it.Coefficient));
            }
        }
        return new AffineIndex(constant, [.. terms.Where(kv => kv.Value.Coefficient != 0).OrderBy(kv => kv.Key)
            .Select(kv => new AffineTerm(kv.Key, kv.Value.Name, kv.Value.Coefficient))]);
    }

    /// <summary>Existentially quantifies the reduced variables out of a condition (null = always true).</summary>
    private static BoundExpr? Project(BoundExpr c, HashSet<int> reduced, IReadOnlyList<IterationVariable> space)
    {
        if (!Uses(c, reduced)) return c;
        switch (c)
        {
            case BinaryBound { Fn: BinaryFn.Or } b:
                var l = Project(b.Left, reduced, space);
                var r = Project(b.Right, reduced, space);
                return l is null || r is null ? null : new BinaryBound(BinaryFn.Or, l, r);
            case BinaryBound { Fn: BinaryFn.And } b:
                return And(Project(b.Left, reduced, space), Project(b.Right, reduced, space));
            case BinaryBound b when LinearAtom.TryFrom(b) is { Op: BinaryFn.Le or BinaryFn.Lt } atom:
                // exists x in [0, n): f(x) (op) 0  <=>  min over x of f (op) 0
                var form = atom.Form;
                var rest = new Dictionary<int, double>();
                var k = form.Constant;
                foreach (var (v, coef) in form.Coefficients)
                {
                    if (!reduced.Contains(v)) { rest[v] = coef; continue; }
                    if (coef < 0) k += coef * (space[v].Size - 1);
                }
                return ToBound(rest, k, atom.Op, space);
            default:
                return null; // a condition we cannot project: treat the output as dense there
        }
    }

    private static BoundExpr ToBound(Dictionary<int, double> coefficients, double constant, BinaryFn op, IReadOnlyList<IterationVariable> space)
    {
        BoundExpr sum = new ConstExpr(constant);
        foreach (var (v, c) in coefficients)
            sum = new BinaryBound(BinaryFn.Add, sum,
                new BinaryBound(BinaryFn.Mul, new ConstExpr(c), new IndexValueExpr(new AffineIndex(0, [new AffineTerm(v, space[v].Name, 1)]))));
        return new BinaryBound(op, sum, new ConstExpr(0));
    }

    public static bool Uses(BoundExpr x, HashSet<int> vars) => x switch
    {
        IndexValueExpr i => i.Index.Terms.Any(t => vars.Contains(t.Variable)),
        UnaryBound u => Uses(u.Operand, vars),
        BinaryBound b => Uses(b.Left, vars) || Uses(b.Right, vars),
        BlockMaskExpr m => Uses(m.RowBlock, vars) || Uses(m.ColBlock, vars),
        DeclaredMaskExpr d => d.Indices.Any(i => i.Terms.Any(t => vars.Contains(t.Variable))),
        _ => false,
    };

    public static void CollectVariables(BoundExpr x, HashSet<int> into)
    {
        switch (x)
        {
            case IndexValueExpr i: foreach (var t in i.Index.Terms) into.Add(t.Variable); break;
            case UnaryBound u: CollectVariables(u.Operand, into); break;
            case BinaryBound b: CollectVariables(b.Left, into); CollectVariables(b.Right, into); break;
            case BlockMaskExpr m: CollectVariables(m.RowBlock, into); CollectVariables(m.ColBlock, into); break;
            case DeclaredMaskExpr d: foreach (var i in d.Indices) foreach (var t in i.Terms) into.Add(t.Variable); break;
        }
    }
}
