using System.Collections.Immutable;
using AccelSim.Einsum.Ir;
using AccelSim.Mapping;

namespace AccelSim.Model.Cascade;

/// <summary>
/// One tensor access of an Einsum as the single-Einsum model sees it: the data space name in the
/// <see cref="ProblemShape"/> (unique within the problem) and the cascade tensor it belongs to. A recurrence such as
/// RM[m1+1] = max(RM[m1], LM[m1]) reads and writes the same cascade tensor, so the read becomes a second data space
/// ("RM@in") of the same <see cref="Tensor"/>.
/// </summary>
public sealed record ProblemTensor(string DataSpace, string Tensor, bool IsOutput);

/// <summary>An Einsum of a cascade translated into a single-Einsum <see cref="ProblemShape"/>.</summary>
public sealed record EinsumProblem(ExtendedEinsum Einsum, ProblemShape Shape, ImmutableArray<ProblemTensor> Tensors)
{
    public string Name => Einsum.Name;

    /// <summary>Data spaces (indices into <see cref="ProblemShape.Tensors"/>) that belong to a cascade tensor.</summary>
    public IEnumerable<int> DataSpacesOf(string tensor)
    {
        for (int i = 0; i < Tensors.Length; i++)
            if (Tensors[i].Tensor == tensor) yield return i;
    }

    public bool Uses(string tensor) => Tensors.Any(t => t.Tensor == tensor);

    /// <summary>
    /// Builds the problem: dimensions are the Einsum's iteration variables (in order), data spaces its output and
    /// inputs with their affine projections, and the per-point operations its op counts (mac, mul, add, max, exp, div,
    /// sqrt), so that each compute unit prices them with its own operation table.
    /// </summary>
    public static EinsumProblem From(AccelSim.Einsum.Ir.Cascade cascade, ExtendedEinsum einsum)
    {
        var dims = einsum.Iteration.Select(v => new ProblemDim(v.Name, v.Size)).ToImmutableArray();
        var spaces = ImmutableArray.CreateBuilder<DataSpace>();
        var tensors = ImmutableArray.CreateBuilder<ProblemTensor>();
        var used = new HashSet<string>(StringComparer.Ordinal);

        DataSpace Space(string name, TensorAccess access, bool output)
        {
            var ranks = access.Indices.Select(ix =>
                new TensorRank(ix.Terms.Where(t => t.Coefficient != 0).Select(t => new ProjectionTerm(t.Variable, t.Coefficient)).ToImmutableArray(),
                    ix.Constant)).ToImmutableArray();
            var bits = cascade.FindTensor(access.Tensor)?.WordBits ?? cascade.WordBits;
            return new DataSpace(name, ranks, output, bits);
        }

        string Unique(string tensor)
        {
            var name = tensor;
            for (int k = 1; !used.Add(name); k++) name = k == 1 ? tensor + "@in" : $"{tensor}@in{k}";
            return name;
        }

        var outName = Unique(einsum.Output.Tensor);
        spaces.Add(Space(outName, einsum.Output, true));
        tensors.Add(new ProblemTensor(outName, einsum.Output.Tensor, true));
        var seenAccess = new HashSet<string>(StringComparer.Ordinal) { einsum.Output.ToString() };
        foreach (var input in einsum.Inputs)
        {
            // The same access read twice (x * x) is one data space.
            if (!seenAccess.Add(input.ToString())) continue;
            var name = Unique(input.Tensor);
            spaces.Add(Space(name, input, false));
            tensors.Add(new ProblemTensor(name, input.Tensor, false));
        }

        var ops = OpCounts.Kinds.Where(k => einsum.OpsPerPoint[k] != 0)
            .Select(k => new OpCount(k.ToString().ToLowerInvariant(), einsum.OpsPerPoint[k])).ToImmutableArray();
        var shape = ProblemShape.Create(einsum.Name, dims, spaces.ToImmutable(), ops) with { Mask = IterationMask.For(einsum, cascade) };
        return new EinsumProblem(einsum, shape, tensors.ToImmutable());
    }
}
