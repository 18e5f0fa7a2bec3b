using System.Collections.Immutable;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>
/// Where a mask makes an Einsum's point trivial: its value is known without computing it, because an operand is
/// empty there (sparse semantics: x + empty = max(x, empty) = x), so that the point is an element of an input
/// passed on unchanged, or a constant (exp(x - x) = 1), or empty. In a 1-pass cascade under a causal mask, every
/// running-state update of a key tile that no query of the tile sees is trivial: RM[m1+1] = max(RM[m1], empty) =
/// RM[m1], the correction exp(RM[m1] - RM[m1+1]) = 1, RD[m1+1] = 1 * RD[m1] + empty = RD[m1], and likewise RNV.
/// A machine that skips the tile leaves the state where it is, so these points need no work.
///
/// Only facts that follow from an empty operand count: a dense cascade has no trivial points, so its pricing is
/// unchanged. Facts are sound (each is true of the IR's values), not complete: combinations beyond a few cases per
/// expression are dropped, which only leaves work in.
/// </summary>
public static class TrivialPoints
{
    private const int MaxCases = 12;

    private abstract record Value;
    private sealed record EmptyValue : Value;
    private sealed record ConstValue(double Constant) : Value;
    /// <summary>An element of a tensor, at indices over the current coordinates.</summary>
    private sealed record ElementValue(string Tensor, ImmutableArray<AffineIndex> Indices) : Value
    {
        public bool Equals(ElementValue? o) => o is not null && Tensor == o.Tensor && Indices.AsSpan().SequenceEqual(o.Indices.AsSpan());
        public override int GetHashCode() => Tensor.GetHashCode();
    }

    /// <summary>Where <see cref="Condition"/> holds the value is <see cref="Value"/>; <see cref="FromMask"/>: derived from an empty operand.</summary>
    private sealed record Case(BoundExpr Condition, Value Value, bool FromMask);

    /// <summary>
    /// Per Einsum (cascade order), the condition over its iteration variables under which a point it would compute
    /// (one `analyze` counts) is trivial; null when it has none.
    /// </summary>
    public static ImmutableArray<BoundExpr?> Of(Cascade cascade)
    {
        var supports = new Dictionary<string, BoundExpr?>(StringComparer.Ordinal);
        var facts = new Dictionary<string, List<Case>>(StringComparer.Ordinal); // in the tensor's rank coordinates
        var result = ImmutableArray.CreateBuilder<BoundExpr?>(cascade.Einsums.Length);
        foreach (var e in cascade.Einsums)
        {
            var condition = Support.PointCondition(e, supports);
            var cases = Evaluate(e.Body, e, supports, facts).Where(c => c.FromMask).ToList();
            // A reduction still accumulates a known term, so only an Einsum that reduces nothing has trivial points;
            // empty ones are outside its point condition already.
            BoundExpr? trivial = null;
            if (e.ReduceVariables.IsEmpty)
                foreach (var c in cases.Where(c => c.Value is not EmptyValue))
                    trivial = trivial is null ? c.Condition : Or(trivial, c.Condition);
            result.Add(trivial);
            // Output facts in the output's coordinates: only for Einsums that reduce nothing and write x + constant.
            if (e.ReduceVariables.IsEmpty && cases.Count > 0 && e.Output.Indices.All(i => i.SoleVariable is not null)
                && e.Output.Indices.Select(i => i.SoleVariable!.Value).Distinct().Count() == e.Iteration.Length)
            {
                var map = new Dictionary<int, AffineIndex>();
                for (var d = 0; d < e.Output.Indices.Length; d++)
                {
                    var idx = e.Output.Indices[d];
                    map[idx.SoleVariable!.Value] = new AffineIndex(-idx.Constant, [new AffineTerm(d, "d" + d, 1)]);
                }
                facts[e.Output.Tensor] = [.. cases.Where(c => c.Value is not EmptyValue)
                    .Select(c => new Case(Support.Substitute(c.Condition, map), Substitute(c.Value, map), true))];
            }
            supports[e.Output.Tensor] = Support.OutputSupport(e, condition);
        }
        return result.MoveToImmutable();
    }

    private static Value Substitute(Value v, IReadOnlyDictionary<int, AffineIndex> map) => v switch
    {
        ElementValue el => new ElementValue(el.Tensor, [.. el.Indices.Select(i => Compose(i, map))]),
        _ => v,
    };

    private static AffineIndex Compose(AffineIndex outer, IReadOnlyDictionary<int, AffineIndex> map) =>
        ((IndexValueExpr)Support.Substitute(new IndexValueExpr(outer), map)).Index;

