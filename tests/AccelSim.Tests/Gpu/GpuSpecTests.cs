using AccelSim.Core;
using AccelSim.Gpu;

namespace AccelSim.Tests.Gpu;

public class GpuSpecTests
{
    [Theory]
    [InlineData("a100", 108, 2048)]
    [InlineData("h100", 132, 4096)]
    [InlineData("h200", 132, 4096)]
    [InlineData("b200", 148, 8192)]
    public void SpecsLoadAndDeriveDenseRatePerSmPerClock(string file, int sms, double flopPerClk)
    {
        var g = GpuTestData.Gpu(file);
        Assert.Equal(sms, g.SmCount);
        Assert.InRange(g.TensorFlopsPerClkPerSm(DataType.Bf16), flopPerClk * 0.99, flopPerClk * 1.01);
        Assert.Equal(16, g.MufuExp2PerClkPerSm);
    }

    [Fact]
    public void EveryQuantityCitesADefinedSource()
    {
        foreach (var file in new[] { "a100", "h100", "h200", "b200" })
        {
            var g = GpuTestData.Gpu(file);
            Assert.True(g.Citations.Count >= 23, $"{file}: {g.Citations.Count} cited quantities");
            foreach (var (field, value) in g.Citations)
                Assert.True(g.Sources.ContainsKey(value.Source), $"{file}.{field} cites unknown source {value.Source}");
            Assert.False(string.IsNullOrWhiteSpace(g.Verified));
        }
    }

    [Fact]
    public void BlackwellHasTensorMemoryAndFp4HopperHasFp8AmpereNeither()
    {
        Assert.Equal(256 * 1024, GpuTestData.Gpu("b200").TmemBytesPerSm);
        Assert.True(GpuTestData.Gpu("b200").Supports(DataType.Fp4));
        Assert.True(GpuTestData.Gpu("h100").Supports(DataType.Fp8));
        Assert.False(GpuTestData.Gpu("a100").Supports(DataType.Fp8));
        Assert.Equal(0, GpuTestData.Gpu("h100").TmemBytesPerSm);
    }

    private const string Minimal = """
        name: X
        architecture: hopper
        compute_capability: "9.0"
        sources: {s: "a datasheet"}
        sm_count: {value: 10, source: s}
        clock_mhz: {value: 1000, source: s}
        tensor_dense_tflops: {bf16: {value: 40.96, source: s}}
        legacy_mma_sync_fraction: {value: 0.5, source: s}
        fp32_lanes_per_sm: {value: 128, source: s}
        mufu_exp2_per_clk_per_sm: {value: 16, source: s}
        register_file_kib_per_sm: {value: 256, source: s}
        max_threads_per_sm: {value: 2048, source: s}
        max_ctas_per_sm: {value: 32, source: s}
        smem_kib_per_sm: {value: 228, source: s}
        smem_kib_per_cta: {value: 227, source: s}
        smem_bytes_per_clk_per_sm: {value: 128, source: s}
        tmem_kib_per_sm: {value: 0, source: s}
        l2_mib: {value: 50, source: s}
        l2_bytes_per_clk: {value: 4096, source: s}
        hbm_gib: {value: 80, source: s}
        hbm_tbps: {value: 3.35, source: s}
        streaming_hbm_efficiency: {value: 0.9, source: s}
        memory_latency_ns: {value: 700, source: s}
        kernel_launch_us: {value: 4, source: s}
        tdp_w: {value: 700, source: s}
        idle_w: {value: 90, source: s}
        """;

    [Fact]
    public void MinimalSpecParses() => Assert.Equal(4096, GpuSpecLoader.LoadText(Minimal, "x.yaml").TensorFlopsPerClkPerSm(DataType.Bf16), 6);

    [Theory]
    [InlineData("sm_count: {value: 10, source: s}", "sm_count: 10", "sm_count", "must cite its source")]
    [InlineData("sm_count: {value: 10, source: s}", "sm_count: {value: 10, source: nowhere}", "sm_count.source", "unknown source")]
    [InlineData("sm_count: {value: 10, source: s}", "sm_count: {value: -3, source: s}", "sm_count.value", "outside the plausible range")]
    [InlineData("tdp_w: {value: 700, source: s}", "tdp_w: {value: 700, source: s}\nbogus: 1", "bogus", "unknown field")]
    [InlineData("hbm_tbps: {value: 3.35, source: s}", "", "hbm_tbps", "required field is missing")]
    [InlineData("architecture: hopper", "architecture: volta", "architecture", "unknown architecture")]
    public void BadSpecsGiveOneLineErrorsWithFileLineAndField(string from, string to, string field, string problem)
    {
        var e = Assert.Throws<InputException>(() => GpuSpecLoader.LoadText(Minimal.Replace(from, to), "bad.yaml"));
        Assert.StartsWith("bad.yaml:", e.OneLine);
        Assert.Contains(field, e.OneLine);
        Assert.Contains(problem, e.OneLine);
        Assert.DoesNotContain("\n", e.OneLine);
    }

    [Fact]
    public void KernelCatalogCoversEveryKernelNameOfTheShippedMeasurements()
    {
        var names = File.ReadAllLines(GpuTestData.MeasurementsCsv).Skip(1).Select(l => l.Split(',')[1]).Distinct();
        foreach (var n in names) Assert.NotNull(GpuTestData.Catalog.Find(n));
    }

    [Fact]
    public void KernelFactorWithoutExplanationIsRejected()
    {
        var yaml = File.ReadAllText(Path.Combine(GpuTestData.ArchDir, "kernels.yaml"))
            .Replace("gemm_efficiency:\n      value: 0.80\n      note:", "gemm_efficiency:\n      value: 0.80\n      nota:");
        Assert.Contains("nota:", yaml);
        var e = Assert.Throws<InputException>(() => KernelCatalogLoader.LoadText(yaml, "k.yaml"));
        Assert.Contains("gemm_efficiency", e.OneLine);
    }
}
