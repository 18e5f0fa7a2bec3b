using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using AccelSim.Core;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Ir;

namespace AccelSim.Mapping;

/// <summary>An iteration dimension (rank variable) of the Einsum and its size.</summary>
public sealed record ProblemDim(string Name, long Size);

/// <summary>One `coefficient * dimension` term of a tensor rank's index expression.</summary>
public readonly record struct ProjectionTerm(int Dim, long Coefficient);

/// <summary>A tensor rank's index: sum of coefficient*dimension terms plus a constant (e.g. conv input width = R*dil + P*stride).</summary>
public sealed record TensorRank(ImmutableArray<ProjectionTerm> Terms, long Constant = 0)
{
    public string Format(ImmutableArray<ProblemDim> dims)
    {
        var sb = new StringBuilder();
        foreach (var t in Terms)
        {
            if (sb.Length > 0) sb.Append(t.Coefficient < 0 ? " - " : " + ");
            else if (t.Coefficient < 0) sb.Append('-');
            var c = Math.Abs(t.Coefficient);
            if (c != 1) sb.Append(c.ToString(Invariant.Culture)).Append('*');
            sb.Append(dims[t.Dim].Name);
        }
        if (Constant != 0 || sb.Length == 0)
            sb.Append(sb.Length == 0 ? Constant.ToString(Invariant.Culture) : (Constant < 0 ? " - " : " + ") + Math.Abs(Constant).ToString(Invariant.Culture));
        return sb.ToString();
    }
}

/// <summary>A tensor (data space): its projection from the iteration space, and whether it is the read-write output.</summary>
public sealed record DataSpace(string Name, ImmutableArray<TensorRank> Ranks, bool IsOutput, int? WordBits = null);

/// <summary>How many operations of a kind (mac, mul, add, max, exp, div, ...) each iteration-space point performs.</summary>
public readonly record struct OpCount(string Kind, double Count);

/// <summary>
/// A single-Einsum problem in Timeloop's sense: ordered iteration dimensions, tensors with affine projections,
/// and per-point operation counts so that compute units can price non-MAC Einsums.
/// </summary>
public sealed record ProblemShape(string Name, ImmutableArray<ProblemDim> Dims, ImmutableArray<DataSpace> Tensors, ImmutableArray<OpCount> OpsPerPoint)
{
    /// <summary>
    /// The points the Einsum computes, when not all of them (a `where:` mask, or masked inputs); null for a dense
    /// problem. The model skips the tiles it leaves empty (see <see cref="IterationMask"/>).
    /// </summary>
    public IterationMask? Mask { get; init; }

    /// <summary>Points the Einsum requires: `analyze`'s exact count under the mask, or all of them.</summary>
    public long RequiredPoints => Mask?.RequiredPoints ?? Points;

    /// <summary>Required points that need work (not <see cref="IterationMask.TrivialPoints"/>).</summary>
    public long WorkPoints => Mask?.WorkPoints ?? Points;

    public int DimIndex(string name)
    {
        for (int i = 0; i < Dims.Length; i++)
            if (Dims[i].Name == name) return i;
        return -1;
    }

    public int TensorIndex(string name)
    {
        for (int i = 0; i < Tensors.Length; i++)
            if (Tensors[i].Name == name) return i;
        return -1;
    }

    /// <summary>Number of iteration-space points (the Einsum's "computes").</summary>
    public long Points
    {
        get
        {
            long p = 1;
            foreach (var d in Dims) p = checked(p * d.Size);
            return p;
        }
    }

    /// <summary>Builds a problem, validating sizes, names and projections (throws <see cref="InputException"/>).</summary>
    public static ProblemShape Create(string name, IEnumerable<ProblemDim> dims, IEnumerable<DataSpace> tensors, IEnumerable<OpCount>? ops = null)
    {
        var d = dims.ToImmutableArray();
        var t = tensors.ToImmutableArray();
        var seen = new HashSet<string>();
        foreach (var x in d)
        {
            if (x.Size <= 0) throw new InputException(null, "dims." + x.Name, $"size must be > 0, found {x.Size}");
            if (!seen.Add(x.Name)) throw new InputException(null, "dims." + x.Name, "duplicate dimension");
        }
        foreach (var ts in t)
        {
            if (!seen.Add(ts.Name)) throw new InputException(null, "tensors." + ts.Name, "duplicate name (tensor names must differ from each other and from dimension names)");
            foreach (var r in ts.Ranks)
                foreach (var term in r.Terms)
                    if (term.Dim < 0 || term.Dim >= d.Length) throw new InputException(null, "tensors." + ts.Name, "projection names an unknown dimension");
        }
        if (t.Count(x => x.IsOutput) > 1) throw new InputException(null, "tensors", "at most one tensor may be the output");
        var o = (ops ?? new[] { new OpCount("mac", 1) }).ToImmutableArray();
        return new ProblemShape(name, d, t, o);
    }
}

