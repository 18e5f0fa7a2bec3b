using System.Collections.Immutable;
using AccelSim.Experiments.Spatten;
using AccelSim.Gpu;
using AccelSim.Pruning;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;
using AccelSim.Pruning.Workload;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

/// <summary>Issue 7 item 3: the same pruned workloads priced on the FuseMax array and on the GPU models.</summary>
public class SpattenEnginesTests
{
    private static readonly string[] Picked = ["bert-base/mrpc", "bert-large/squad-v1.1", "gpt2-small/wikitext-2", "gpt2-medium/ptb"];

    private static readonly Lazy<IReadOnlyList<IPrunedAttentionEngine>> LazyEngines = new(() => SpattenCrossEngine.DefaultEngines(Root));
    private static IReadOnlyList<IPrunedAttentionEngine> Engines => LazyEngines.Value;

    /// <summary>Four benchmarks of the reproduction (both BERT sizes, both GPT-2 sizes), all six techniques, every engine.</summary>
    private static readonly Lazy<CrossEngineResult> LazySmall = new(() =>
        SpattenCrossEngine.Run(new SpattenStudyResult([.. Reproduction.Rows.Where(r => Picked.Contains(r.BenchmarkName))], Arch), Engines));

    private static CrossEngineResult Small => LazySmall.Value;

    private static Benchmark Get(string name) => Reproduction.Rows.First(r => r.BenchmarkName == name).Benchmark;

    [Fact]
    public void TurningPruningOffGivesExactlyTheDenseNumbersOnEveryEngine()
    {
        foreach (var name in new[] { "bert-base/mrpc", "gpt2-small/wikitext-2" })
        {
            var b = Get(name);
            var unpruned = b with { Pruning = PruningSpec.Dense(b.Pruning.DenseBits) };
            var off = PrunedWorkloadBuilder.Build(b, TechniqueSet.None);
            var dense = PrunedWorkloadBuilder.Build(unpruned, TechniqueSet.All);
            foreach (var e in Engines) Assert.Equal(e.Price(dense), e.Price(off));
        }
    }

    [Fact]
    public void DenseRunEqualsTheEngineCalledDirectlyOnTheUnprunedAttention()
    {
        // Oracle: dense = one direct call of the engine's own model per layer (and per generation step).
        var bert = Get("bert-base/mrpc");
        var gpt = Get("gpt2-small/wikitext-2");
        var gpu = GpuSpecLoader.LoadFile(Path.Combine(Root, "arch", "gpu", "h100.yaml"));
        var fa2 = KernelCatalogLoader.LoadFile(gpu.KernelsFile).Get("fa2");
        double Call(long q, long kv, int heads) =>
            GpuEvaluator.Evaluate(gpu, new AttentionShape(1, heads, heads, q, kv, 64, 64, false, null, DataType.Bf16, Direction.Forward), fa2).LatencySeconds;
        var engine = Engines.Single(e => e.Name == "h100-fa2");

        var n = ((SummarizationTask)bert.Task).Tokens;
        Assert.Equal(bert.Model.Layers * Call(n, n, bert.Model.Heads),
            engine.Price(PrunedWorkloadBuilder.Build(bert, TechniqueSet.None)).LatencySeconds, 12);

        var g = (GenerationTask)gpt.Task;
        var expected = Enumerable.Range(0, g.GenerateTokens).Sum(s => gpt.Model.Layers * Call(1, g.ContextAt(s), gpt.Model.Heads));
        Assert.Equal(expected, engine.Price(PrunedWorkloadBuilder.Build(gpt, TechniqueSet.None)).LatencySeconds, 12);

        // FuseMax: the dense BERT layer is the cascade model's point for (heads, seq_len = kv_len = n), batch 1, with one
        // key tile of n rows (n < 256).
        var fusemax = AccelSim.Experiments.FuseMax.FuseMaxStudy.Evaluator(Path.Combine(Root, "arch", "fusemax", "fusemax.yaml"));
        var point = fusemax.Evaluate((ImmutableArray<AccelSim.Einsum.Loading.ParamSource>?)null, new Dictionary<string, string>
        {
            ["batch"] = "1", ["heads"] = "12", ["seq_len"] = $"{n}", ["kv_len"] = $"{n}", ["head_dim"] = "64", ["tile"] = $"{n}",
        }, attentionOnly: true).Attention;
        var priced = Engines.Single(e => e.Name == "fusemax").Price(PrunedWorkloadBuilder.Build(bert, TechniqueSet.None));
        Assert.Equal(bert.Model.Layers * point.TrafficBytes, priced.DramBytes, 6);
        Assert.Equal(bert.Model.Layers * point.LatencySeconds, priced.LatencySeconds, 15);
    }

    [Theory]
    [InlineData(45, 45)]
    [InlineData(256, 256)]
    [InlineData(257, 129)]
    [InlineData(993, 249)]
    [InlineData(1024, 256)]
    public void FuseMaxKeyTilesAreBalancedAndFitTheArray(int keys, int tile)
    {
        Assert.Equal(tile, FuseMaxPrunedEngine.KeyTile(keys));
        var tiles = (keys + tile - 1) / tile;
        Assert.True(tiles * tile - keys < tiles, "padding below one key per tile");
    }

