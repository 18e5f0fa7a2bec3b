using AccelSim.Pruning;
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
