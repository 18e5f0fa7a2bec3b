using System.Collections.Immutable;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>`sum_v c_v * x_v + k` over the variables of an iteration space (coefficients may be fractional).</summary>
internal sealed record LinearForm(ImmutableDictionary<int, double> Coefficients, double Constant)
{
    public static LinearForm Const(double k) => new(ImmutableDictionary<int, double>.Empty, k);

    public static LinearForm From(AffineIndex index) => new(
        index.Terms.GroupBy(t => t.Variable).ToImmutableDictionary(g => g.Key, g => (double)g.Sum(t => t.Coefficient)),
        index.Constant);

    public double Coefficient(int v) => Coefficients.GetValueOrDefault(v);

    public LinearForm Plus(LinearForm o, double sign = 1)
    {
        var c = Coefficients.ToBuilder();
        foreach (var (v, k) in o.Coefficients) c[v] = c.GetValueOrDefault(v) + sign * k;
        foreach (var z in c.Where(kv => kv.Value == 0).Select(kv => kv.Key).ToList()) c.Remove(z);
        return new LinearForm(c.ToImmutable(), Constant + sign * o.Constant);
    }

    public LinearForm Times(double k) =>
        k == 0 ? Const(0) : new(Coefficients.ToImmutableDictionary(kv => kv.Key, kv => kv.Value * k), Constant * k);

    /// <summary>Tries to read a numeric expression as a linear form; null when it is not linear.</summary>
    public static LinearForm? TryFrom(BoundExpr e) => e switch
    {
        ConstExpr c => Const(c.Value),
        IndexValueExpr i => From(i.Index),
        UnaryBound { Fn: UnaryFn.Neg } u => TryFrom(u.Operand)?.Times(-1),
        BinaryBound { Fn: BinaryFn.Add } b => TryFrom(b.Left) is { } l && TryFrom(b.Right) is { } r ? l.Plus(r) : null,
        BinaryBound { Fn: BinaryFn.Sub } b => TryFrom(b.Left) is { } l && TryFrom(b.Right) is { } r ? l.Plus(r, -1) : null,
        BinaryBound { Fn: BinaryFn.Mul } b => TryFrom(b.Left) is { } l && TryFrom(b.Right) is { } r
            ? (l.Coefficients.IsEmpty ? r.Times(l.Constant) : r.Coefficients.IsEmpty ? l.Times(r.Constant) : null)
            : null,
        BinaryBound { Fn: BinaryFn.Div } b when b.Right is ConstExpr { Value: not 0 } k => TryFrom(b.Left)?.Times(1 / k.Value),
        _ => null,
    };

    public double Evaluate(ReadOnlySpan<long> point)
    {
        var v = Constant;
        foreach (var (i, k) in Coefficients) v += k * point[i];
        return v;
    }
}

/// <summary>`form (op) 0` with op one of &lt;=, &lt;, ==, != (every comparison normalises to these).</summary>
internal sealed record LinearAtom(LinearForm Form, BinaryFn Op)
{
    /// <summary>Normalises `left (op) right` to `left - right (op') 0`, or null when a side is not linear.</summary>
    public static LinearAtom? TryFrom(BinaryBound b)
    {
        if (LinearForm.TryFrom(b.Left) is not { } l || LinearForm.TryFrom(b.Right) is not { } r) return null;
        var d = l.Plus(r, -1);
        return b.Fn switch
        {
            BinaryFn.Le => new LinearAtom(d, BinaryFn.Le),
            BinaryFn.Lt => new LinearAtom(d, BinaryFn.Lt),
            BinaryFn.Ge => new LinearAtom(d.Times(-1), BinaryFn.Le),
            BinaryFn.Gt => new LinearAtom(d.Times(-1), BinaryFn.Lt),
            BinaryFn.Eq => new LinearAtom(d, BinaryFn.Eq),
            BinaryFn.Ne => new LinearAtom(d, BinaryFn.Ne),
            _ => null,
        };
    }

    public bool Holds(double value) => Op switch
    {
        BinaryFn.Le => value <= 0,
        BinaryFn.Lt => value < 0,
        BinaryFn.Eq => value == 0,
        _ => value != 0,
    };
}
