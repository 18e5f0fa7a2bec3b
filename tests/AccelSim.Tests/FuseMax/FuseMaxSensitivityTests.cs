using AccelSim.Experiments.FuseMax;
using AccelSim.Model.Cascade;

namespace AccelSim.Tests.FuseMax;

/// <summary>
/// The numbers follow the architecture files: changing the buffer, the array size or the DRAM bandwidth moves them
/// the way the hardware says, with closed-form expectations where the study's formulas give one.
/// </summary>
public class FuseMaxSensitivityTests
{
    private static readonly string Root = RepoPaths.Root;
    private static string Arch(string name) => FuseMaxStudy.ArchPath(Root, name);
    private static string Model(string file) => FuseMaxStudy.ModelPath(Root, file);

    private static CascadeReport Eval(string arch, string model, long n, string[]? set = null, Dictionary<string, string>? wl = null) =>
        FuseMaxStudy.EvaluatePoint(Arch(arch), Model(model), n, set, wl, attentionOnly: true);

    [Fact]
    public void HalvingTheGlobalBufferRaisesFuseMaxKvRereadsAtLongSequences()
    {
        const long n = 1048576;
        var full = Eval("fusemax", "bert-base.yaml", n).Attention;
        var half = Eval("fusemax", "bert-base.yaml", n, ["L3.capacity_words=4194304"]).Attention;
        // BERT: P1 = 128 query tiles of 256 with 16 MiB, 64 with 8 MiB; K and V are re-read P / (P1 * 256) times.
        Assert.Equal(128 * 256, full.Groups[0].Tiles["query_tile"]);
        Assert.Equal(64 * 256, half.Groups[0].Tiles["query_tile"]);
        double bhpe = 64.0 * 12 * n * 64;
        double Traffic(double rereads) => 2 * (2 * bhpe + rereads * 2 * bhpe);
        Assert.Equal(Traffic(32), full.TrafficBytes, Traffic(32) * 1e-12);
        Assert.Equal(Traffic(64), half.TrafficBytes, Traffic(64) * 1e-12);
        Assert.True(half.BufferNeed.RequiredWords <= 4194304 && full.BufferNeed.RequiredWords > 4194304);
        // Short sequences fit either way: nothing changes.
        Assert.Equal(Eval("fusemax", "bert-base.yaml", 1024).Attention.TrafficBytes,
            Eval("fusemax", "bert-base.yaml", 1024, ["L3.capacity_words=4194304"]).Attention.TrafficBytes);
    }

    [Fact]
    public void ABiggerArrayLowersComputeBoundLatency()
    {
        const long n = 65536;
        var base256 = Eval("fusemax", "xlm.yaml", n).Attention;
        var big = Eval("fusemax", "xlm.yaml", n, ["PE2D.mesh=512"], new() { ["tile"] = "512" }).Attention;
        var small = Eval("fusemax", "xlm.yaml", n, ["PE2D.mesh=128"], new() { ["tile"] = "128" }).Attention;
        Assert.False(base256.MemoryBound);
        // The 2D work scales with 1/d^2 and the 1D work with 1/d: 2.5x to 4x per doubling of d here.
        Assert.InRange(base256.LatencySeconds / big.LatencySeconds, 2.5, 4.0);
        Assert.InRange(small.LatencySeconds / base256.LatencySeconds, 2.5, 4.0);
        Assert.True(big.Utilization("2d") > 0.9);
    }

    [Fact]
    public void FlatAndUnfusedRespondToArraySizeAndBandwidth()
    {
        // FLAT at 1K is bound by its 1D softmax array: a 512-wide 1D array halves the latency.
        var flat = Eval("flat", "bert-base.yaml", 1024).Attention;
        var flatBig = Eval("flat", "bert-base.yaml", 1024, ["PE2D.mesh=512"]).Attention;
        Assert.Equal(0.5, flatBig.LatencySeconds / flat.LatencySeconds, 1e-9);
        // Unfused QK and AV phases are memory bound: half the DRAM bandwidth slows them, not the compute-bound softmax.
        var unfused = Eval("unfused", "bert-base.yaml", 1024).Attention;
        var slow = Eval("unfused", "bert-base.yaml", 1024, ["DRAM.shared_bandwidth=114.2278"]).Attention;
        Assert.True(slow.LatencySeconds > unfused.LatencySeconds * 1.3);
        Assert.Equal(unfused.TrafficBytes, slow.TrafficBytes);
    }

    [Fact]
    public void TheStallScalesWithTheReductionDepthOfTheArray()
    {
        foreach (var (dim, tile) in new[] { (256, "256"), (128, "128") })
        {
            var r = Eval("stall", "bert-base.yaml", 16384, [$"PE2D.mesh={dim}"], new() { ["tile"] = tile }).Attention;
            var lm = r.Einsum("LM")!;
            var stall = r.Stages.Single(s => s.StallSeconds > 0).StallSeconds;
            // One reduction depth (the array's rows) per LM tile; LM takes one cycle per tile, so stall = depth * t_LM.
            Assert.Equal(dim, lm.ReductionDepth);
            Assert.Equal(dim * lm.Seconds, stall, stall * 1e-12);
        }
    }

    [Fact]
    public void FlatSpillsWhatItsSettingsSay()
    {
        // BERT 4K: FLAT keeps QK and A on chip and spills 0.775% of them (settings); 1K spills nothing.
        var r4k = Eval("flat", "bert-base.yaml", 4096).Attention;
        Assert.Equal(0.007751937984496138, r4k.Groups.Single(g => g.Einsums.Contains("SN")).Spill, 1e-15);
        Assert.Single(r4k.Groups);
        // BERT 256K: QK and A live off chip, so QK, the softmax and AV are three groups linked through DRAM.
        Assert.Equal(3, Eval("flat", "bert-base.yaml", 262144).Attention.Groups.Length);
    }
}
