using AccelSim.Core;
using AccelSim.Gpu;
using static AccelSim.Tests.Gpu.GpuTestData;

namespace AccelSim.Tests.Gpu;

/// <summary>
/// The per-algorithm mechanisms that distinguish the kernel families (FlashAttention-1's loop order, the
/// implementations' split heuristics, dQ schemes, register spills, the eager PyTorch kernel sequence), each checked
/// against its own algebra rather than against the measurements.
/// </summary>
public class GpuKernelMechanismTests
{
    private static readonly string KernelsYaml = File.ReadAllText(Path.Combine(ArchDir, "kernels.yaml"));

    private static GpuReport RunWith(KernelCatalog catalog, string gpu, string kernel, int batch, int heads, long seq, int d,
        bool causal = false, DataType dtype = DataType.Fp16, Direction dir = Direction.Forward) =>
        GpuEvaluator.Evaluate(GpuTestData.Gpu(gpu), new AttentionShape(batch, heads, heads, seq, seq, d, d, causal, null, dtype, dir),
            catalog.Get(kernel));

    [Fact]
    public void Fa1ForwardSplitsFollowTheV1Heuristic()
    {
        // 48 heads on 108 SMs: the fewest splits within 95% of the best wave efficiency is 9 (exactly 4 waves).
        Assert.Equal(9, Flash1Model.ForwardSplits(48, 108, 1, Flash1Model.MaxForwardSplits));
        Assert.Equal(1, Flash1Model.ForwardSplits(1080, 108, 1, Flash1Model.MaxForwardSplits));
        Assert.InRange(Flash1Model.ForwardSplits(16, 108, 2, Flash1Model.MaxForwardSplits), 2, 30);
    }

    [Fact]
    public void Fa1BackwardParallelisesKeysOnlyWhenItPays()
    {
        Assert.True(Flash1Model.BackwardSplitsKeys(16, 108, 1, 16384, 128, causal: true));    // >= 10 key blocks, causal
        Assert.True(Flash1Model.BackwardSplitsKeys(16, 108, 1, 16384, 128, causal: false));   // 16 CTAs cannot fill 108 SMs
        Assert.False(Flash1Model.BackwardSplitsKeys(1024, 108, 1, 512, 128, causal: false));  // 9.5 waves already
    }

    [Fact]
    public void L2HitFractionIsOneWhenTheWorkingSetFitsAndFallsBeyond()
    {
        var a100 = GpuTestData.Gpu("a100");
        Assert.Equal(1, Flash1Model.L2HitFraction(a100, a100.L2Bytes / 2.0));
        Assert.Equal(0.5, Flash1Model.L2HitFraction(a100, 2.0 * a100.L2Bytes), 12);
        Assert.True(Flash1Model.L2HitFraction(a100, 4.0 * a100.L2Bytes) < Flash1Model.L2HitFraction(a100, 3.0 * a100.L2Bytes));
    }

    /// <summary>
    /// FA1's key/value-stationary loop round-trips the FP32 output accumulator once per key block: Theta(N^2 d / Bc)
    /// HBM bytes once the swept rows overflow L2, against FA2's Theta(N d).
    /// </summary>
    [Fact]
    public void Fa1OutputAccumulatorTrafficGrowsWithTheNumberOfKeyBlocks()
    {
        var fa1 = Run("a100", "fa1", 1, 16, 16384, 128, dtype: DataType.Fp16);
        var fa2 = Run("a100", "fa2", 1, 16, 16384, 128, dtype: DataType.Fp16);
        Assert.True(fa1.TrafficBytes["hbm"] > 20 * fa2.TrafficBytes["hbm"], $"{fa1.TrafficBytes["hbm"]} vs {fa2.TrafficBytes["hbm"]}");
        Assert.Contains(fa1.Notes, n => n.Contains("O accumulator round trips", StringComparison.Ordinal));
        // A single short head sweeps few rows: they stay in L2 and HBM traffic stays near compulsory.
        var small = Run("a100", "fa1", 1, 1, 2048, 128, dtype: DataType.Fp16);
        var smallFa2 = Run("a100", "fa2", 1, 1, 2048, 128, dtype: DataType.Fp16);
        Assert.True(small.TrafficBytes["hbm"] < 2 * smallFa2.TrafficBytes["hbm"]);
    }