    [Fact]
    public void EveryBenchmarkTechniqueAndEngineHasAPositiveRow()
    {
        string[] engines = ["spatten", "fusemax", "h100-fa2", "h100-fa3"];
        Assert.Equal(engines, Small.Engines.Select(e => e.Name));
        Assert.Equal(Picked.Length * 6 * engines.Length, Small.Rows.Length);
        foreach (var b in Picked)
            foreach (var t in TechniqueSet.ReproductionSet.Select(t => t.Label))
                foreach (var e in engines)
                {
                    var c = Small.Row(b, t, e).Cost;
                    Assert.True(c.LatencySeconds > 0 && c.EnergyPj > 0 && c.DramBytes > 0, $"{b} {t} {e}");
                    Assert.True(double.IsFinite(c.LatencySeconds + c.EnergyPj + c.DramBytes));
                }
        Assert.Empty(Small.Skipped);
    }

    [Fact]
    public void SpattenRowsAreTheStudysOwnNumbers()
    {
        foreach (var r in Reproduction.Rows.Where(r => Picked.Contains(r.BenchmarkName)))
            Assert.Equal(new EngineCost(r.Result.LatencySeconds, r.Result.EnergyPj, r.Result.DramBytes),
                Small.Row(r.BenchmarkName, r.Technique, "spatten").Cost);
    }

    [Fact]
    public void TokenPruningSpeedsUpGpt2GenerationOnEveryEngine()
    {
        foreach (var b in Picked.Where(b => b.StartsWith("gpt2", StringComparison.Ordinal)))
            foreach (var (e, _) in Small.Engines)
            {
                Assert.True(Small.Speedup(b, "token", e) > 1.05, $"{b} on {e}: {Small.Speedup(b, "token", e)}");
                Assert.True(Small.DramReduction(b, "token", e) > 2, $"{b} on {e}");
                Assert.True(Small.Speedup(b, "all", e) >= Small.Speedup(b, "token", e) * 0.999, $"{b} on {e}");
            }
    }

    [Fact]
    public void HeadPruningCutsTrafficOnEveryEngine()
    {
        foreach (var b in Picked)
            foreach (var (e, _) in Small.Engines)
                Assert.InRange(Small.DramReduction(b, "head", e), 1.03, 1.15);
    }

    [Fact]
    public void EnginesOnlyGainFromTheTechniquesTheyCanExploit()
    {
        foreach (var b in Picked)
        {
            // Local V pruning needs SpAtten's per-query top-k; sub-16-bit K/V need its bit-plane fetcher (FuseMax) or FP8 (FA3).
            foreach (var e in new[] { "fusemax", "h100-fa2", "h100-fa3" })
                Assert.Equal(Small.Row(b, "dense", e).Cost, Small.Row(b, "value", e).Cost);
            foreach (var e in new[] { "fusemax", "h100-fa2" })
                Assert.Equal(Small.Row(b, "dense", e).Cost, Small.Row(b, "quant", e).Cost);
            // FP8 on FA3 cuts traffic; in GPT-2 decode it halves the K/V stream (about 2x). In BERT it can do more, since
            // the FP8 kernel's wider key block also changes the split-KV decision and its FP32 partial outputs.
            Assert.True(Small.DramReduction(b, "quant", "h100-fa3") > 1.5, b);
            if (b.StartsWith("gpt2", StringComparison.Ordinal)) Assert.InRange(Small.DramReduction(b, "quant", "h100-fa3"), 1.8, 2.1);
            // In generation SpAtten exploits all four techniques: its 'all' beats every other engine's on DRAM.
            if (b.StartsWith("gpt2", StringComparison.Ordinal))
                foreach (var e in new[] { "fusemax", "h100-fa2", "h100-fa3" })
                    Assert.True(Small.DramReduction(b, "all", "spatten") > 2 * Small.DramReduction(b, "all", e), $"{b} vs {e}");
        }
    }

    [Fact]
    public void BenchmarksWithMasksTheEnginesCannotExpressAreSkippedWithAReason()
    {
        var b = Benchmark(BenchmarkYaml("task: summarization\n    tokens: 32", "sparsity: {causal: true}", layers: 2, heads: 2, headDim: 64));
        var study = SpattenStudy.Run([b], Arch, [TechniqueSet.None]);
        var r = SpattenCrossEngine.Run(study, Engines);
        Assert.All(r.Rows, row => Assert.Equal("spatten", row.Engine));
        Assert.Equal(3, r.Skipped.Length);
        Assert.Contains("structured sparsity", r.Skipped[0]);
        Assert.Contains("skipped: b on fusemax", SpattenCrossEngine.Summary(r));
    }

    [Fact]
    public void CsvHasExactlyTheEngineColumns()
    {
        var lines = SpattenCrossEngine.Csv(Small).TrimEnd('\n').Split('\n');
        Assert.Equal("benchmark,model,technique,engine,latency_s,energy_pJ,dram_bytes", lines[0]);
        Assert.Equal(Small.Rows.Length, lines.Length - 1);
        Assert.All(lines.Skip(1), l => Assert.Equal(7, l.Split(',').Length));
    }
}
