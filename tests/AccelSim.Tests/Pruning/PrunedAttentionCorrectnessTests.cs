using AccelSim.Einsum.Interpretation;
using AccelSim.Pruning;
using AccelSim.Pruning.Cascades;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;
using AccelSim.Pruning.Traces;
using AccelSim.Pruning.Workload;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

/// <summary>
/// The pruned attention computed on the kept tokens/heads only equals dense attention restricted to them.
/// Both sides go through an <see cref="IAttentionEvaluator"/>: today the double-precision reference; once the Einsum
/// IR interpreter is merged the pruned side runs the pruned cascade through it (see Einsum-based tests).
/// </summary>
public class PrunedAttentionCorrectnessTests
{
    public static TheoryData<string> Benchmarks => new() { "tiny-bert/synthetic", "tiny-gpt/synthetic" };

    [Theory]
    [MemberData(nameof(Benchmarks))]
    public void PrunedCascadeEqualsDenseAttentionRestrictedToKeptTokensAndHeads(string name)
    {
        var b = SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == name);
        var recipe = SyntheticTraceCatalog.All.Single(r => r.Model.Name == b.Model.Name);
        var synthetic = new SyntheticAttention(recipe.Model, recipe.Tokens, recipe.Seed);
        var trace = AttentionTrace.ReadFile(b.Pruning.TracePath!);
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.None with { Token = true, Head = true }, trace);
        IAttentionEvaluator evaluator = ReferenceAttention.Instance;

        var checkedHeads = 0;
        foreach (var pass in w.Passes)
        {
            var kept = pass.KeptTokens.ToArray();
            var keptSet = kept.ToHashSet();
            var queries = b.Task is GenerationTask g ? [g.ContextAt(pass.Step) - 1] : kept;
            Assert.Equal(pass.AliveHeads, pass.KeptHeads.Length);
            foreach (var head in pass.KeptHeads)
            {
                var x = synthetic.Inputs(pass.Layer, head);
                var pruned = evaluator.Evaluate(x.Q, x.K, x.V, queries, kept);
                var allTokens = Enumerable.Range(0, pass.ContextTokens).ToArray();
                var dense = evaluator.Evaluate(x.Q, x.K, x.V, queries, allTokens, (_, k) => keptSet.Contains(k));
                for (var qi = 0; qi < queries.Length; qi++)
                {
                    for (var ki = 0; ki < kept.Length; ki++)
                        Assert.Equal(dense.Probabilities[qi, kept[ki]], pruned.Probabilities[qi, ki], 12);
                    for (var d = 0; d < b.Model.HeadDim; d++)
                        Assert.Equal(dense.Output[qi, d], pruned.Output[qi, d], 12);
                }
                // Pruned tokens receive exactly zero probability in the restricted dense computation.
                foreach (var t in allTokens.Where(t => !keptSet.Contains(t)))
                    for (var qi = 0; qi < queries.Length; qi++)
                        Assert.Equal(0.0, dense.Probabilities[qi, t]);
                checkedHeads++;
            }
        }
        Assert.True(checkedHeads > 0);
        Assert.Contains(w.Passes, p => p.AliveTokens < p.ContextTokens);
        Assert.Contains(w.Passes, p => p.AliveHeads < b.Model.Heads);
    }

    [Fact]
    public void LocalValuePruningDropsTheSmallestProbabilitiesWithoutRenormalising()
    {
        var synthetic = new SyntheticAttention(new AttentionModel("m", 1, 1, 16), 40, 9);
        var x = synthetic.Inputs(0, 0);
        var all = Enumerable.Range(0, 40).ToArray();
        var dense = ReferenceAttention.Instance.Evaluate(x.Q, x.K, x.V, all, all);
        var keep = PrunedWorkloadBuilder.KeepCount(0.3, 40);
        for (var q = 0; q < 40; q++)
        {
            var top = all.OrderByDescending(k => dense.Probabilities[q, k]).ThenBy(k => k).Take(keep).ToArray();
            for (var d = 0; d < 16; d++)
            {
                var pruned = top.Sum(k => dense.Probabilities[q, k] * x.V[k, d]);
                var masked = all.Sum(k => (top.Contains(k) ? dense.Probabilities[q, k] : 0) * x.V[k, d]);
                Assert.Equal(masked, pruned, 12);
            }
            // What is dropped is bounded by the probability mass outside the top-k.
            var dropped = 1 - top.Sum(k => dense.Probabilities[q, k]);
            Assert.InRange(dropped, 0, 1);
        }
    }
}

