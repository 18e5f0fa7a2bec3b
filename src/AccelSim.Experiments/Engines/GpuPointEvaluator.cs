using System.Collections.Concurrent;
using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.Sweeps;
using AccelSim.Gpu;

namespace AccelSim.Experiments.Engines;

/// <summary>
/// Engine `gpu`: an attention workload (workloads/attention/*.yaml) run by one kernel family on a GPU spec
/// (arch/gpu/*.yaml). Options: `kernel` (required: fa2, fa3, fa4, cudnn, standard, ...), `direction` (fwd, bwd,
/// fwd+bwd), `dtype` (overrides the workload's word width). Sweep e.g. workload.params.seq_len, arch.hbm_bandwidth.
/// </summary>
public sealed class GpuPointEvaluator : IPointEvaluator
{
    private readonly ConcurrentDictionary<string, (GpuSpec Gpu, KernelCatalog Kernels)> _specs = new();

    public string Engine => "gpu";

    public string Description => "GPU tensor-core model (A100/H100/H200/B200) running a FlashAttention-class kernel on an attention workload";

    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("latency_s", "s", MetricKind.Time, "kernel time"),
        new("tflops", "TFLOP/s", MetricKind.Throughput, "attained TFLOP/s (2 x the cascade's MACs, as the FlashAttention papers count)"),
        new("percent_of_peak", "%", MetricKind.Utilization, "attained / dense tensor-core peak of the data type"),
        new("energy_pJ", "pJ", MetricKind.Energy, "power-based energy estimate"),
        new("hbm_bytes", "B", MetricKind.Traffic, "HBM traffic"),
        new("bottleneck", "", MetricKind.Text, "the resource that bounds the kernel"),
    ];

    public IReadOnlyList<string>? OptionNames { get; } = ["kernel", "direction", "dtype"];

    /// <summary>Option values written in the sweep (fixed or swept) are checked once, at their line, not per point.</summary>
    public void Validate(SweepSpec sweep)
    {
        var kernels = new List<KernelCatalog>();
        foreach (var f in sweep.Archs)
        {
            var root = YNode.LoadText(f.Text, f.DisplayPath);
            if (!root.IsMapping || !root.Has("sm_count")) continue; // not a GPU spec: Evaluate reports it per point
            var spec = GpuSpecLoader.Parse(root);
            if (File.Exists(spec.KernelsFile)) kernels.Add(KernelCatalogLoader.LoadFile(spec.KernelsFile));
        }
        foreach (var (name, value, location, field) in OptionValues(sweep))
        {
            try
            {
                switch (name)
                {
                    case "direction": Directions.Parse(value); break;
                    case "dtype": DataTypes.Parse(value); break;
                    case "kernel": foreach (var catalog in kernels) catalog.Get(value); break;
                }
            }
            catch (InputException e) when (e.Location is null)
            {
                throw new InputException(location, field, e.Problem);
            }
        }
    }

    private static IEnumerable<(string Name, string Value, SourceLocation? Location, string Field)> OptionValues(SweepSpec sweep)
    {
        foreach (var (name, value) in sweep.Options) yield return (name, value, sweep.OptionsLocation, "options." + name);
        foreach (var f in sweep.FixedParameters.Where(f => f.Name.Target == ParameterTarget.Option))
            yield return (f.Name.Path, f.Value, f.Location, f.Location is null ? "--set " + f.Name.Name : "set." + f.Name.Name);
        foreach (var p in sweep.Parameters.Where(p => p.Name.Target == ParameterTarget.Option))
            foreach (var entry in sweep.Axes[p.Axis].Entries)
                yield return (p.Name.Path, entry[p.PositionInAxis], p.Location, "parameters." + p.Name.Name);
    }

    public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
    {
        var archDoc = point.Arch ?? throw new InputException(point.Sweep.EngineLocation, "arch", "engine gpu needs a GPU spec (arch/gpu/*.yaml)");
        var workloadDoc = point.Workload ?? throw new InputException(point.Sweep.EngineLocation, "workload", "engine gpu needs an attention workload");
        var kernelName = point.Option("kernel") ?? throw new InputException(point.Sweep.EngineLocation, "options.kernel", "engine gpu needs options: {kernel: fa3} (or a swept options.kernel)");
        var (gpu, kernels) = _specs.GetOrAdd(point.ArchKey, _ =>
        {
            var spec = GpuSpecLoader.Parse(archDoc);
            return (spec, KernelCatalogLoader.LoadFile(spec.KernelsFile));
        });
        var cascade = WorkloadLoader.Bind(WorkloadSpec.Parse(workloadDoc));
        var direction = point.Option("direction") is { } d ? Directions.Parse(d) : Direction.Forward;
        DataType? dtype = point.Option("dtype") is { } dt ? DataTypes.Parse(dt) : null;
        var r = GpuEvaluation.Price(gpu, kernels.Get(kernelName), cascade, direction, dtype, cascade.File);
        return new Dictionary<string, MetricValue>(StringComparer.Ordinal)
        {
            ["latency_s"] = r.LatencySeconds,
            ["tflops"] = r.Tflops,
            ["percent_of_peak"] = 100 * r.Tflops / r.PeakTflops,
            ["energy_pJ"] = r.EnergyJoules * 1e12,
            ["hbm_bytes"] = r.TrafficBytes.GetValueOrDefault("hbm"),
            ["bottleneck"] = r.Bottleneck,
        };
    }
}
