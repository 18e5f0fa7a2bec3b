using System.Collections.Immutable;
using System.Text;

namespace AccelSim.Einsum.Ir;

/// <summary>
/// A named rank (dimension) of the cascade with its bound size. A split rank (e.g. M = M1 x M0) lists its
/// partitions outer to inner; each partition names its parent and the stride it contributes to the parent index
/// (m = m1 * stride(M1) + m0).
/// </summary>
public sealed record Rank(string Name, long Size, string? Parent, ImmutableArray<string> Partitions, long Stride)
{
    /// <summary>The index variable that iterates this rank: the rank name in lower case (M1 -> m1).</summary>
    public string Variable => Name.ToLowerInvariant();

    public bool IsSplit => !Partitions.IsDefaultOrEmpty;
    public bool IsPartition => Parent is not null;
}

public enum TensorRole { Input, Intermediate, Output }

/// <summary>A tensor of the cascade: its ranks (outer to inner), bound extents, role and word width.</summary>
public sealed record TensorDef(string Name, ImmutableArray<string> Ranks, ImmutableArray<long> Extents, TensorRole Role, int WordBits)
{
    public long Elements => Extents.Aggregate(1L, (a, b) => checked(a * b));
    public double Bytes => Elements * (WordBits / 8.0);
    public override string ToString() => $"{Name}[{string.Join(",", Ranks)}]";
}

/// <summary>One iteration variable of an Einsum (its loop), bound to a rank and size.</summary>
public sealed record IterationVariable(string Name, string Rank, long Size);

public readonly record struct AffineTerm(int Variable, string VariableName, long Coefficient);

/// <summary>An index expression `sum_i c_i * v_i + constant` over an Einsum's iteration variables.</summary>
public sealed record AffineIndex(long Constant, ImmutableArray<AffineTerm> Terms)
{
    public static AffineIndex Const(long c) => new(c, []);

    // Value equality over the terms (an ImmutableArray alone compares by reference), so that equal conditions built
    // separately are recognised as equal.
    public bool Equals(AffineIndex? other) =>
        other is not null && Constant == other.Constant && Terms.AsSpan().SequenceEqual(other.Terms.AsSpan());

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Constant);
        foreach (var t in Terms) h.Add(t);
        return h.ToHashCode();
    }

    public long Evaluate(ReadOnlySpan<long> point)
    {
        var v = Constant;
        foreach (var t in Terms) v += t.Coefficient * point[t.Variable];
        return v;
    }

    /// <summary>Smallest and largest value over the full iteration space (each variable in [0, size)).</summary>
    public (long Min, long Max) Range(IReadOnlyList<IterationVariable> space)
    {
        long lo = Constant, hi = Constant;
        foreach (var t in Terms)
        {
            var span = checked(t.Coefficient * (space[t.Variable].Size - 1));
            if (span >= 0) hi = checked(hi + span); else lo = checked(lo + span);
        }
        return (lo, hi);
    }

    /// <summary>The single variable this index is, if it is exactly `v + constant` (else null).</summary>
    public int? SoleVariable => Terms.Length == 1 && Terms[0].Coefficient == 1 ? Terms[0].Variable : null;

    public bool Uses(int variable) => Terms.Any(t => t.Variable == variable && t.Coefficient != 0);

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var t in Terms)
        {
            if (sb.Length > 0) sb.Append(t.Coefficient < 0 ? "-" : "+");
            else if (t.Coefficient < 0) sb.Append('-');
            var c = Math.Abs(t.Coefficient);
            if (c != 1) sb.Append(c).Append('*');
            sb.Append(t.VariableName);
        }
        if (Constant != 0 || sb.Length == 0)
        {
            if (sb.Length > 0) sb.Append(Constant < 0 ? "-" : "+").Append(Math.Abs(Constant));
            else sb.Append(Constant);
        }
        return sb.ToString();
    }
}

/// <summary>
/// An index that is a tensor lookup (a gather), e.g. `page[b,p1]` in `K[b,h,page[b,p1],m0,e]`: the value of input
/// access <see cref="TableInput"/> of the Einsum, which must be a whole number inside the gathered rank.
/// </summary>
public sealed record GatherIndex(int TableInput, string Text);

/// <summary>
/// A read or write of a tensor inside an Einsum, with one affine index per tensor rank. Where
/// <see cref="Gathers"/> has an entry for a rank, the index is looked up in a tensor at run time; its affine index
/// is then the lookup table's last index (the position looked up), so that analysis sees the same iteration as a
/// dense access.
/// </summary>
public sealed record TensorAccess(string Tensor, ImmutableArray<AffineIndex> Indices)
{
    /// <summary>Per rank, the gather that computes its index, or null for an affine index (empty: no gather).</summary>
    public ImmutableArray<GatherIndex?> Gathers { get; init; } = [];

    public GatherIndex? GatherAt(int rank) => Gathers.IsDefaultOrEmpty ? null : Gathers[rank];

    public override string ToString() => $"{Tensor}[{string.Join(",", Indices.Select((i, d) => GatherAt(d)?.Text ?? i.ToString()))}]";
}

/// <summary>Operator kinds counted per Einsum, so that each architecture can price them (e.g. exp as 6 MAC + 1 add).</summary>
public enum OpKind { Mac, Mul, Add, Max, Exp, Div, Sqrt }

/// <summary>Counts of operations by kind (per iteration-space point, or totals).</summary>
public sealed record OpCounts(long Mac, long Mul, long Add, long Max, long Exp, long Div, long Sqrt)
{
    public static readonly OpCounts Zero = new(0, 0, 0, 0, 0, 0, 0);

    public long this[OpKind kind] => kind switch
    {
        OpKind.Mac => Mac, OpKind.Mul => Mul, OpKind.Add => Add, OpKind.Max => Max,
        OpKind.Exp => Exp, OpKind.Div => Div, OpKind.Sqrt => Sqrt,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public OpCounts With(OpKind kind, long value) => kind switch
    {
        OpKind.Mac => this with { Mac = value }, OpKind.Mul => this with { Mul = value },
        OpKind.Add => this with { Add = value }, OpKind.Max => this with { Max = value },
        OpKind.Exp => this with { Exp = value }, OpKind.Div => this with { Div = value },
        OpKind.Sqrt => this with { Sqrt = value },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public OpCounts Add1(OpKind kind) => With(kind, this[kind] + 1);

    public OpCounts Scale(long factor) => new(
        checked(Mac * factor), checked(Mul * factor), checked(Add * factor), checked(Max * factor),
        checked(Exp * factor), checked(Div * factor), checked(Sqrt * factor));

    public static OpCounts operator +(OpCounts a, OpCounts b) => new(
        checked(a.Mac + b.Mac), checked(a.Mul + b.Mul), checked(a.Add + b.Add), checked(a.Max + b.Max),
        checked(a.Exp + b.Exp), checked(a.Div + b.Div), checked(a.Sqrt + b.Sqrt));

    /// <summary>All operations, a MAC counting as one.</summary>
    public long Total => checked(Mac + Mul + Add + Max + Exp + Div + Sqrt);

    /// <summary>Floating-point operations, a MAC counting as two (multiply + add), as FLOP/s figures do.</summary>
    public long Flops => checked(2 * Mac + Mul + Add + Max + Exp + Div + Sqrt);

    public static IEnumerable<OpKind> Kinds => Enum.GetValues<OpKind>();

    public override string ToString() =>
        string.Join(" ", Kinds.Where(k => this[k] != 0).Select(k => $"{k.ToString().ToLowerInvariant()}:{this[k]}"));
}
