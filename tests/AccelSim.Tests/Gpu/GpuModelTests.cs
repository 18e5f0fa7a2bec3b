using System.Text.Json;
using AccelSim.Core;
using AccelSim.Gpu;
using static AccelSim.Tests.Gpu.GpuTestData;

namespace AccelSim.Tests.Gpu;

/// <summary>The qualitative trends issue 6 requires, each a separate test, plus model algebra.</summary>
public class GpuTrendTests
{
    [Theory]
    [InlineData("h100", "fa2")]
    [InlineData("h100", "fa3")]
    [InlineData("a100", "fa2")]
    public void CausalBelowNonCausalAtShortSequences(string gpu, string kernel)
    {
        foreach (var n in new[] { 512, 1024 })
        {
            var full = Run(gpu, kernel, 16384 / n, 16, n, 128, causal: false, dtype: DataType.Fp16);
            var causal = Run(gpu, kernel, 16384 / n, 16, n, 128, causal: true, dtype: DataType.Fp16);
            Assert.True(causal.Tflops < full.Tflops, $"{gpu} {kernel} n={n}: causal {causal.Tflops} vs {full.Tflops}");
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void Fp8AboveBf16OnHopper(int d)
    {
        var bf16 = Run("h100", "fa3", 2, 16 * 128 / d, 8192, d);
        var fp8 = Run("h100", "fa3", 2, 16 * 128 / d, 8192, d, dtype: DataType.Fp8);
        Assert.True(fp8.Tflops > bf16.Tflops * 1.1, $"d={d}: fp8 {fp8.Tflops} vs bf16 {bf16.Tflops}");
    }

    [Theory]
    [InlineData("h100", "fa2", Direction.Forward)]
    [InlineData("h100", "fa3", Direction.Forward)]
    [InlineData("a100", "fa2", Direction.ForwardBackward)]
    [InlineData("h100", "fa2", Direction.ForwardBackward)]
    [InlineData("b200", "fa4", Direction.Forward)]
    public void HeadDim64BelowHeadDim128(string gpu, string kernel, Direction dir)
    {
        var d64 = Run(gpu, kernel, 4, 32, 4096, 64, dtype: DataType.Fp16, dir: dir);
        var d128 = Run(gpu, kernel, 4, 16, 4096, 128, dtype: DataType.Fp16, dir: dir);
        Assert.True(d64.Tflops < d128.Tflops, $"{gpu} {kernel}: d64 {d64.Tflops} vs d128 {d128.Tflops}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BlackwellAboveHopper(bool causal)
    {
        var hopper = Run("h100", "fa3", 2, 16, 8192, 128, causal);
        var blackwell = Run("b200", "fa4", 2, 16, 8192, 128, causal);
        Assert.True(blackwell.Tflops > 1.5 * hopper.Tflops, $"B200 fa4 {blackwell.Tflops} vs H100 fa3 {hopper.Tflops}");
        // Same kernel family on the same die with faster HBM: H200 never slower than H100.
        Assert.True(Run("h200", "fa3", 2, 16, 8192, 128, causal).Tflops >= hopper.Tflops * 0.999);
    }

    [Theory]
    [InlineData(64, false)]
    [InlineData(128, false)]
    [InlineData(256, false)]
    [InlineData(128, true)]
    public void Fa3AboveFa2OnH100(int d, bool causal)
    {
        var fa2 = Run("h100", "fa2", 2, 2048 / d, 8192, d, causal);
        var fa3 = Run("h100", "fa3", 2, 2048 / d, 8192, d, causal);
        Assert.True(fa3.Tflops > 1.2 * fa2.Tflops, $"d={d}: fa3 {fa3.Tflops} vs fa2 {fa2.Tflops}");
    }

    [Fact]
    public void FlashBeatsStandardAndStandardIsHbmBound()
    {
        var std = Run("h100", "standard", 4, 16, 4096, 128);
        var fa2 = Run("h100", "fa2", 4, 16, 4096, 128);
        Assert.True(fa2.Tflops > 2 * std.Tflops);
        Assert.Equal(GpuResources.Hbm, std.Bottleneck);
        Assert.True(std.TrafficBytes["hbm"] > 10 * fa2.TrafficBytes["hbm"], "S and P round-trip through HBM");
    }
}

public class GpuModelAlgebraTests
{
    [Fact]
    public void FlopCountFollowsFlashAttentionConvention()
    {
        var s = new AttentionShape(2, 4, 4, 1024, 1024, 64, 64, false, null, DataType.Bf16, Direction.Forward);
        Assert.Equal(4.0 * 2 * 4 * 1024 * 1024 * 64, s.Flops());
        var causal = s with { Causal = true };
        Assert.Equal(4.0 * 2 * 4 * 64 * (1024.0 * 1025 / 2), causal.Flops());
        Assert.Equal(3.5 * s.Flops(), (s with { Direction = Direction.ForwardBackward }).Flops());
    }

    [Fact]
    public void ScheduleQuantisesIntoWavesAndLongestFirstShortensCausalTails()
    {
        Assert.Equal(3 * 10.0, FlashModel.Schedule([10, 10], 5, 4, 0));   // 10 CTAs on 4 slots: 3 waves
        var ascending = Enumerable.Range(1, 8).Select(i => (double)i).ToList();
        var descending = ascending.AsEnumerable().Reverse().ToList();
        Assert.True(FlashModel.Schedule(descending, 3, 5, 0) <= FlashModel.Schedule(ascending, 3, 5, 0));
    }

    [Fact]
    public void SplitKvOnlyWhenTheGridUnderfillsTheGpu()
    {
        Assert.Equal(1, FlashModel.SplitHeuristic(1000, 132, 64));
        Assert.True(FlashModel.SplitHeuristic(8, 132, 256) > 4);
    }

    [Fact]
    public void DecodeWithGqaOnHopperIsHbmBoundAndSplitsTheKeys()
    {
        var r = Run("h100", "fa3", 1, 32, 1, 128, dtype: DataType.Bf16, kvHeads: 8, kvLen: 32768);
        Assert.Equal(GpuResources.Hbm, r.Bottleneck);
        Assert.Contains(r.Notes, n => n.StartsWith("split-KV", StringComparison.Ordinal));
        var kvBytes = 8.0 * 32768 * 256 * 2;
        var lowerBound = kvBytes / 3.35e12;
        Assert.InRange(r.LatencySeconds, lowerBound, 4 * lowerBound + 20e-6);
    }

    [Fact]
    public void StreamKLeanAttentionBeatsSplitKvOnAFewVeryLongContexts()
    {
        var lean = Run("a100", "lean", 1, 8, 1, 128, dtype: DataType.Fp16, kvLen: 262144);
        Assert.Contains(lean.Notes, n => n.StartsWith("stream-K", StringComparison.Ordinal));
        var fa2 = Run("a100", "fa2", 1, 8, 1, 128, dtype: DataType.Fp16, kvLen: 262144);
        Assert.True(lean.LatencySeconds <= fa2.LatencySeconds * 1.05);
    }

    [Fact]
    public void LatencyGrowsWithSequenceLengthAndReportIsConsistent()
    {
        double last = 0;
        foreach (var n in new[] { 512, 1024, 2048, 4096, 8192 })
        {
            var r = Run("h100", "fa3", 1, 16, n, 128);
            Assert.True(r.LatencySeconds > last);
            last = r.LatencySeconds;
            Assert.Equal(r.Flops / r.LatencySeconds / 1e12, r.Tflops, 6);
            Assert.InRange(r.PercentOfPeak, 1, 100);
            Assert.True(r.EnergyJoules > r.LatencySeconds * 90 && r.EnergyJoules <= r.LatencySeconds * 700 * 1.0001);
            Assert.Equal((long)Math.Round(r.LatencySeconds * 1.83e9), r.Cycles);
        }
    }

    [Fact]
    public void FootprintsReflectTheKernels()
    {
        var fa3 = Run("h100", "fa3", 1, 16, 4096, 128).Footprint!;
        Assert.Equal(1, fa3.CtasPerSm);
        Assert.True(fa3.SmemBytes <= 227 * 1024);
        var fa4 = Run("b200", "fa4", 1, 16, 4096, 128).Footprint!;
        Assert.Equal(256 * 1024, fa4.TmemBytes);
        var fa2 = Run("a100", "fa2", 1, 16, 4096, 128, dtype: DataType.Fp16).Footprint!;
        Assert.Equal(2, fa2.CtasPerSm);
        Assert.Equal(0, fa2.TmemBytes);
    }

    [Fact]
    public void UnsupportedCombinationsAreInputErrors()
    {
        Assert.Contains("ampere", GpuEvaluator.Unsupported(GpuTestData.Gpu("a100"), Catalog.Get("fa3"),
            new AttentionShape(1, 1, 1, 128, 128, 64, 64, false, null, DataType.Fp16, Direction.Forward)));
        Assert.Throws<InputException>(() => Run("a100", "fa2", 1, 1, 128, 64, dtype: DataType.Fp8));
        Assert.Throws<InputException>(() => Run("h100", "fa4", 1, 1, 128, 64));
    }

    [Fact]
    public void ShapeFactoryFromNamedParameters()
    {
        var s = AttentionShape.FromParameters(new Dictionary<string, object?>
        {
            ["batch"] = 2, ["heads"] = "32", ["kv_heads"] = 8, ["seq_len"] = 4096, ["head_dim"] = 128, ["causal"] = "true", ["dtype"] = "fp8",
        });
        Assert.Equal(new AttentionShape(2, 32, 8, 4096, 4096, 128, 128, true, null, DataType.Fp8, Direction.Forward), s);
        var e = Assert.Throws<InputException>(() => AttentionShape.FromParameters(new Dictionary<string, object?> { ["heads"] = 32, ["seq_len"] = 1, ["head_dim"] = 64, ["kv_heads"] = 5 }));
        Assert.Contains("kv_heads", e.OneLine);
        Assert.Throws<InputException>(() => AttentionShape.FromParameters(new Dictionary<string, object?> { ["heads"] = 1, ["seq_len"] = 1, ["head_dim"] = 64, ["seqlen"] = 3 }));
    }

    [Fact]
    public void JsonUsesTheSharedFieldNames()
    {
        var json = JsonDocument.Parse(GpuReportFormatter.ToJson(Run("h100", "fa3", 2, 16, 2048, 128, dir: Direction.ForwardBackward))).RootElement;
        foreach (var f in new[] { "cycles", "latency_s", "energy_pJ", "utilization", "traffic_bytes", "bottleneck", "tflops", "cta_footprint" })
            Assert.True(json.TryGetProperty(f, out _), f);
        Assert.True(json.GetProperty("traffic_bytes").GetProperty("hbm").GetDouble() > 0);
        Assert.Equal(2, json.GetProperty("phases").GetArrayLength());
        Assert.Contains("latency", GpuReportFormatter.ToText(Run("b200", "fa4", 1, 16, 8192, 128)));
    }
}

public class GpuWorkloadTests
{
    [Theory]
    [InlineData("attention-1pass.yaml", 12, 12, 1024L, 1024L, 64, false)]
    [InlineData("gqa-1pass.yaml", -1, 8, -1L, -1L, -1, true)]
    public void ShapeFromEinsumWorkload(string file, int heads, int kvHeads, long seq, long kv, int d, bool causal)
    {
        var cascade = AccelSim.Einsum.Loading.WorkloadLoader.Load(Path.Combine(GpuTestData.RepoRoot, "workloads", "attention", file));
        var attention = BoundAttention.Of(cascade);
        Assert.Null(attention.Mismatch(GpuTestData.Catalog.Get("fa3")));
        var s = attention.Shape!;
        if (heads > 0) Assert.Equal(heads, s.Heads);
        Assert.Equal(kvHeads, s.KvHeads);
        if (seq > 0) { Assert.Equal(seq, s.QueryLen); Assert.Equal(kv, s.KvLen); Assert.Equal(d, s.HeadDim); }
        Assert.Equal(causal, s.Causal);
        Assert.Equal(DataType.Bf16, s.DType);
        var r = GpuEvaluator.Evaluate(GpuTestData.Gpu("h100"), attention, GpuTestData.Catalog.Get("fa3"));
        Assert.True(r.Tflops > 0);
        Assert.Equal(2.0 * attention.Analysis.TotalOps.Mac, r.Flops);
    }
}
