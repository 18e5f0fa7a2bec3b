using System.Collections.Immutable;

namespace AccelSim.Einsum.Interpretation;

/// <summary>A dense row-major tensor of doubles in which an element may be empty (outside a mask, never written).</summary>
public sealed class DenseTensor
{
    public DenseTensor(string name, ImmutableArray<long> extents)
    {
        Name = name;
        Extents = extents;
        var n = extents.Aggregate(1L, (a, b) => checked(a * b));
        if (n > 50_000_000) throw new InvalidOperationException($"tensor {name} has {n:N0} elements; the interpreter is meant for small problems");
        Values = new double[n];
        Present = new bool[n];
        Strides = new long[extents.Length];
        long s = 1;
        for (var d = extents.Length - 1; d >= 0; d--) { Strides[d] = s; s *= extents[d]; }
    }

    public string Name { get; }
    public ImmutableArray<long> Extents { get; }
    public double[] Values { get; }
    public bool[] Present { get; }
    internal long[] Strides { get; }

    public long Length => Values.LongLength;

    /// <summary>Row-major offset, or -1 when the index lies outside the tensor.</summary>
    public long Offset(ReadOnlySpan<long> index)
    {
        long o = 0;
        for (var d = 0; d < index.Length; d++)
        {
            if (index[d] < 0 || index[d] >= Extents[d]) return -1;
            o += index[d] * Strides[d];
        }
        return o;
    }

    public double this[params long[] index]
    {
        get
        {
            var o = Offset(index);
            if (o < 0 || !Present[o]) throw new InvalidOperationException($"{Name}[{string.Join(",", index)}] is empty");
            return Values[o];
        }
        set
        {
            var o = Offset(index);
            if (o < 0) throw new IndexOutOfRangeException($"{Name}[{string.Join(",", index)}] is outside the tensor");
            Values[o] = value;
            Present[o] = true;
        }
    }

    public bool IsPresent(params long[] index) => Offset(index) is var o && o >= 0 && Present[o];

    public long[] IndexOf(long offset)
    {
        var idx = new long[Extents.Length];
        for (var d = 0; d < idx.Length; d++) { idx[d] = offset / Strides[d]; offset %= Strides[d]; }
        return idx;
    }

    /// <summary>A tensor with every element present, filled uniformly in [-1, 1) from a seeded generator.</summary>
    public static DenseTensor Random(string name, ImmutableArray<long> extents, Random rng)
    {
        var t = new DenseTensor(name, extents);
        for (var i = 0; i < t.Values.Length; i++) { t.Values[i] = rng.NextDouble() * 2 - 1; t.Present[i] = true; }
        return t;
    }
}
