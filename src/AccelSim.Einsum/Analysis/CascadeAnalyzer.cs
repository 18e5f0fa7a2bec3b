using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

public sealed record EinsumAnalysis(
    string Name,
    string Text,
    ImmutableArray<IterationVariable> Iteration,
    long DensePoints,
    long Points,
    OpCounts OpsPerPoint,
    OpCounts Ops,
    string? Reduce,
    ImmutableArray<string> ReduceVariables,
    string Output,
    ImmutableArray<string> Inputs)
{
    /// <summary>Set when <see cref="Points"/> rests on a declared density (a data-dependent mask), not an exact count.</summary>
    public string? DeclaredDensityNote { get; init; }
}

public sealed record TensorFootprint(string Name, TensorRole Role, ImmutableArray<string> Ranks, ImmutableArray<long> Extents, long Elements, int WordBits, double Bytes);

/// <summary>What `accelsim analyze` reports for a cascade.</summary>
public sealed record CascadeReport(
    string Workload,
    string File,
    ImmutableDictionary<string, double> Parameters,
    ImmutableArray<EinsumAnalysis> Einsums,
    ImmutableArray<TensorFootprint> Tensors,
    ImmutableArray<RankPasses> Passes,
    OpCounts TotalOps,
    long TotalFlops,
    double CompulsoryBytes,
    double ArithmeticIntensity)
{
    public EinsumAnalysis Einsum(string name) => Einsums.First(e => e.Name == name);
    public RankPasses? PassesOver(string rank) => Passes.FirstOrDefault(p => p.Rank == rank);
}

/// <summary>Analyses a bound cascade: operation counts (masks counted exactly), footprints, passes, intensity.</summary>
public static class CascadeAnalyzer
{
    /// <summary>
    /// The deepest mask condition counted. Each masked Einsum of a chain adds its filter to the supports it passes on,
    /// so a long chain of masks would grow a condition that every counting step walks recursively.
    /// </summary>
    public const int MaxConditionDepth = 2 * Syntax.Parser.MaxDepth;

    /// <summary>The largest mask condition counted, in tree nodes (Einsums reading several masked inputs combine them).</summary>
    public const int MaxConditionNodes = 20_000;

    public static CascadeReport Analyze(Cascade cascade)
    {
        var supports = new Dictionary<string, BoundExpr?>(StringComparer.Ordinal);
        var einsums = ImmutableArray.CreateBuilder<EinsumAnalysis>();
        var total = OpCounts.Zero;
        var counts = new CountCache();
        foreach (var e in cascade.Einsums)
        {
            if (!e.DataFilter.IsEmpty && e.DeclaredDensity is null)
                throw new InputException(e.Location, null,
                    $"{e.Name}: the number of points depends on the values of {string.Join(", ", e.DataFilter.SelectMany(c => c.Reads()).Select(i => e.Inputs[i].Tensor).Distinct())} read by where:; declare the expected fraction kept with `density: 0.25` (say) beside its where:");
            var condition = Support.PointCondition(e, supports, declared: true);
            if (condition is not null && Support.Measure(condition, MaxConditionDepth, MaxConditionNodes) is var (depth, nodes)
                && (depth > MaxConditionDepth || nodes > MaxConditionNodes))
                throw new InputException(e.Location, null,
                    $"{e.Name}: the masks reaching this Einsum through its inputs combine into a condition " +
                    (depth > MaxConditionDepth ? $"deeper than {MaxConditionDepth} levels" : $"of more than {MaxConditionNodes:N0} terms") +
                    "; too many masked Einsums are chained for exact counting");
            long points;
            string? declaredNote;
            try
            {
                points = PointCounter.CountDeclared(condition, e.Iteration, counts, out declaredNote);
            }
            catch (CountingLimitException limit)
            {
                throw new InputException(e.Location, null, $"{e.Name}: {limit.Message}; use smaller sizes or larger blocks");
            }
            supports[e.Output.Tensor] = Support.OutputSupport(e, condition);
            OpCounts ops;
            try
            {
                ops = e.OpsPerPoint.Scale(points);
                total += ops;
                _ = total.Flops;
            }
            catch (OverflowException)
            {
                throw new InputException(e.Location, null,
                    $"{e.Name}: {Invariant.Grouped(points)} points x {e.OpsPerPoint.Total} operations per point overflow 64-bit operation counts (with the Einsums before it); use smaller sizes");
            }
            einsums.Add(new EinsumAnalysis(e.Name, e.Text, e.Iteration, e.DenseIterationPoints, points, e.OpsPerPoint, ops,
                e.Reduce?.ToString().ToLowerInvariant(), [.. e.ReduceVariables.Select(v => e.Iteration[v].Name)],
                e.Output.Tensor, [.. e.Inputs.Select(i => i.Tensor).Distinct()]) { DeclaredDensityNote = declaredNote });
        }
        var tensors = cascade.Tensors
            .Select(t => new TensorFootprint(t.Name, t.Role, t.Ranks, t.Extents, t.Elements, t.WordBits, t.Bytes))
            .ToImmutableArray();
        var compulsory = tensors.Where(t => t.Role != TensorRole.Intermediate).Sum(t => t.Bytes);
        return new CascadeReport(cascade.Name, cascade.File, cascade.Parameters, einsums.ToImmutable(), tensors,
            PassAnalysis.Analyze(cascade), total, total.Flops, compulsory, compulsory > 0 ? total.Flops / compulsory : 0);
    }
}
