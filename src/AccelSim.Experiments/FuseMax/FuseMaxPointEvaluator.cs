using System.Collections.Concurrent;
using AccelSim.Core;
using AccelSim.Experiments.Sweeps;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.FuseMax;

/// <summary>
/// Engine `fusemax`: a study architecture (arch/fusemax/*.yaml, `cascade_architecture:`) priced on a model shape
/// (workloads/models/*.yaml) at a sequence length by the cascade model: attention, and attention plus the layer's
/// GEMMs. The sequence length is the model file's `params.seq_len` (sweep `workload.params.seq_len`) or the option
/// `seq_len`; option `attention_only: true` skips the GEMMs. Any architecture field can be swept through `arch.*`
/// (e.g. `arch.cascade_architecture.set`), any model parameter through `workload.params.*`.
/// </summary>
public sealed class FuseMaxPointEvaluator : IPointEvaluator
{
    private readonly ConcurrentDictionary<string, CascadeEvaluator> _evaluators = new(StringComparer.Ordinal);

    public string Engine => "fusemax";

    public string Description => "cascade model of attention (and the layer's GEMMs) on a 2D + 1D spatial-array study architecture (FuseMax, FLAT, ...)";

    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("latency_s", "s", MetricKind.Time, "attention latency"),
        new("energy_pJ", "pJ", MetricKind.Energy, "attention energy"),
        new("traffic_bytes", "B", MetricKind.Traffic, "attention DRAM traffic"),
        new("util_2d", "fraction", MetricKind.Utilization, "2D array busy fraction during attention"),
        new("util_1d", "fraction", MetricKind.Utilization, "1D array busy fraction during attention"),
        new("e2e_latency_s", "s", MetricKind.Time, "attention + the layer's GEMMs"),
        new("e2e_energy_pJ", "pJ", MetricKind.Energy, "attention + the layer's GEMMs"),
        new("e2e_traffic_bytes", "B", MetricKind.Traffic, "attention + the layer's GEMMs"),
        new("e2e_util_2d", "fraction", MetricKind.Utilization, "2D array busy fraction over the layer"),
        new("e2e_util_1d", "fraction", MetricKind.Utilization, "1D array busy fraction over the layer"),
        new("query_tile", "queries", MetricKind.Count, "queries per global-buffer tile (FuseMax's P1 x 256)"),
        new("buffer_required_bytes", "B", MetricKind.Other, "global-buffer bytes the attention schedule needs"),
        new("memory_bound", "", MetricKind.Count, "1 when attention is DRAM bound"),
    ];

    public IReadOnlyList<string>? OptionNames { get; } = ["seq_len", "attention_only"];

    public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
    {
        var archDoc = point.Arch ?? throw new InputException(point.Sweep.EngineLocation, "arch", "engine fusemax needs a study architecture (arch/fusemax/*.yaml)");
        var evaluator = _evaluators.GetOrAdd(point.ArchKey, _ => new CascadeEvaluator(CascadeArchitectureLoader.Parse(archDoc)));
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        if (point.Workload is { } model)
        {
            if (model.Opt("params") is not { IsMapping: true } ps)
                throw model.Error("engine fusemax expects a model shape file (workloads/models/*.yaml) with params:");
            foreach (var (k, v) in ps.Entries) overrides[k] = v.Text;
        }
        if (point.Option("seq_len") is { } n) overrides["seq_len"] = n;
        if (!overrides.ContainsKey("seq_len"))
            throw new InputException(point.Sweep.EngineLocation, "workload.params.seq_len", "engine fusemax needs a sequence length (workload.params.seq_len or options.seq_len)");
        var report = evaluator.Evaluate((System.Collections.Immutable.ImmutableArray<AccelSim.Einsum.Loading.ParamSource>?)null, overrides,
            point.OptionBool("attention_only", false));
        var m = FuseMaxMetrics.From(report);
        return m.ToDictionary().ToDictionary(kv => kv.Key, kv => MetricValue.Of(kv.Value), StringComparer.Ordinal);
    }
}
