using AccelSim.Core;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Experiments.Engines;

/// <summary>
/// Engine `analyze`: architecture-independent properties of an Einsum cascade (operation counts by kind, passes over
/// the key rank, compulsory traffic, arithmetic intensity), e.g. to sweep sequence length, masks or tile sizes.
/// Option `rank` picks the rank whose passes are reported (default M).
/// </summary>
public sealed class CascadeAnalysisEvaluator : IPointEvaluator
{
    public string Engine => "analyze";

    public string Description => "Einsum cascade analysis: op counts by kind, passes, compulsory traffic, arithmetic intensity";

    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("flops", "FLOP", MetricKind.Count, "all operations, a MAC counting 2"),
        new("macs", "MAC", MetricKind.Count, "multiply-accumulates"),
        new("exps", "op", MetricKind.Count, "exponentials and logarithms"),
        new("maxes", "op", MetricKind.Count, "max/min comparisons"),
        new("adds", "op", MetricKind.Count, "additions and subtractions"),
        new("divides", "op", MetricKind.Count, "divisions"),
        new("compulsory_bytes", "B", MetricKind.Traffic, "inputs read once plus outputs written once"),
        new("intensity", "FLOP/B", MetricKind.Intensity, "flops / compulsory bytes"),
        new("passes", "", MetricKind.Count, "passes over the chosen rank (option rank, default M)"),
    ];

    public IReadOnlyList<string>? OptionNames { get; } = ["rank"];

    public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
    {
        var doc = point.Workload ?? throw new InputException(point.Sweep.EngineLocation, "workload", "engine analyze needs a workload");
        var cascade = WorkloadLoader.Bind(WorkloadSpec.Parse(doc));
        var report = CascadeAnalyzer.Analyze(cascade);
        var rank = point.Option("rank") ?? "M";
        // An absent rank would report 0 passes, indistinguishable from a rank nothing iterates over.
        if (cascade.FindRank(rank) is null)
            throw new InputException(point.Sweep.OptionsLocation ?? point.Sweep.EngineLocation, "options.rank",
                $"workload {cascade.Name} has no rank '{rank}'{Suggest.DidYouMean(rank, cascade.Ranks.Select(r => r.Name))} " +
                $"(ranks: {string.Join(", ", cascade.Ranks.Select(r => r.Name))})");
        var ops = report.TotalOps;
        return new Dictionary<string, MetricValue>(StringComparer.Ordinal)
        {
            ["flops"] = report.TotalFlops,
            ["macs"] = ops.Mac,
            ["exps"] = ops.Exp,
            ["maxes"] = ops.Max,
            ["adds"] = ops.Add,
            ["divides"] = ops.Div,
            ["compulsory_bytes"] = report.CompulsoryBytes,
            ["intensity"] = report.ArithmeticIntensity,
            ["passes"] = (long)(report.PassesOver(rank)?.Passes ?? 0),
        };
    }
}
