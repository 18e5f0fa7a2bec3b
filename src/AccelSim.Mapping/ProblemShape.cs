using System.Collections.Immutable;
using System.Text;
using AccelSim.Core;

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
    /// ones suffixed `.in`, `.in2`, ... Filters (masks) are ignored: the model prices the dense iteration space.
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
        return ProblemShape.Create(einsum.Name, dims, tensors.ToImmutable(), ops);
    }
}