/// <summary>Builds a <see cref="ProblemShape"/> from one Einsum of a bound cascade (the lead's Einsum IR).</summary>
public static class EinsumProblems
{
    /// <summary>
    /// Dimensions are the Einsum's iteration variables, named by their rank (M1, M0, P, ...); every input access and
    /// the output become data spaces with the access's affine indices as projections. A tensor read twice, or read
    /// and written (a recurrence such as RM[m1+1] = max(RM[m1], LM[m1])), gets one data space per access, the extra
    /// ones suffixed `.in`, `.in2`, ... The Einsum's mask and its inputs' supports become the problem's
    /// <see cref="ProblemShape.Mask"/>.
    /// </summary>
    public static ProblemShape FromEinsum(AccelSim.Einsum.Ir.ExtendedEinsum einsum, AccelSim.Einsum.Ir.Cascade cascade)
    {
        var dims = einsum.Iteration.Select(v => new ProblemDim(v.Rank, v.Size)).ToImmutableArray();
        var names = new HashSet<string>(dims.Select(d => d.Name));
        var tensors = ImmutableArray.CreateBuilder<DataSpace>();
        string Unique(string name)
        {
            if (names.Add(name)) return name;
            for (int i = 1; ; i++)
            {
                var n = i == 1 ? name + ".in" : name + ".in" + i.ToString(Invariant.Culture);
                if (names.Add(n)) return n;
            }
        }
        DataSpace Space(AccelSim.Einsum.Ir.TensorAccess access, bool output, string name) =>
            new(name, access.Indices.Select(ix => new TensorRank(
                    ix.Terms.GroupBy(t => t.Variable).Select(g => new ProjectionTerm(g.Key, g.Sum(t => t.Coefficient)))
                        .Where(t => t.Coefficient != 0).OrderBy(t => t.Dim).ToImmutableArray(), ix.Constant)).ToImmutableArray(),
                output, cascade.FindTensor(access.Tensor)?.WordBits ?? cascade.WordBits);
        var outName = Unique(einsum.Output.Tensor);
        foreach (var input in einsum.Inputs) tensors.Add(Space(input, false, Unique(input.Tensor)));
        tensors.Add(Space(einsum.Output, true, outName));
        var ops = AccelSim.Einsum.Ir.OpCounts.Kinds
            .Where(k => einsum.OpsPerPoint[k] != 0)
            .Select(k => new OpCount(k.ToString().ToLowerInvariant(), einsum.OpsPerPoint[k]))
            .ToImmutableArray();
        return ProblemShape.Create(einsum.Name, dims, tensors.ToImmutable(), ops) with { Mask = IterationMask.For(einsum, cascade) };
    }
}

/// <summary>
/// Which points of an Einsum need work, over its iteration variables (the problem's dimensions, in order): those of
/// its point condition (its `where:` mask and the supports of the inputs it reads, as `analyze` derives them) that
/// are not trivial (<see cref="TrivialPoints"/>: a value an empty operand makes known, such as a running state passed
/// on unchanged over a key tile the mask empties). It counts the points required and the tiles of a loop nest that
/// hold at least one point needing work (<see cref="TileCounter"/>); tile counts are cached per tile shape, so pricing
/// many mappings counts each shape once. Thread-safe.
/// </summary>
public sealed class IterationMask
{
    private readonly Lazy<long> _required, _work;
    private readonly ConcurrentDictionary<TileShape, long> _tiles;
    private readonly BoundExpr _normalized;
    private readonly ImmutableArray<IterationVariable> _normalizedSpace;

    // Tile counts by normalised condition, shared by Einsums and evaluations with the same mask on the same sizes.
    private static readonly ConcurrentDictionary<(BoundExpr, string), ConcurrentDictionary<TileShape, long>> Shared = new();
    private const int MaxShared = 4096;

    /// <summary>The points that need work; tiles are counted against it.</summary>
    public BoundExpr Condition { get; }

    /// <summary>The points `analyze` counts (null: all of them).</summary>
    public BoundExpr? PointCondition { get; }

    public ImmutableArray<IterationVariable> Space { get; }

    /// <summary>The dimensions <see cref="Condition"/> reads, ascending.</summary>
    public ImmutableArray<int> UsedDims { get; }

    public IterationMask(BoundExpr? pointCondition, BoundExpr? trivial, ImmutableArray<IterationVariable> space, SourceLocation? location = null)
    {
        PointCondition = pointCondition;
        BoundExpr? work = trivial is null ? pointCondition
            : pointCondition is null ? new UnaryBound(UnaryFn.Not, trivial)
            : new BinaryBound(BinaryFn.And, pointCondition, new UnaryBound(UnaryFn.Not, trivial));
        Condition = work ?? new ConstExpr(1);
        Space = space;
        UsedDims = TileCounter.UsedVariables(Condition);
        (_normalized, _normalizedSpace) = TileCounter.Normalize(Condition, space);
        if (Shared.Count > MaxShared) Shared.Clear();
        _tiles = Shared.GetOrAdd((_normalized, string.Join(",", _normalizedSpace.Select(v => v.Size))), _ => new ConcurrentDictionary<TileShape, long>());
        _required = new Lazy<long>(() => Counted(() => PointCounter.Count(pointCondition, space), location));
        _work = new Lazy<long>(() => trivial is null ? _required.Value : Counted(() => PointCounter.Count(Condition, space), location));
    }

