using AccelSim.Pruning;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;
using AccelSim.Pruning.Traces;
using AccelSim.Pruning.Workload;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

public class PrunedWorkloadTests
{
    private static Benchmark Summarization(string pruning, int tokens = 32, int layers = 4, int heads = 4) =>
        Benchmark(BenchmarkYaml($"task: summarization\n    tokens: {tokens}", pruning, layers, heads));

    private static Benchmark Generation(string pruning, int prompt = 48, int steps = 8, int layers = 4, int heads = 4) =>
        Benchmark(BenchmarkYaml($"task: generation\n    prompt_tokens: {prompt}\n    generate_tokens: {steps}", pruning, layers, heads));

    [Fact]
    public void TurningPruningOffGivesExactlyTheDenseNumbersOfTheSameEngine()
    {
        var engine = new SpattenEngine(Arch);
        foreach (var b in SpattenStudy.LoadBenchmarks([BertPath, Gpt2Path, TraceDemoPath]))
        {
            var unpruned = b with { Pruning = PruningSpec.Dense(b.Pruning.DenseBits) };
            var off = engine.Evaluate(PrunedWorkloadBuilder.Build(b, TechniqueSet.None));
            var dense = engine.Evaluate(PrunedWorkloadBuilder.Build(unpruned, TechniqueSet.All));
            Assert.Equal(dense with { Technique = off.Technique, Mode = off.Mode }, off);
        }
    }

    [Fact]
    public void NeutralSettingsReproduceDenseExactly()
    {
        // Pruning switched on but with nothing to prune (keep 1.0, full-precision "quantisation") is the dense run.
        var engine = new SpattenEngine(Arch);
        var neutral = """
            token: {keep: [1.0, 1.0, 1.0, 1.0]}
            head: {keep: [1.0, 1.0, 1.0, 1.0]}
            value: {keep_ratio: 1.0}
            quant: {kind: static, bits: 32}
            """;
        foreach (var b in new[] { Summarization(neutral), Generation(neutral) })
        {
            var all = engine.Evaluate(PrunedWorkloadBuilder.Build(b, TechniqueSet.All));
            var dense = engine.Evaluate(PrunedWorkloadBuilder.Build(b, TechniqueSet.None));
            Assert.Equal(dense.DramBytes, all.DramBytes);
            Assert.Equal(dense.Cycles, all.Cycles);
            Assert.Equal(dense.Energy.Dram, all.Energy.Dram);
            Assert.Equal(dense.Energy.Mac, all.Energy.Mac);
        }
    }