    private static BoundExpr Or(BoundExpr a, BoundExpr b) => a.Equals(b) ? a : new BinaryBound(BinaryFn.Or, a, b);

    private static BoundExpr And(BoundExpr a, BoundExpr b) =>
        a is ConstExpr { Value: not 0 } ? b : b is ConstExpr { Value: not 0 } ? a : a.Equals(b) ? a : new BinaryBound(BinaryFn.And, a, b);

    private static bool False(BoundExpr c) => c is ConstExpr { Value: 0 };

    private static List<Case> Evaluate(BoundExpr x, ExtendedEinsum e, IReadOnlyDictionary<string, BoundExpr?> supports,
        IReadOnlyDictionary<string, List<Case>> facts)
    {
        var always = new ConstExpr(1);
        switch (x)
        {
            case ConstExpr k:
                return [new Case(always, new ConstValue(k.Value), false)];
            case ReadExpr r:
            {
                var access = e.Inputs[r.Input];
                var map = access.Indices.Select((idx, d) => (d, idx)).ToDictionary(t => t.d, t => t.idx);
                var cases = new List<Case>();
                if (supports.GetValueOrDefault(access.Tensor) is { } s)
                    cases.Add(new Case(new UnaryBound(UnaryFn.Not, Support.Substitute(s, map)), new EmptyValue(), true));
                if (facts.TryGetValue(access.Tensor, out var known))
                    foreach (var f in known.Take(MaxCases - 2))
                        cases.Add(new Case(Support.Substitute(f.Condition, map), Substitute(f.Value, map), true));
                cases.Add(new Case(always, new ElementValue(access.Tensor, access.Indices), false));
                return cases;
            }
            case UnaryBound u:
            {
                var result = new List<Case>();
                foreach (var c in Evaluate(u.Operand, e, supports, facts))
                {
                    Value? v = (u.Fn, c.Value) switch
                    {
                        (_, EmptyValue) => c.Value,
                        (UnaryFn.Neg, ConstValue k) => new ConstValue(-k.Constant),
                        (UnaryFn.Exp, ConstValue k) => new ConstValue(Math.Exp(k.Constant)),
                        _ => null,
                    };
                    if (v is not null) result.Add(c with { Value = v });
                }
                return result;
            }
            case BinaryBound b when !b.Fn.IsComparisonOrLogic():
            {
                var left = Evaluate(b.Left, e, supports, facts);
                var right = Evaluate(b.Right, e, supports, facts);
                var result = new List<Case>();
                foreach (var l in left)
                    foreach (var r in right)
                    {
                        if (result.Count >= MaxCases) return result;
                        var v = Combine(b.Fn, l.Value, r.Value, b.Left.Reads().Any() && b.Right.Reads().Any());
                        if (v is null) continue;
                        var cond = And(l.Condition, r.Condition);
                        if (!False(cond)) result.Add(new Case(cond, v, l.FromMask || r.FromMask));
                    }
                return result;
            }
            default:
                return [];
        }
    }

    /// <summary>The value of `a fn b` when it is known from the operands' values alone (sparse semantics); else null.</summary>
    private static Value? Combine(BinaryFn fn, Value a, Value b, bool bothReadTensors)
    {
        bool union = fn is BinaryFn.Add or BinaryFn.Max or BinaryFn.Min && bothReadTensors;
        if (a is EmptyValue) return union ? b : a;
        if (b is EmptyValue) return union ? a : b;
        if (a is ConstValue ka && b is ConstValue kb)
            return fn switch
            {
                BinaryFn.Add => new ConstValue(ka.Constant + kb.Constant),
                BinaryFn.Sub => new ConstValue(ka.Constant - kb.Constant),
                BinaryFn.Mul => new ConstValue(ka.Constant * kb.Constant),
                BinaryFn.Max => new ConstValue(Math.Max(ka.Constant, kb.Constant)),
                BinaryFn.Min => new ConstValue(Math.Min(ka.Constant, kb.Constant)),
                _ => null,
            };
        return fn switch
        {
            BinaryFn.Add when a is ConstValue { Constant: 0 } => b,
            BinaryFn.Add or BinaryFn.Sub when b is ConstValue { Constant: 0 } => a,
            BinaryFn.Mul when a is ConstValue { Constant: 1 } => b,
            BinaryFn.Mul or BinaryFn.Div when b is ConstValue { Constant: 1 } => a,
            BinaryFn.Sub when a is ElementValue ea && b is ElementValue eb && ea.Equals(eb) => new ConstValue(0),
            BinaryFn.Max or BinaryFn.Min when a is ElementValue ea && b is ElementValue eb && ea.Equals(eb) => a,
            _ => null,
        };
    }
}
