using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Einsum.Analysis;

/// <summary>
/// Counts the operations one iteration-space point of an Einsum performs, by kind. A sum-reduction whose body is
/// a product fuses one multiply with the accumulate into a MAC; other reductions add one add (sum) or one max/min
/// comparison per point. exp, log, sin and cos count as Exp (special functions), sqrt and rsqrt as Sqrt, comparisons and abs as Max.
/// </summary>
public static class OperationCounter
{
    public static OpCounts PerPoint(BoundExpr body, ReduceOp? reduce)
    {
        var counts = Walk(body, OpCounts.Zero);
        switch (reduce)
        {
            case ReduceOp.Sum when body is BinaryBound { Fn: BinaryFn.Mul }:
                counts = counts with { Mul = counts.Mul - 1, Mac = counts.Mac + 1 };
                break;
            case ReduceOp.Sum:
                counts = counts.Add1(OpKind.Add);
                break;
            case ReduceOp.Max or ReduceOp.Min:
                counts = counts.Add1(OpKind.Max);
                break;
        }
        return counts;
    }

    private static OpCounts Walk(BoundExpr e, OpCounts c) => e switch
    {
        UnaryBound u => Walk(u.Operand, u.Fn switch
        {
            UnaryFn.Exp or UnaryFn.Log or UnaryFn.Sin or UnaryFn.Cos => c.Add1(OpKind.Exp),
            UnaryFn.Sqrt or UnaryFn.Rsqrt => c.Add1(OpKind.Sqrt),
            UnaryFn.Abs => c.Add1(OpKind.Max),
            _ => c, // negation and logical not are free (sign/flag flips)
        }),
        BinaryBound b => Walk(b.Right, Walk(b.Left, b.Fn switch
        {
            BinaryFn.Add or BinaryFn.Sub => c.Add1(OpKind.Add),
            BinaryFn.Mul => c.Add1(OpKind.Mul),
            BinaryFn.Div or BinaryFn.FloorDiv or BinaryFn.Mod => c.Add1(OpKind.Div),
            BinaryFn.Max or BinaryFn.Min => c.Add1(OpKind.Max),
            BinaryFn.Pow when b.Right is ConstExpr { Value: 2 } => c.Add1(OpKind.Mul),
            BinaryFn.Pow => c.Add1(OpKind.Exp).Add1(OpKind.Mul),
            BinaryFn.And or BinaryFn.Or => c,
            _ => c.Add1(OpKind.Max), // comparisons
        })),
        _ => c,
    };
}
