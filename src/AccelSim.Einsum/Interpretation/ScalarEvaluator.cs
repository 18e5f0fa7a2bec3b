using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Interpretation;

/// <summary>Evaluates expressions that read no tensor (masks, filters) at an iteration point.</summary>
public static class ScalarEvaluator
{
    public static bool Truth(BoundExpr e, ReadOnlySpan<long> point) => Value(e, point) != 0;

    public static double Value(BoundExpr e, ReadOnlySpan<long> point) => e switch
    {
        ConstExpr c => c.Value,
        IndexValueExpr i => i.Index.Evaluate(point),
        UnaryBound u => Apply(u.Fn, Value(u.Operand, point)),
        BinaryBound b => Apply(b.Fn, Value(b.Left, point), Value(b.Right, point)),
        BlockMaskExpr m => BlockMaskExpr.Keep((long)Math.Floor(Value(m.RowBlock, point)), (long)Math.Floor(Value(m.ColBlock, point)), m.Density, m.Seed) ? 1 : 0,
        ReadExpr => throw new InvalidOperationException("a mask or filter cannot read a tensor"),
        _ => throw new InvalidOperationException("unsupported expression"),
    };

    public static double Apply(UnaryFn fn, double v) => fn switch
    {
        UnaryFn.Neg => -v,
        UnaryFn.Not => v == 0 ? 1 : 0,
        UnaryFn.Exp => Math.Exp(v),
        UnaryFn.Log => Math.Log(v),
        UnaryFn.Sqrt => Math.Sqrt(v),
        UnaryFn.Rsqrt => 1 / Math.Sqrt(v),
        UnaryFn.Abs => Math.Abs(v),
        UnaryFn.Sin => Math.Sin(v),
        UnaryFn.Cos => Math.Cos(v),
        _ => throw new ArgumentOutOfRangeException(nameof(fn)),
    };

    public static double Apply(BinaryFn fn, double a, double b) => fn switch
    {
        BinaryFn.Add => a + b,
        BinaryFn.Sub => a - b,
        BinaryFn.Mul => a * b,
        BinaryFn.Div => a / b,
        BinaryFn.FloorDiv => Math.Floor(a / b),
        BinaryFn.Mod => a - b * Math.Floor(a / b),
        BinaryFn.Max => Math.Max(a, b),
        BinaryFn.Min => Math.Min(a, b),
        BinaryFn.Pow => Math.Pow(a, b),
        BinaryFn.Lt => a < b ? 1 : 0,
        BinaryFn.Le => a <= b ? 1 : 0,
        BinaryFn.Gt => a > b ? 1 : 0,
        BinaryFn.Ge => a >= b ? 1 : 0,
        BinaryFn.Eq => a == b ? 1 : 0,
        BinaryFn.Ne => a != b ? 1 : 0,
        BinaryFn.And => a != 0 && b != 0 ? 1 : 0,
        BinaryFn.Or => a != 0 || b != 0 ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(fn)),
    };
}

