using AccelSim.Experiments.Spatten;
using AccelSim.Pruning;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;
using AccelSim.Pruning.Workload;
using BenchmarkDotNet.Attributes;

namespace AccelSim.Benchmarks;

/// <summary>
/// SpAtten pruning model: the whole `reproduce spatten` study (30 benchmarks x 6 technique sets, seeded top-k
/// simulation) and its hot parts. Target: the study in well under a second so sweeps over pruning settings are cheap.
/// </summary>
[MemoryDiagnoser]
public class PruningBenchmarks
{
    private SpattenArch _arch = null!;
    private IReadOnlyList<Benchmark> _benchmarks = null!;
    private Benchmark _gpt2Medium = null!;
    private PrunedWorkload _gpt2All = null!;
    private SpattenStudyResult _study = null!;

    [GlobalSetup]
    public void Setup()
    {
        _arch = SpattenArch.LoadFile(RepoFiles.Of("arch", "spatten.yaml"));
        _benchmarks = SpattenStudy.LoadBenchmarks([RepoFiles.Of("workloads", "spatten", "bert.yaml"), RepoFiles.Of("workloads", "spatten", "gpt2.yaml")]);
        _gpt2Medium = _benchmarks.Single(b => b.Name == "gpt2-medium/wikitext-2");
        _gpt2All = PrunedWorkloadBuilder.Build(_gpt2Medium, TechniqueSet.All);
        _study = SpattenStudy.Run(_benchmarks, _arch);
    }

    [Benchmark(Description = "reproduce spatten study (no I/O)")]
    public double Study() => SpattenStudy.Run(_benchmarks, _arch).AverageDramReduction();

    [Benchmark(Description = "GPT-2-medium pruned-workload build (all techniques)")]
    public int BuildGpt2() => PrunedWorkloadBuilder.Build(_gpt2Medium, TechniqueSet.All).Passes.Length;

    [Benchmark(Description = "GPT-2-medium engine evaluation, seeded top-k simulation")]
    public double EvaluateSimulated() => new SpattenEngine(_arch).Evaluate(_gpt2All).Cycles;

    [Benchmark(Description = "GPT-2-medium engine evaluation, closed-form top-k")]
    public double EvaluateExpected() => new SpattenEngine(_arch, TopKTiming.Expected).Evaluate(_gpt2All).Cycles;

    [Benchmark(Description = "cross-engine pricing of the study: FuseMax + H100 FA2/FA3, cold shape caches")]
    public int CrossEngine() => SpattenCrossEngine.Run(_study, SpattenCrossEngine.DefaultEngines(RepoFiles.Of())).Rows.Length;
}
