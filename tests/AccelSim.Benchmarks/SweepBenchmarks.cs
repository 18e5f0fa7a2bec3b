using AccelSim.Experiments.Sweeps;
using BenchmarkDotNet.Attributes;

namespace AccelSim.Benchmarks;

/// <summary>
/// Sweep runner throughput with the analytic-roofline engine (microseconds per point, so the runner's own
/// per-point cost dominates: spec overrides, YAML, CSV formatting, streaming and the final canonical sort).
/// 10,000 points per invocation; the reported time per operation is the time per point.
/// `UniqueArchPerPoint` varies two machine fields (10,000 distinct architecture documents, the worst case);
/// `SharedDocuments` varies one machine and one workload field (200 distinct documents, the common case).
/// Run: dotnet run -c Release --project tests/AccelSim.Benchmarks -- --filter '*SweepBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class SweepBenchmarks
{
    private const int Points = 10_000;
    private string _dir = "";
    private string _unique = "";
    private string _shared = "";
    private EvaluatorRegistry _registry = null!;

    [Params(1, 2)]
    public int Jobs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "accelsim-sweep-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "m.yaml"), "name: m\npeak_flops: 1e15\nmemory_bandwidth: 3e12\n");
        File.WriteAllText(Path.Combine(_dir, "g.yaml"), "kind: gemm\nm: 4096\nn: 4096\nk: 4096\n");
        _unique = Path.Combine(_dir, "unique.yaml");
        File.WriteAllText(_unique, """
            engine: analytic-roofline
            arch: m.yaml
            workload: g.yaml
            parameters:
              grid:
                arch.peak_flops: {from: 1e13, to: 1e15, step: 1e13}
                arch.memory_bandwidth: {from: 1e11, to: 1e13, step: 1e11}
            """);
        _shared = Path.Combine(_dir, "shared.yaml");
        File.WriteAllText(_shared, """
            engine: analytic-roofline
            arch: m.yaml
            workload: g.yaml
            parameters:
              grid:
                arch.peak_flops: {from: 1e13, to: 1e15, step: 1e13}
                workload.k: {from: 64, to: 6400, step: 64}
            """);
        _registry = BuiltInEvaluators.CreateRegistry();
        foreach (var sweep in new[] { _unique, _shared })
            if (SweepSpecParser.Load(sweep, _registry).PointCount != Points)
                throw new InvalidOperationException("benchmark sweeps must have 10,000 points");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    /// <summary>Parses the sweep afresh (as the CLI does), so no YAML document is cached across invocations.</summary>
    private SweepRunResult Run(string sweep)
    {
        var spec = SweepSpecParser.Load(sweep, _registry);
        var result = SweepRunner.Run(spec, _registry.Get(spec.Engine),
            new SweepRunOptions(Path.Combine(_dir, "out")) { Jobs = Jobs, Force = true });
        if (!result.Completed || result.Failed > 0) throw new InvalidOperationException("sweep did not complete");
        return result;
    }

    [Benchmark(OperationsPerInvoke = Points)]
    public SweepRunResult UniqueArchPerPoint() => Run(_unique);

    [Benchmark(OperationsPerInvoke = Points)]
    public SweepRunResult SharedDocuments() => Run(_shared);
}
