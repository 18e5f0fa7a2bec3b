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
        new("tflops", "TFLOP/s", MetricKind.Throughput, "attained TFLOP/s (FLOPs counted as the FlashAttention papers do)"),
        new("percent_of_peak", "%", MetricKind.Utilization, "attained / dense tensor-core peak of the data type"),
        new("energy_pJ", "pJ", MetricKind.Energy, "power-based energy estimate"),
        new("hbm_bytes", "B", MetricKind.Traffic, "HBM traffic"),
        new("bottleneck", "", MetricKind.Text, "the resource that bounds the kernel"),
    ];

    public void Validate(SweepSpec sweep)
    {
        foreach (var (name, _) in sweep.Options)
            if (name is not ("kernel" or "direction" or "dtype"))
                throw new InputException(sweep.OptionsLocation, "options." + name, "engine gpu takes options kernel, direction, dtype");
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
        var shape = AttentionShape.FromWorkload(cascade, direction);
        if (point.Option("dtype") is { } dt) shape = shape with { DType = DataTypes.Parse(dt) };
        var r = GpuEvaluator.Evaluate(gpu, shape, kernels.Get(kernelName));
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