    /// <summary>FA2 paper: FlashAttention-2 about 2x FlashAttention; FA1's accumulator traffic hurts head dim 128 most.</summary>
    [Theory]
    [InlineData("a100")]
    [InlineData("h100")]
    public void Fa1IsWellBelowFa2AndLosesMoreAtHeadDim128(string gpu)
    {
        var fa1d128 = Run(gpu, "fa1", 2, 16, 8192, 128, dtype: DataType.Fp16, dir: Direction.ForwardBackward);
        var fa2d128 = Run(gpu, "fa2", 2, 16, 8192, 128, dtype: DataType.Fp16, dir: Direction.ForwardBackward);
        var fa1d64 = Run(gpu, "fa1", 2, 32, 8192, 64, dtype: DataType.Fp16, dir: Direction.ForwardBackward);
        Assert.True(fa2d128.Tflops > 1.8 * fa1d128.Tflops, $"fa2 {fa2d128.Tflops} vs fa1 {fa1d128.Tflops}");
        Assert.True(fa1d128.Tflops < fa1d64.Tflops, $"fa1 d128 {fa1d128.Tflops} vs d64 {fa1d64.Tflops}");
    }

    [Fact]
    public void Fa1ForwardPhasesAreSerialisedByBarriers()
    {
        var r = Run("a100", "fa1", 4, 16, 4096, 128, dtype: DataType.Fp16);
        Assert.Contains(r.Phases, p => p.Bottleneck is GpuResources.Latency or GpuResources.Hbm);
        Assert.Equal(16, r.Tile!.BlockRows);
    }

    [Fact]
    public void TritonBackwardPicksTheFasterParallelisation()
    {
        var shortSeq = Run("a100", "fa2-triton", 32, 32, 512, 64, dtype: DataType.Fp16, dir: Direction.ForwardBackward);
        Assert.Contains(shortSeq.Notes, n => n.Contains("one CTA per head is faster", StringComparison.Ordinal));
        var longSeq = Run("a100", "fa2-triton", 1, 32, 16384, 64, dtype: DataType.Fp16, dir: Direction.ForwardBackward);
        Assert.Contains(longSeq.Notes, n => n.Contains("one CTA per key block is faster", StringComparison.Ordinal));
        // The replicas (one fp16 dQ per key block, zero-filled and summed) show up as HBM traffic.
        Assert.True(longSeq.TrafficBytes["hbm"] > 128 * (1.0 * 32 * 16384 * 64 * 2));
    }

    [Fact]
    public void RegisterSpillsOnlyWhereTheBackwardTileOutgrowsTheRegisterFile()
    {
        var shape64 = new AttentionShape(1, 1, 1, 4096, 4096, 64, 64, false, null, DataType.Fp16, Direction.Backward);
        var shape128 = shape64 with { HeadDim = 128, ValueDim = 128 };
        var fa2 = Catalog.Get("fa2").Backward!;
        var triton = Catalog.Get("fa2-triton").Backward!;
        Assert.Equal(0, FlashModel.SpillBytes(fa2, fa2.TileFor(64, DataType.Fp16), shape64));
        Assert.Equal(0, FlashModel.SpillBytes(fa2, fa2.TileFor(128, DataType.Fp16), shape128));
        Assert.Equal(0, FlashModel.SpillBytes(triton, triton.TileFor(64, DataType.Fp16), shape64));
        Assert.True(FlashModel.SpillBytes(triton, triton.TileFor(128, DataType.Fp16), shape128) > 0);
    }

    [Fact]
    public void XformersStagesTheAttentionTileInSharedMemory()
    {
        var xf = Run("a100", "xformers", 16, 32, 1024, 64, dtype: DataType.Fp16);
        var fa2 = Run("a100", "fa2", 16, 32, 1024, 64, dtype: DataType.Fp16);
        Assert.True(xf.TrafficBytes["smem"] > fa2.TrafficBytes["smem"]);
        Assert.True(xf.Tflops < fa2.Tflops);
        Assert.Equal(2, xf.Tile!.WarpCols);
    }

