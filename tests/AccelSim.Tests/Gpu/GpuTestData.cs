using AccelSim.Gpu;

namespace AccelSim.Tests.Gpu;

/// <summary>Locates the repository's arch/gpu directory and caches the loaded specs.</summary>
internal static class GpuTestData
{
    public static readonly string RepoRoot = FindRoot();
    public static string ArchDir => Path.Combine(RepoRoot, "arch", "gpu");
    public static string MeasurementsCsv => Path.Combine(ArchDir, "measurements", "published-attention.csv");

    private static readonly Lazy<KernelCatalog> CatalogLazy = new(() => KernelCatalogLoader.LoadFile(Path.Combine(ArchDir, "kernels.yaml")));
    public static KernelCatalog Catalog => CatalogLazy.Value;

    public static GpuSpec Gpu(string file) => GpuSpecLoader.LoadFile(Path.Combine(ArchDir, file + ".yaml"));

    public static GpuReport Run(string gpu, string kernel, int batch, int heads, long seq, int d, bool causal = false,
        DataType dtype = DataType.Bf16, Direction dir = Direction.Forward, int? kvHeads = null, long? kvLen = null) =>
        GpuEvaluator.Evaluate(Gpu(gpu), new AttentionShape(batch, heads, kvHeads ?? heads, seq, kvLen ?? seq, d, d, causal, null, dtype, dir),
            Catalog.Get(kernel));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AccelSim.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("AccelSim.sln not found above the test binaries");
    }
}
