using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Einsum.Ir;

/// <summary>
/// One extended Einsum, bound to sizes: for every point of <see cref="Iteration"/> that passes <see cref="Filter"/>,
/// compute <see cref="Body"/> from the <see cref="Inputs"/> and combine it into <see cref="Output"/> with
/// <see cref="Reduce"/> over the <see cref="ReduceVariables"/> (or assign, when nothing is reduced).
/// </summary>
/// <remarks>
/// Missing elements follow sparse-tensor semantics: an element outside a mask, or never written, is empty.
/// Add, max and min of two tensor values treat an empty operand as their identity (union); with an operand that reads
/// no tensor (x + bias, max(x, 0)) an empty x gives empty, so a mask carries through downstream Einsums; multiply, divide, subtract and functions of one
/// argument yield empty when an operand is empty (intersection). A reduction skips empty values and yields empty when
/// all are. This makes masks and the first step of a running (1-pass) recurrence exact without -inf sentinels.
/// </remarks>
public sealed record ExtendedEinsum(
    string Name,
    int Index,
    ImmutableArray<IterationVariable> Iteration,
    TensorAccess Output,
    ImmutableArray<TensorAccess> Inputs,
    BoundExpr Body,
    ReduceOp? Reduce,
    ImmutableArray<int> ReduceVariables,
    BoundExpr? Filter,
    double? Init,
    OpCounts OpsPerPoint,
    string Text,
    SourceLocation Location)
{
    /// <summary>
    /// The fraction of points a `where:` that reads tensors keeps, as declared by `density:` (null when undeclared).
    /// Analysis uses it in place of the tensor values, which it does not know.
    /// </summary>
    public double? DeclaredDensity { get; init; }

    /// <summary>The conjuncts of <see cref="Filter"/> that read no tensor (null when none, or no filter).</summary>
    public BoundExpr? StaticFilter => Conjuncts(Filter).Where(c => !c.Reads().Any())
        .Aggregate((BoundExpr?)null, (a, c) => a is null ? c : new BinaryBound(BinaryFn.And, a, c));

    /// <summary>The conjuncts of <see cref="Filter"/> that read a tensor: a data-dependent mask.</summary>
    public ImmutableArray<BoundExpr> DataFilter => [.. Conjuncts(Filter).Where(c => c.Reads().Any())];

    private static IEnumerable<BoundExpr> Conjuncts(BoundExpr? e) => e switch
    {
        null => [],
        BinaryBound { Fn: BinaryFn.And } b => Conjuncts(b.Left).Concat(Conjuncts(b.Right)),
        _ => [e],
    };

    /// <summary>Number of points of the unfiltered iteration space.</summary>
    public long DenseIterationPoints => Iteration.Aggregate(1L, (a, v) => checked(a * v.Size));

    public int VariableIndex(string name)
    {
        for (var i = 0; i < Iteration.Length; i++)
            if (Iteration[i].Name == name) return i;
        return -1;
    }

    public bool Iterates(string variable) => VariableIndex(variable) >= 0;

    /// <summary>Variables of the output (in output order): the Einsum's "map" variables.</summary>
    public IEnumerable<int> OutputVariables =>
        Output.Indices.Select(i => i.SoleVariable).Where(v => v.HasValue).Select(v => v!.Value);

    public override string ToString() => Text;
}

/// <summary>Which tensors and ranks of an attention workload play which role (used by GPU/pruning engines and tests).</summary>
public sealed record AttentionInfo(
    string Query, string Key, string Value, string Output,
    string QueryRank, string KeyRank, string HeadDimRank, string ValueDimRank,
    string? BatchRank, string? HeadRank, string? KvHeadRank, string? GroupRank,
    bool Causal, long? Window, double Scale);

/// <summary>
/// A bound Einsum cascade: the workload after parameters are resolved. Immutable; safe to share across threads.
/// </summary>
public sealed record Cascade(
    string Name,
    string? Description,
    string File,
    ImmutableDictionary<string, double> Parameters,
    ImmutableArray<Rank> Ranks,
    ImmutableArray<TensorDef> Tensors,
    ImmutableArray<ExtendedEinsum> Einsums,
    AttentionInfo? Attention,
    int WordBits)
{
    public Rank Rank(string name) => Ranks.First(r => r.Name == name);

    public Rank? FindRank(string name) => Ranks.FirstOrDefault(r => r.Name == name);

    public TensorDef Tensor(string name) => Tensors.First(t => t.Name == name);

    public TensorDef? FindTensor(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    public ExtendedEinsum? FindEinsum(string name) => Einsums.FirstOrDefault(e => e.Name == name);

    /// <summary>The Einsum that writes a tensor, or null for cascade inputs.</summary>
    public ExtendedEinsum? Producer(string tensor) => Einsums.FirstOrDefault(e => e.Output.Tensor == tensor);

    public IEnumerable<ExtendedEinsum> Consumers(string tensor) => Einsums.Where(e => e.Inputs.Any(a => a.Tensor == tensor));

    public double Parameter(string name) => Parameters.TryGetValue(name, out var v)
        ? v : throw new KeyNotFoundException($"workload {Name} has no parameter '{name}'");

    /// <summary>The rank an index variable iterates (m1 -> M1).</summary>
    public Rank RankOfVariable(string variable) => Ranks.First(r => r.Variable == variable);
}
