using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Loading;
using BenchmarkDotNet.Attributes;

namespace AccelSim.Benchmarks;

/// <summary>
/// `accelsim analyze` on the largest shipped workloads (issue 2 target: under 50 ms). Parse+bind+analyze is what the
/// CLI does; Analyze alone is what a sweep pays per point after binding.
/// Mask counting (issue 14 targets): causal + block-sparse under 2 s at 128K tokens and under 10 s at 1M (block 64:
/// 16,384^2 tiles, each kept or not by its hash), 2-D neighbourhood attention at 256 x 256. Before counting by tiles,
/// causal + block-sparse took 4 s at 4K and over 2 min at 32K, and the 2-D mask 22 s at 128 x 128.
/// </summary>
[MemoryDiagnoser]
public class AnalyzeBenchmarks
{
    private WorkloadSpec _layer = null!;
    private WorkloadSpec _causal = null!;
    private string _layerPath = null!;
    private WorkloadSpec _blockSparse = null!;
    private WorkloadSpec _neighbourhood = null!;

    [GlobalSetup]
    public void Setup()
    {
        _layerPath = RepoFiles.Of("workloads", "layers", "transformer-layer.yaml");
        _layer = WorkloadLoader.LoadSpec(_layerPath);
        _causal = WorkloadLoader.LoadSpec(RepoFiles.Of("workloads", "attention", "gqa-1pass.yaml"));
        _blockSparse = WorkloadLoader.LoadSpec(RepoFiles.Of("workloads", "attention", "block-sparse-3pass.yaml"));
        _neighbourhood = WorkloadLoader.LoadSpec(RepoFiles.Of("tests", "AccelSim.Benchmarks", "Workloads", "neighbourhood-2d-mask.yaml"));
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

    [Benchmark(Description = "block-sparse-3pass causal: bind+analyze (seq 131072; target < 2 s)")]
    public CascadeReport BlockSparseCausal128K() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Bind(_blockSparse, new Dictionary<string, string> { ["seq_len"] = "131072", ["causal"] = "true" }));

    [Benchmark(Description = "block-sparse-3pass causal: bind+analyze (seq 1048576; target < 10 s)")]
    public CascadeReport BlockSparseCausal1M() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Bind(_blockSparse, new Dictionary<string, string> { ["seq_len"] = "1048576", ["causal"] = "true" }));

    [Benchmark(Description = "block-sparse-3pass: bind+analyze (seq 1048576, every tile hashed)")]
    public CascadeReport BlockSparse1M() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Bind(_blockSparse, new Dictionary<string, string> { ["seq_len"] = "1048576" }));

    [Benchmark(Description = "2-D neighbourhood mask: bind+analyze (256 x 256 queries and keys)")]
    public CascadeReport Neighbourhood2D() =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Bind(_neighbourhood, new Dictionary<string, string> { ["height"] = "256", ["width"] = "256" }));
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
