using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Checking;

/// <summary>
/// A tensor seen in the coordinates of unsplit ranks: consecutive partitions of one rank (P1, P0 of P) merge into that
/// rank (p = p1 * stride + p0), so a cascade that keeps its output tiled compares with a formula written over p.
/// Elements of a partial last tile (p beyond the rank's size) must be empty and are dropped.
/// </summary>
public static class CanonicalView
{
    /// <summary>The tensor's ranks with every complete run of partitions replaced by their parent rank.</summary>
    public static IReadOnlyList<string> Ranks(Cascade c, TensorDef t)
    {
        var result = new List<string>();
        for (var d = 0; d < t.Ranks.Length;)
        {
            if (MergedRun(c, t, d) is { } parent)
            {
                result.Add(parent.Name);
                d += parent.Partitions.Length;
            }
            else result.Add(t.Ranks[d++]);
        }
        return result;
    }

    private static Rank? MergedRun(Cascade c, TensorDef t, int d)
    {
        var r = c.FindRank(t.Ranks[d]);
        if (r?.Parent is null) return null;
        var parent = c.Rank(r.Parent);
        if (parent.Partitions[0] != r.Name || d + parent.Partitions.Length > t.Ranks.Length) return null;
        for (var i = 0; i < parent.Partitions.Length; i++)
            if (t.Ranks[d + i] != parent.Partitions[i]) return null;
        return parent;
    }

    /// <summary>The values of <paramref name="values"/> (a tensor of <paramref name="def"/>) in canonical coordinates.</summary>
    public static DenseTensor Of(Cascade c, TensorDef def, DenseTensor values)
    {
        var ranks = Ranks(c, def);
        if (ranks.SequenceEqual(def.Ranks)) return values;
        var result = new DenseTensor(def.Name, [.. ranks.Select(r => c.Rank(r).Size)]);
        // For each source dimension: the canonical dimension it feeds and its stride within it.
        var target = new int[def.Ranks.Length];
        var stride = new long[def.Ranks.Length];
        for (int d = 0, k = 0; d < def.Ranks.Length; k++)
        {
            if (MergedRun(c, def, d) is { } parent)
            {
                foreach (var part in parent.Partitions) { target[d] = k; stride[d] = c.Rank(part).Stride; d++; }
            }
            else { target[d] = k; stride[d] = 1; d++; }
        }
        var at = new long[ranks.Count];
        for (long o = 0; o < values.Length; o++)
        {
            if (!values.Present[o]) continue;
            var idx = values.IndexOf(o);
            Array.Clear(at);
            for (var d = 0; d < idx.Length; d++) at[target[d]] += idx[d] * stride[d];
            if (result.Offset(at) is var offset and >= 0)
            {
                result.Values[offset] = values.Values[o];
                result.Present[offset] = true;
            }
        }
        return result;
    }
}