/// <summary>The interpreter runs every pruned cascade of the trace-driven benchmarks on the shipped attention workloads.</summary>
public class PrunedCascadeInterpreterTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "tiny-bert/synthetic", "attention-3pass.yaml", "" },
        { "tiny-bert/synthetic", "attention-2pass.yaml", "tile=8" },
        { "tiny-bert/synthetic", "attention-1pass.yaml", "tile=8" },
        { "tiny-gpt/synthetic", "attention-1pass.yaml", "tile=16" },
        { "tiny-gpt/synthetic", "attention-3pass.yaml", "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrunedCascadeEqualsDenseRestrictedOnTheInterpreter(string benchmark, string workload, string set)
    {
        var b = AccelSim.Pruning.Study.SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == benchmark);
        var recipe = SyntheticTraceCatalog.All.Single(r => r.Model.Name == b.Model.Name);
        var synthetic = new SyntheticAttention(recipe.Model, recipe.Tokens, recipe.Seed);
        var w = PrunedWorkloadBuilder.Build(b, TechniqueSet.None with { Token = true, Head = true }, AttentionTrace.ReadFile(b.Pruning.TracePath!));
        var overrides = set.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [set.Split('=')[0]] = set.Split('=')[1] };
        var cascade = AccelSim.Pruning.Cascades.AttentionCascade.Load(Path.Combine(Root, "workloads", "attention", workload), overrides);
        var info = cascade.Info;
        var generation = b.Task is GenerationTask;

        var passes = w.Passes;
        var compared = 0;
        foreach (var pass in passes)
        {
            var kept = pass.KeptTokens.ToArray();
            var heads = pass.KeptHeads.ToArray();
            var context = pass.ContextTokens;
            int[] queries = generation ? [context - 1] : kept;
            var all = Enumerable.Range(0, context).ToArray();
            var allHeads = Enumerable.Range(0, b.Model.Heads).ToArray();
            HeadInputs Inputs(int h) => synthetic.Inputs(pass.Layer, h);

            // Pruned cascade: P, M and H ranks shrunk to the kept sets, fed the kept rows.
            var pruned = cascade.Pruned(queries.Length, kept.Length, heads.Length, b.Model.HeadDim);
            var prunedRun = Interpreter.Run(pruned, cascade.Inputs(pruned, Inputs, queries, kept, heads));

            // Dense cascade over every token and head, with the pruned keys masked out.
            int[] denseQueries = generation ? [context - 1] : all;
            var excluded = all.Except(kept).ToArray();
            var dense = cascade.DenseExcludingKeys(denseQueries.Length, context, b.Model.Heads, excluded, b.Model.HeadDim);
            var denseRun = Interpreter.Run(dense, cascade.Inputs(dense, Inputs, denseQueries, all, allHeads));

            for (var hi = 0; hi < heads.Length; hi++)
            {
                var x = Inputs(heads[hi]);
                var reference = ReferenceAttention.Instance.Evaluate(x.Q, x.K, x.V, queries, kept);
                for (var qi = 0; qi < queries.Length; qi++)
                {
                    var denseRow = generation ? 0 : queries[qi];
                    for (var f = 0; f < b.Model.HeadDim; f++)
                    {
                        var p = AccelSim.Pruning.Cascades.AttentionCascade.Read(pruned, prunedRun, info.Output, info, hi, qi, f, info.ValueDimRank);
                        var d = AccelSim.Pruning.Cascades.AttentionCascade.Read(dense, denseRun, info.Output, info, heads[hi], denseRow, f, info.ValueDimRank);
                        Assert.Equal(d, p, 10);
                        Assert.Equal(reference.Output[qi, f], p, 10);
                        compared++;
                    }
                }
            }
        }
        Assert.True(compared > 1000);
        Assert.Contains(w.Passes, p => p.AliveTokens < p.ContextTokens);
    }

    [Fact]
    public void InterpreterAttentionMatchesTheReference()
    {
        var evaluator = new InterpreterAttention(AccelSim.Pruning.Cascades.AttentionCascade.Load(Path.Combine(Root, "workloads", "attention", "attention-3pass.yaml")));
        var x = new SyntheticAttention(new AttentionModel("m", 1, 1, 8), 12, 4).Inputs(0, 0);
        int[] queries = [1, 4, 7];
        int[] keys = [0, 1, 2, 4, 7, 9, 11];
        var a = evaluator.Evaluate(x.Q, x.K, x.V, queries, keys);
        var r = ReferenceAttention.Instance.Evaluate(x.Q, x.K, x.V, queries, keys);
        for (var i = 0; i < a.Probabilities.Data.Length; i++) Assert.Equal(r.Probabilities.Data[i], a.Probabilities.Data[i], 12);
        for (var i = 0; i < a.Output.Data.Length; i++) Assert.Equal(r.Output.Data[i], a.Output.Data[i], 12);
    }

    [Fact]
    public void BenchmarkCanBeDefinedByAnEinsumCascade()
    {
        var b = AccelSim.Pruning.Study.SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == "attention-3pass/synthetic");
        Assert.Equal((4, 4, 16), (b.Model.Layers, b.Model.Heads, b.Model.HeadDim));
        Assert.Equal(new SummarizationTask(32), b.Task);
        Assert.EndsWith("attention-3pass.yaml", b.CascadePath);
        // Same shape and trace as tiny-bert/synthetic: the same pruned workload.
        var tiny = AccelSim.Pruning.Study.SpattenStudy.LoadBenchmarks([TraceDemoPath]).Single(x => x.Name == "tiny-bert/synthetic");
        var w1 = PrunedWorkloadBuilder.Build(b, TechniqueSet.All);
        var w2 = PrunedWorkloadBuilder.Build(tiny, TechniqueSet.All);
        Assert.Equal(w2.CompulsoryDramBytes, w1.CompulsoryDramBytes);
        Assert.Equal(w2.Passes.Select(p => p.KeptTokens.Length), w1.Passes.Select(p => p.KeptTokens.Length));
    }

    [Fact]
    public void CascadeWithoutAttentionSectionIsAOneLineError()
    {
        var text = File.ReadAllText(Path.Combine(Root, "workloads", "attention", "attention-3pass.yaml"));
        var path = Path.Combine(Path.GetTempPath(), "accelsim-noattention-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, text[..text.IndexOf("\nattention:", StringComparison.Ordinal)] + "\n");
        try
        {
            AssertOneLineError(() => AccelSim.Pruning.Cascades.AttentionCascade.Load(path), "has no 'attention:' section");
        }
        finally { File.Delete(path); }
    }
}
