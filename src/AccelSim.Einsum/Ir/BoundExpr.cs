using System.Collections.Immutable;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Einsum.Ir;

public enum UnaryFn { Neg, Not, Exp, Log, Sqrt, Rsqrt, Abs, Sin, Cos }

/// <summary>
/// A checked expression over one Einsum's iteration variables and input accesses, with parameters folded to
/// constants. It is what the interpreter evaluates and what operation counting walks.
/// </summary>
public abstract record BoundExpr;

public sealed record ConstExpr(double Value) : BoundExpr;

/// <summary>Reads input access number <see cref="Input"/> of the Einsum (an element of a tensor).</summary>
public sealed record ReadExpr(int Input) : BoundExpr;

/// <summary>The integer value of an index variable or of an affine combination of them (used in masks).</summary>
public sealed record IndexValueExpr(AffineIndex Index) : BoundExpr;

public sealed record UnaryBound(UnaryFn Fn, BoundExpr Operand) : BoundExpr;

/// <summary>Binary arithmetic, comparison and logic; plus Max/Min/Pow as functions of two arguments.</summary>
public sealed record BinaryBound(BinaryFn Fn, BoundExpr Left, BoundExpr Right) : BoundExpr;

public enum BinaryFn { Add, Sub, Mul, Div, FloorDiv, Mod, Max, Min, Pow, Lt, Le, Gt, Ge, Eq, Ne, And, Or }

/// <summary>`blockmask(row_block, col_block, density, seed)`: a deterministic pseudo-random block-sparse mask.</summary>
public sealed record BlockMaskExpr(BoundExpr RowBlock, BoundExpr ColBlock, double Density, long Seed) : BoundExpr
{
    /// <summary>Whether block (r, c) is kept: a 64-bit mix of (seed, r, c) compared with the density.</summary>
    public static bool Keep(long row, long col, double density, long seed)
    {
        unchecked
        {
            var x = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)row * 0xBF58476D1CE4E5B9UL ^ (ulong)col * 0x94D049BB133111EBUL;
            x ^= x >> 31; x *= 0xD6E8FEB86659FD93UL; x ^= x >> 32; x *= 0xD6E8FEB86659FD93UL; x ^= x >> 32;
            return (x >> 11) * (1.0 / (1UL << 53)) < density;
        }
    }
}

/// <summary>
/// Stands in, during counting, for the part of a `where:` that reads tensors (a data-dependent mask): it keeps a
/// declared fraction <see cref="Density"/> of the points, and depends on the variables of <see cref="Indices"/>.
/// </summary>
public sealed record DeclaredMaskExpr(double Density, string Label, ImmutableArray<AffineIndex> Indices) : BoundExpr
{
    public bool Equals(DeclaredMaskExpr? other) =>
        other is not null && Density == other.Density && Label == other.Label && Indices.AsSpan().SequenceEqual(other.Indices.AsSpan());

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Density); h.Add(Label);
        foreach (var i in Indices) h.Add(i);
        return h.ToHashCode();
    }
}

/// <summary>
/// `topk[m](S[...], k)`: 1 where the operand is among the <see cref="K"/> largest over variable
/// <see cref="Variable"/> (size <see cref="Size"/>; the other variables fixed; ties go to the lower index), else 0.
/// </summary>
public sealed record TopKExpr(BoundExpr Operand, int Variable, string VariableName, long K, long Size) : BoundExpr;

public static class BoundExprExtensions
{
    public static BinaryFn ToFn(this BinaryOp op) => op switch
    {
        BinaryOp.Add => BinaryFn.Add, BinaryOp.Sub => BinaryFn.Sub, BinaryOp.Mul => BinaryFn.Mul,
        BinaryOp.Div => BinaryFn.Div, BinaryOp.FloorDiv => BinaryFn.FloorDiv, BinaryOp.Mod => BinaryFn.Mod,
        BinaryOp.Lt => BinaryFn.Lt, BinaryOp.Le => BinaryFn.Le, BinaryOp.Gt => BinaryFn.Gt, BinaryOp.Ge => BinaryFn.Ge,
        BinaryOp.Eq => BinaryFn.Eq, BinaryOp.Ne => BinaryFn.Ne, BinaryOp.And => BinaryFn.And, BinaryOp.Or => BinaryFn.Or,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static bool IsComparisonOrLogic(this BinaryFn fn) => fn >= BinaryFn.Lt;

    /// <summary>Every input access read by the expression.</summary>
    public static IEnumerable<int> Reads(this BoundExpr e) => e switch
    {
        ReadExpr r => [r.Input],
        UnaryBound u => u.Operand.Reads(),
        BinaryBound b => b.Left.Reads().Concat(b.Right.Reads()),
        BlockMaskExpr m => m.RowBlock.Reads().Concat(m.ColBlock.Reads()),
        TopKExpr t => t.Operand.Reads(),
        _ => [],
    };

    public static string Format(this BoundExpr e, Func<int, string> input) => e switch
    {
        ConstExpr c => double.IsPositiveInfinity(c.Value) ? "inf" : double.IsNegativeInfinity(c.Value) ? "-inf"
            : c.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ReadExpr r => input(r.Input),
        IndexValueExpr i => i.Index.ToString(),
        UnaryBound { Fn: UnaryFn.Neg } u => "-" + Paren(u.Operand, input),
        UnaryBound { Fn: UnaryFn.Not } u => "not " + Paren(u.Operand, input),
        UnaryBound u => $"{u.Fn.ToString().ToLowerInvariant()}({u.Operand.Format(input)})",
        BinaryBound { Fn: BinaryFn.Max or BinaryFn.Min or BinaryFn.Pow } b =>
            $"{b.Fn.ToString().ToLowerInvariant()}({b.Left.Format(input)}, {b.Right.Format(input)})",
        BinaryBound b => $"{Paren(b.Left, input)} {Symbol(b.Fn)} {Paren(b.Right, input)}",
        BlockMaskExpr m => $"blockmask({m.RowBlock.Format(input)}, {m.ColBlock.Format(input)}, {m.Density}, {m.Seed})",
        TopKExpr t => $"topk[{t.VariableName}]({t.Operand.Format(input)}, {t.K})",
        DeclaredMaskExpr d => $"{d.Label} (declared density {d.Density.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})",
        _ => e.ToString()!,
    };

    private static string Paren(BoundExpr e, Func<int, string> input) =>
        e is BinaryBound { Fn: not (BinaryFn.Max or BinaryFn.Min or BinaryFn.Pow) } ? "(" + e.Format(input) + ")" : e.Format(input);

    private static string Symbol(BinaryFn fn) => fn switch
    {
        BinaryFn.Add => "+", BinaryFn.Sub => "-", BinaryFn.Mul => "*", BinaryFn.Div => "/", BinaryFn.FloorDiv => "//",
        BinaryFn.Mod => "%", BinaryFn.Lt => "<", BinaryFn.Le => "<=", BinaryFn.Gt => ">", BinaryFn.Ge => ">=",
        BinaryFn.Eq => "==", BinaryFn.Ne => "!=", BinaryFn.And => "and", BinaryFn.Or => "or", _ => fn.ToString(),
    };
}
