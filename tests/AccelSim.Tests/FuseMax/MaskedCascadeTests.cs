using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.FuseMax;
using AccelSim.Model.Cascade;

namespace AccelSim.Tests.FuseMax;

/// <summary>
/// The cascade model skips masked work per Einsum: tiles a mask leaves empty, and the running-state updates over key
/// tiles that no query of the tile sees (their values are known: max(RM, empty) = RM, exp(RM - RM) = 1, ...).
/// </summary>
public class MaskedCascadeTests
{
    private static readonly string Fusemax = FuseMaxStudy.ArchPath(RepoPaths.Root, "fusemax");
    private static readonly string Bert = FuseMaxStudy.ModelPath(RepoPaths.Root, "bert-base.yaml");

    private static SectionResult Attention(long n, bool causal) =>
        FuseMaxStudy.EvaluatePoint(Fusemax, Bert, n, workloadOverrides: new Dictionary<string, string> { ["causal"] = causal ? "true" : "false" },
            attentionOnly: true).Attention;

    [Fact]
    public void CausalAttentionAt16KTakesAtMostSixTenthsOfTheNonCausalLatency()
    {
        var dense = Attention(16384, false);
        var causal = Attention(16384, true);
        Assert.True(causal.LatencySeconds <= 0.6 * dense.LatencySeconds, $"causal {causal.LatencySeconds} s vs {dense.LatencySeconds} s");
        Assert.True(causal.EnergyPJ < dense.EnergyPJ);
        foreach (var e in dense.Einsums) Assert.Equal(e.DensePoints, e.RequiredPoints);
        foreach (var e in causal.Einsums)
        {
            Assert.InRange(e.Operations, 0, e.DensePoints);
            Assert.True(e.Operations <= dense.Einsum(e.Einsum)!.Operations);
        }
        // QK computes the 256 x 256 (query, key) blocks that hold a visible key: 64 x 65 / 2 of 64 x 64, at least analyze's count.
        var qk = causal.Einsum("QK")!;
        Assert.Equal(qk.DensePoints * 2080.0 / 4096, qk.Operations);
        Assert.True(qk.Operations >= qk.RequiredPoints);
        // The numerator's running update on the 1D array skips the same key tiles.
        Assert.Equal(causal.Einsum("SPNV")!.DensePoints * 2080.0 / 4096, causal.Einsum("SPNV")!.Operations);
        foreach (var array in new[] { "2d", "1d" }) Assert.InRange(causal.Utilization(array), 0, 1);
    }

    [Fact]
    public void DenseCascadesHaveNoTrivialPoints()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", "attention-1pass-prescaled.yaml"));
        Assert.All(TrivialPoints.Of(cascade), Assert.Null);
        Assert.All(MaskConditions.Of(cascade), Assert.Null);
    }

    /// <summary>Streaming heads: the first dense_heads heads see every earlier key, the others a sink and a local window.</summary>
    private static SectionResult Streaming(int denseHeads)
    {
        var text = File.ReadAllText(RepoPaths.Of("workloads", "attention", "attention-1pass-prescaled.yaml"))
            .Replace("  word_bits: 16\n", "  word_bits: 16\n  dense_heads: 12\n  sink: 256\n  local: 1024\n", StringComparison.Ordinal)
            .Replace("where: (not causal or causal(p, m, kv_len - seq_len)) and (window == 0 or window(p + kv_len - seq_len, m, window))",
                "where: causal(p, m) and (h < dense_heads or m < sink or window(p, m, local))", StringComparison.Ordinal);
        Assert.Contains("dense_heads", text);
        var file = RepoPaths.TempYaml(text, "streaming-heads.yaml");
        var evaluator = FuseMaxStudy.Evaluator(Fusemax);
        var cascade = WorkloadLoader.Load(file, new Dictionary<string, string> { ["seq_len"] = "16384", ["dense_heads"] = denseHeads.ToString() }, Bert);
        return evaluator.EvaluateSection(evaluator.Architecture.Attention, cascade);
    }

    [Fact]
    public void StreamingHeadCascadesGetCheaperWithFewerDenseHeads()
    {
        var all = Streaming(12);
        var some = Streaming(4);
        var none = Streaming(0);
        Assert.True(some.LatencySeconds < all.LatencySeconds, $"{some.LatencySeconds} vs {all.LatencySeconds}");
        Assert.True(none.LatencySeconds < some.LatencySeconds, $"{none.LatencySeconds} vs {some.LatencySeconds}");
        Assert.True(none.EnergyPJ < all.EnergyPJ);
        // With every head dense it is plain causal attention.
        Assert.Equal(Attention(16384, true).LatencySeconds, all.LatencySeconds, 12);
        foreach (var r in new[] { all, some, none })
            foreach (var e in r.Einsums) Assert.True(e.Operations <= e.DensePoints);
    }
}