    /// <summary>The mask of one Einsum of a cascade, or null when every point needs work.</summary>
    public static IterationMask? For(ExtendedEinsum einsum, AccelSim.Einsum.Ir.Cascade cascade)
    {
        int index = -1;
        for (int i = 0; i < cascade.Einsums.Length && index < 0; i++)
            if (ReferenceEquals(cascade.Einsums[i], einsum) || cascade.Einsums[i].Name == einsum.Name) index = i;
        if (index < 0) return null;
        var condition = MaskConditions.Of(cascade)[index];
        var trivial = condition is null && !cascade.Einsums.Any(e => e.Filter is not null) ? null : AccelSim.Einsum.Analysis.TrivialPoints.Of(cascade)[index];
        return condition is null && trivial is null ? null : new IterationMask(condition, trivial, einsum.Iteration, einsum.Location);
    }

    /// <summary>Points that need work: <see cref="RequiredPoints"/> less <see cref="TrivialPoints"/>.</summary>
    public long WorkPoints => _work.Value;

    /// <summary>Required points whose value an empty operand makes known (they are skipped with their tiles).</summary>
    public long TrivialPoints => RequiredPoints - WorkPoints;

    /// <summary>`analyze`'s exact count of the Einsum's points (under its point condition).</summary>
    public long RequiredPoints => _required.Value;

    /// <summary>
    /// Tiles of <paramref name="shape"/> (its used dimensions' digits) that hold a required point; a shape too long to
    /// describe counts every tile as non-empty.
    /// </summary>
    public long NonEmptyTiles(in TileShape shape)
    {
        if (shape.Overflow) return shape.OutsideTiles;
        if (_tiles.TryGetValue(shape, out var n)) return n;
        var digits = new List<TileDigit>[UsedDims.Length];
        int k = 0;
        for (int d = 0; d < digits.Length; d++)
        {
            digits[d] = [];
            for (; shape[k] != 0; k++) digits[d].Add(new TileDigit(shape[k] >> 1, (shape[k] & 1) != 0));
            k++;
        }
        var copy = shape;
        long count;
        try { count = TileCounter.NonEmpty(_normalized, _normalizedSpace, digits); }
        catch (InvalidOperationException) { count = shape.OutsideTiles; } // too large to count exactly: keep every tile
        _tiles.TryAdd(copy, count);
        return count;
    }

    private static long Counted(Func<long> count, SourceLocation? location)
    {
        try { return count(); }
        catch (InvalidOperationException e) { throw new InputException(location, "where", e.Message); }
    }
}

/// <summary>
/// The shape of one tile level of a loop nest over the dimensions a mask reads: for each used dimension, in order, its
/// digits (most significant first, adjacent digits of one kind merged) and a 0 after each dimension. Fixed size, so
/// building it and looking it up allocate nothing.
/// </summary>
public struct TileShape : IEquatable<TileShape>
{
    public const int Capacity = 32;

    [InlineArray(Capacity)]
    private struct Buffer { private long _element; }

    private Buffer _items;
    private int _count;
    private bool _lastWasSeparator;

    /// <summary>More digits than <see cref="Capacity"/>: the shape is not described (every tile counts as non-empty).</summary>
    public bool Overflow { get; private set; }

    /// <summary>Product of the outside factors: the number of tiles.</summary>
    public long OutsideTiles { get; private set; }

    public readonly long this[int i] => _items[i];

    public static TileShape Create()
    {
        var s = new TileShape { OutsideTiles = 1, _lastWasSeparator = true };
        return s;
    }

    /// <summary>Adds the next digit of the current dimension (factor 1 is skipped; a run of one kind merges).</summary>
    public void Add(long factor, bool inside)
    {
        if (factor <= 1 || Overflow) return;
        if (!inside) OutsideTiles *= factor;
        if (!_lastWasSeparator && (_items[_count - 1] & 1) == (inside ? 1 : 0))
        {
            _items[_count - 1] = ((_items[_count - 1] >> 1) * factor << 1) | (inside ? 1L : 0);
            return;
        }
        if (_count >= Capacity) { Overflow = true; return; }
        _items[_count++] = (factor << 1) | (inside ? 1L : 0);
        _lastWasSeparator = false;
    }

    public void EndDimension()
    {
        if (Overflow) return;
        if (_count >= Capacity) { Overflow = true; return; }
        _items[_count++] = 0;
        _lastWasSeparator = true;
    }

    public readonly bool Equals(TileShape other)
    {
        if (_count != other._count || Overflow != other.Overflow) return false;
        for (int i = 0; i < _count; i++) if (_items[i] != other._items[i]) return false;
        return true;
    }

    public override readonly bool Equals(object? obj) => obj is TileShape s && Equals(s);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < _count; i++) h.Add(_items[i]);
        return h.ToHashCode();
    }
}