    [Fact]
    public void RatioModeCountsFollowTheKeepFractions()
    {
        // The released RTL schedule (gpt2-rtl.yaml): explicit per-layer keep fractions.
        var b = SpattenStudy.LoadBenchmarks([Gpt2RtlPath]).Single(x => x.Name == "gpt2-medium/wikitext-2");
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.All);
        Assert.Equal(SelectionMode.Ratios, w.Mode);
        // Step 16 has 992 + 16 + 1 = 1009 keys (the released trace's 1009); layer 2 keeps ceil(0.9 * 1009).
        var p = w.Passes.Single(x => x.Step == 16 && x.Layer == 2);
        Assert.Equal(1009, p.ContextTokens);
        Assert.Equal(909, p.AliveTokens);
        Assert.Equal(16, p.AliveHeads);
        Assert.Equal(16L * 909, p.KeyRows);
        Assert.Equal(16L * 273, p.ValueRows); // ceil(0.3 * 909) V rows per head
        Assert.Equal((6, 4, 6), (p.KeyBits, p.KeyLsbBits, p.ValueBits));
        Assert.Equal(0.059 * 16 * 909, p.KeyLsbRows, 9);
        // The token top-k after layer 2 selects ceil(0.8 * 1009) of 909; local-V top-k runs once per head.
        Assert.Contains(new TopKCall(909, 808, 1), p.SerialTopK);
        Assert.Equal([new TopKCall(909, 273, 16)], p.LocalValueTopK.ToArray());
        var last = w.Passes.Single(x => x.Step == 16 && x.Layer == 23);
        Assert.Equal(10, last.AliveHeads);
        Assert.Equal(303, last.AliveTokens);
    }

    [Fact]
    public void ShapeGroupsCoverEveryPassForOtherEngines()
    {
        var b = SpattenStudy.LoadBenchmarks([BertPath]).Single(x => x.Name == "bert-base/sst-2");
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.All);
        var groups = w.ShapeGroups();
        Assert.Equal(w.Passes.Length, groups.Sum(g => g.Passes));
        Assert.Equal(w.QkPairs, groups.Sum(g => (long)g.Shape.Queries * g.Shape.Keys * g.Shape.Heads * g.Passes));
        Assert.All(groups, g => Assert.Equal((64, 8, 8), (g.Shape.HeadDim, g.Shape.KeyBits, g.Shape.ValueBits)));
    }

    [Fact]
    public void SelectionWorkIsCounted()
    {
        var b = Summarization("""
            token: {keep: [1.0, 0.5, 0.5, 0.25]}
            head: {keep: [1.0, 0.5, 0.5, 0.5]}
            quant: {kind: progressive, msb_bits: 8, lsb_bits: 4, threshold: 0.1, refetch_fraction: 0.1}
            """);
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.All);
        var p0 = w.Passes[0];
        // Importance: one add per probability; head importance: |output| summed over head_dim; max-compare per probability.
        Assert.Equal(p0.QkPairs, p0.TokenImportanceAdds);
        Assert.Equal(4L * 32 * 16, p0.HeadImportanceAdds);
        Assert.Equal(p0.QkPairs, p0.RefetchCompares);
        Assert.Contains(new TopKCall(32, 16, 1), p0.SerialTopK);
        Assert.Contains(new TopKCall(4, 2, 1), p0.SerialTopK);
        Assert.True(w.SelectionAdds > 0);
        var result = new SpattenEngine(Arch).Evaluate(w);
        Assert.True(result.CycleBreakdown.SerialTopK > 0);
        Assert.True(result.Energy.TopK > 0);
        Assert.True(result.Energy.Selection > 0);
        // Summarisation: cascade pruning removes queries too, so Q.K pairs shrink quadratically.
        Assert.Equal(4L * 32 * 32, w.Passes[0].QkPairs);
        Assert.Equal(2L * 16 * 16, w.Passes[1].QkPairs);
    }

    [Fact]
    public void CausalAndWindowMasksCountPairsExactly()
    {
        var causal = PrunedWorkloadBuilder.Build(Summarization("sparsity: {causal: true}", tokens: 20, layers: 1, heads: 1), TechniqueSet.None);
        Assert.Equal(20L * 21 / 2, causal.Passes[0].QkPairs);
        Assert.Equal(20L, causal.Passes[0].KeyRows); // every key is needed by some query: buffered once

        var window = PrunedWorkloadBuilder.Build(Summarization("sparsity: {causal: true, window: 4}", tokens: 20, layers: 1, heads: 1), TechniqueSet.None);
        Assert.Equal(1 + 2 + 3 + 17L * 4, window.Passes[0].QkPairs);

        // Generation with a window fetches only the window's keys.
        var gen = PrunedWorkloadBuilder.Build(Generation("sparsity: {causal: true, window: 16}", prompt: 100, steps: 2, layers: 1, heads: 1), TechniqueSet.None);
        Assert.All(gen.Passes, p => Assert.Equal(16L, p.KeyRows));
    }

    [Fact]
    public void StreamingHeadsSeeOnlySinkAndRecentTokens()
    {
        var w = PrunedWorkloadBuilder.Build(
            Generation("sparsity: {streaming_heads: {fraction: 0.5, sink_tokens: 4, recent_tokens: 10}}", prompt: 100, steps: 1, layers: 1, heads: 4),
            TechniqueSet.None);
        var p = w.Passes.Single();
        Assert.Equal(2L * 101 + 2L * (4 + 10), p.KeyRows);
    }

    [Fact]
    public void BlockSparseDensityIsRespected()
    {
        var w = PrunedWorkloadBuilder.Build(
            Summarization("sparsity: {block: {size: 8, density: 0.25, seed: 5}}", tokens: 512, layers: 1, heads: 1), TechniqueSet.None);
        var blocks = 64.0;
        var expectedPairs = (blocks + 0.25 * (blocks * blocks - blocks)) * 64; // diagonal kept + density elsewhere
        Assert.InRange(w.Passes[0].QkPairs / expectedPairs, 0.9, 1.1);
    }

    [Fact]
    public void TraceModeKeepsTheMostImportantTokensAndCascades()
    {
        var b = SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == "tiny-bert/synthetic");
        var trace = AttentionTrace.ReadFile(b.Pruning.TracePath!);
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.Only(Technique.Token), trace);
        Assert.Equal(SelectionMode.Trace, w.Mode);

        // Brute-force oracle: recompute cumulative importance from the trace and check each layer's kept set.
        var score = new double[32];
        var alive = Enumerable.Range(0, 32).ToArray();
        for (var l = 0; l < 4; l++)
        {
            var keep = PrunedWorkloadBuilder.KeepCount(b.Pruning.Token!.Keep.Expand(4)[l], 32);
            if (keep < alive.Length)
                alive = alive.OrderByDescending(t => score[t]).ThenBy(t => t).Take(keep).Order().ToArray();
            Assert.Equal(alive, w.Passes[l].KeptTokens.ToArray());
            for (var h = 0; h < 4; h++)
            {
                var block = trace.Block(0, l, h);
                foreach (var q in alive)
                {
                    var sum = alive.Sum(k => block[q, k]);
                    foreach (var k in alive) score[k] += block[q, k] / sum;
                }
            }
        }
        // Cascade: every layer's kept set is a subset of the previous one.
        for (var l = 1; l < 4; l++)
            Assert.Subset(w.Passes[l - 1].KeptTokens.ToHashSet(), w.Passes[l].KeptTokens.ToHashSet());
    }

    [Fact]
    public void TraceModeMeasuresTheRefetchFraction()
    {
        var b = SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == "tiny-gpt/synthetic");
        var trace = AttentionTrace.ReadFile(b.Pruning.TracePath!);
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.Only(Technique.Quant), trace);
        // Without token pruning every row sees all keys: the fraction is the share of rows whose max prob < 0.1.
        var rows = 0;
        var failing = 0;
        foreach (var block in trace.Blocks.Values)
        {
            rows++;
            if (block.Values.Max() < 0.1) failing++;
        }
        var measured = w.Passes.Sum(p => p.RefetchFraction * p.AliveHeads) / w.Passes.Sum(p => p.AliveHeads);
        Assert.Equal((double)failing / rows, measured, 9);
        Assert.Equal(w.Passes.Sum(p => p.KeyRows * p.RefetchFraction), w.Passes.Sum(p => p.KeyLsbRows), 6);
    }

    [Fact]
    public void HeadPruningInTraceModeFollowsOutputMagnitude()
    {
        var b = SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == "tiny-bert/synthetic");
        var trace = AttentionTrace.ReadFile(b.Pruning.TracePath!);
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.Only(Technique.Head), trace);
        // Layer 2 keeps 3 of 4 heads: the three with the largest magnitude accumulated over layers 0-1.
        var score = Enumerable.Range(0, 4).Select(h => trace.HeadMagnitude(0, 0, h) + trace.HeadMagnitude(0, 1, h)).ToArray();
        var expected = Enumerable.Range(0, 4).OrderByDescending(h => score[h]).ThenBy(h => h).Take(3).Order().ToArray();
        Assert.Equal(expected, w.Passes[2].KeptHeads.ToArray());
        Assert.Equal(w.Passes[2].KeptHeads.ToArray(), w.Passes[3].KeptHeads.ToArray());
    }

    [Fact]
    public void KeyBufferOverflowRestreamsKeysPerQuery()
    {
        // 2048 tokens of head_dim 64 at 12-bit need 2048 rows > the 1024-row double-buffered K SRAM.
        var engine = new SpattenEngine(Arch);
        var big = Benchmark(BenchmarkYaml("task: summarization\n    tokens: 2048", "dense_bits: 32", layers: 1, heads: 1, headDim: 64));
        var fits = Benchmark(BenchmarkYaml("task: summarization\n    tokens: 1024", "dense_bits: 32", layers: 1, heads: 1, headDim: 64));
        Assert.Equal(1024, Arch.KeyRowCapacity(64));
        var bigBytes = engine.Evaluate(PrunedWorkloadBuilder.Build(big, TechniqueSet.None)).DramBytes;
        var fitBytes = engine.Evaluate(PrunedWorkloadBuilder.Build(fits, TechniqueSet.None)).DramBytes;
        Assert.Equal(2.0 * 1024 * 64 * 4, fitBytes);
        Assert.Equal(2048.0 * 2 * 2048 * 64 * 4, bigBytes);
    }

    [Fact]
    public void DenseGenerationIsMemoryBoundAndBertIsComputeBound()
    {
        var r = Reproduction;
        var gpt = r.Row("gpt2-medium/wikitext-2", "dense").Result.CycleBreakdown;
        Assert.True(gpt.Fetch > 0.9 * gpt.Total);
        var bert = r.Row("bert-base/squad-v1.1", "dense").Result.CycleBreakdown;
        Assert.True(bert.QueryKey > 0.8 * bert.Total);
    }
}
