using AccelSim.Experiments.FuseMax;
using AccelSim.Model.Cascade;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace AccelSim.Benchmarks;

/// <summary>
/// The FuseMax reproduction (issue 5 target: the whole study in under 10 s on one core) and the per-point cost a
/// sweep pays (target: 10,000 points in under a minute on 2 cores, i.e. under 12 ms per point per core).
/// "Whole study, cold" parses every architecture and workload file again; "one point" reuses the cached evaluator,
/// as a sweep does, and binds the workload and prices attention and the layer's GEMMs.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class FuseMaxBenchmarks
{
    private string _root = null!;
    private string _arch = null!;
    private string _bert = null!;
    private string _xlm = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.GetDirectoryName(RepoFiles.Of("AccelSim.sln"))!;
        _arch = FuseMaxStudy.ArchPath(_root, "fusemax");
        _bert = FuseMaxStudy.ModelPath(_root, "bert-base.yaml");
        _xlm = FuseMaxStudy.ModelPath(_root, "xlm.yaml");
        FuseMaxStudy.EvaluatePoint(_arch, _bert, 1024);
    }

    [Benchmark(Description = "whole study, cold (120 points + Pareto, attention and end to end)")]
    public int WholeStudyCold()
    {
        FuseMaxStudy.ClearCache();
        return FuseMaxStudy.Run(_root).Count + FuseMaxPareto.Run(_root).Count;
    }

    [Benchmark(Description = "one point: FuseMax, BERT 64K, attention + GEMMs")]
    public CascadeReport OnePointBert() => FuseMaxStudy.EvaluatePoint(_arch, _bert, 65536);

    [Benchmark(Description = "one point: FuseMax, XLM 1M, attention only")]
    public CascadeReport OnePointXlmAttention() => FuseMaxStudy.EvaluatePoint(_arch, _xlm, 1048576, attentionOnly: true);
}