    [Theory]
    [InlineData(2048, false, 6, 10)]
    [InlineData(2048, true, 10, 10)]
    [InlineData(1024, false, 6, 9)]
    public void StandardAttentionRunsTheBenchmarksKernelSequence(long n, bool causal, int fwdKernels, int bwdKernels)
    {
        var r = Run("h100", "standard", 2, 16, n, 64, causal, DataType.Fp16, Direction.ForwardBackward);
        Assert.Equal(fwdKernels, r.Phases[0].Ctas);
        Assert.Equal(bwdKernels, r.Phases[1].Ctas);
        Assert.Contains($"({fwdKernels} kernels)", r.Phases[0].Name);
    }

    [Fact]
    public void StandardAttentionLayoutCopiesCostMostAtShortSequences()
    {
        var unpacked = KernelCatalogLoader.LoadText(KernelsYaml.Replace("packed_qkv_input: true", "packed_qkv_input: false"), "k.yaml");
        double Overhead(long n, int batch)
        {
            var packed = Run("h100", "standard", batch, 16, n, 128, dtype: DataType.Fp16);
            var plain = RunWith(unpacked, "h100", "standard", batch, 16, n, 128);
            return packed.LatencySeconds / plain.LatencySeconds;
        }
        Assert.True(Overhead(512, 32) > Overhead(8192, 2));
        Assert.True(Overhead(8192, 2) > 1);
    }

    [Fact]
    public void PipelineFillLowersShortSequenceUtilisationMost()
    {
        var noFill = KernelCatalogLoader.LoadText(KernelsYaml.Replace("pipeline_fill: true", "pipeline_fill: false"), "k.yaml");
        double Ratio(long n, int batch, DataType t)
        {
            var with = Run("h100", "fa3", batch, 16, n, 128, dtype: t);
            var without = RunWith(noFill, "h100", "fa3", batch, 16, n, 128, dtype: t);
            return with.Tflops / without.Tflops;
        }
        Assert.True(Ratio(512, 32, DataType.Fp8) < Ratio(16384, 1, DataType.Fp8));
        Assert.True(Ratio(512, 32, DataType.Fp8) < Ratio(512, 32, DataType.Bf16));   // exp does not scale with the FP8 rate
        Assert.True(Ratio(16384, 1, DataType.Bf16) > 0.97);
    }

    [Theory]
    [InlineData("tiles: {64: [64, 64, 4, 2, 2], 128: [32, 128, 4, 1, 4]}", "tiles: {64: [64, 64, 4, 2, 3], 128: [32, 128, 4, 1, 4]}", "warps along rows x warps along keys")]
    [InlineData("loop_order: kv_outer ", "loop_order: q_outer ", "warps split the keys exactly")]
    [InlineData("global_operand_gemms: 5 ", "global_operand_gemms: 6 ", "must be between 0 and 5")]
    [InlineData("bwd_parallelism: fastest", "bwd_parallelism: per_head\n    bogus_after: 1", "unknown field")]
    [InlineData("dq_accumulation: rmw_fp32 ", "dq_accumulation: everywhere ", "expected atomic_fp32")]
    public void BadKernelStructureGivesOneLineErrors(string from, string to, string problem)
    {
        Assert.Contains(from, KernelsYaml);
        var e = Assert.Throws<InputException>(() => KernelCatalogLoader.LoadText(KernelsYaml.Replace(from, to), "k.yaml"));
        Assert.StartsWith("k.yaml:", e.OneLine);
        Assert.Contains(problem, e.OneLine);
        Assert.DoesNotContain("\n", e.OneLine);
    }

    [Fact]
    public void OneCtaPerHeadCannotUseAtomics()
    {
        var yaml = KernelsYaml.Replace("bwd_parallelism: key_blocks     # num_splits_key", "bwd_parallelism: per_head     # num_splits_key")
            .Replace("dq_accumulation: rmw_fp32 ", "dq_accumulation: atomic_fp32 ");
        var e = Assert.Throws<InputException>(() => KernelCatalogLoader.LoadText(yaml, "k.yaml"));
        Assert.Contains("read-modify-write", e.OneLine);
    }
}
