using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Loading;
using BenchmarkDotNet.Attributes;

namespace AccelSim.Benchmarks;

/// <summary>
/// `accelsim analyze` on the largest shipped workloads (issue 2 target: under 50 ms). Parse+bind+analyze is what the
/// CLI does; Analyze alone is what a sweep pays per point after binding.
/// </summary>
[MemoryDiagnoser]
public class AnalyzeBenchmarks
{
    private WorkloadSpec _layer = null!;
    private WorkloadSpec _causal = null!;
    private string _layerPath = null!;

    [GlobalSetup]
    public void Setup()
    {
        _layerPath = RepoFiles.Of("workloads", "layers", "transformer-layer.yaml");
        _layer = WorkloadLoader.LoadSpec(_layerPath);
        _causal = WorkloadLoader.LoadSpec(RepoFiles.Of("workloads", "attention", "gqa-1pass.yaml"));
    }

    [Benchmark(Description = "transformer-layer: load+bind+analyze (seq 4096)")]
    public CascadeReport LayerEndToEnd() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Load(_layerPath, new Dictionary<string, string> { ["seq_len"] = "4096" }));

    [Benchmark(Description = "transformer-layer: bind+analyze (seq 4096)")]
    public CascadeReport LayerBound() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Bind(_layer, new Dictionary<string, string> { ["seq_len"] = "4096" }));

    [Benchmark(Description = "gqa-1pass causal: bind+analyze (seq 131072)")]
    public CascadeReport CausalLong() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Bind(_causal, new Dictionary<string, string> { ["seq_len"] = "131072" }));
}

internal static class RepoFiles
{
    public static string Of(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AccelSim.sln"))) dir = dir.Parent;
        var root = dir?.FullName ?? Directory.GetCurrentDirectory();
        return Path.Combine([root, .. parts]);
    }
}
