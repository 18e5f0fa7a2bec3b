using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Gpu.Generic;

/// <summary>
/// The work of one Einsum split by the GPU pipe that executes it, from the mask-aware counts `analyze` prints.
/// <see cref="TensorMacs"/> run on tensor cores, <see cref="MufuOps"/> on the special-function units,
/// <see cref="Fp32Ops"/> (lane operations, an FMA counting one) on the FP32 pipes.
/// </summary>
public sealed record EinsumWork(string Name, OpCounts Ops, bool Matmul, long TensorMacs, long MufuOps, long Fp32Ops, double Density)
{
    /// <summary>
    /// An Einsum is matmul-class when it sums a product of two tensor reads over a variable both read (a contracted
    /// rank) and each operand lacks an output variable the other has (so each element of an operand is reused: a
    /// GEMM, not an element-wise product followed by a reduction). Its MACs run on tensor cores.
    /// </summary>
    public static bool IsMatmul(ExtendedEinsum e)
    {
        if (e.Reduce != ReduceOp.Sum || e.Body is not BinaryBound { Fn: BinaryFn.Mul, Left: ReadExpr left, Right: ReadExpr right })
            return false;
        var a = Variables(e.Inputs[left.Input]);
        var b = Variables(e.Inputs[right.Input]);
        var outputs = e.OutputVariables.ToHashSet();
        var contracted = e.ReduceVariables.Any(v => a.Contains(v) && b.Contains(v));
        return contracted && outputs.Any(v => a.Contains(v) && !b.Contains(v)) && outputs.Any(v => b.Contains(v) && !a.Contains(v));
    }

    internal static HashSet<int> Variables(TensorAccess access) =>
        access.Indices.SelectMany(i => i.Terms.Where(t => t.Coefficient != 0).Select(t => t.Variable)).ToHashSet();

    /// <summary>
    /// exp and log (ex2 / lg2), division (a reciprocal), sqrt and rsqrt are special-function (MUFU) operations; each
    /// also costs one FP32 multiply (by log2 e before ex2, by the reciprocal, by the reciprocal square root).
    /// Multiplies, adds, comparisons and MACs that are not matmul-class are FP32 lane operations (an FMA is one).
    /// </summary>
    public static EinsumWork Of(ExtendedEinsum e, EinsumAnalysis counted)
    {
        var ops = counted.Ops;
        var matmul = IsMatmul(e);
        var mufu = checked(ops.Exp + ops.Div + ops.Sqrt);
        var fp32 = checked(ops.Mul + ops.Add + ops.Max + (matmul ? 0 : ops.Mac) + mufu);
        var density = counted.DensePoints > 0 ? (double)counted.Points / counted.DensePoints : 0;
        return new EinsumWork(e.Name, ops, matmul, matmul ? ops.Mac : 0, mufu, fp32, density);
    }
}
