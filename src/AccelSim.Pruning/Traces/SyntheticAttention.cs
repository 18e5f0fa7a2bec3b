using System.Collections.Immutable;
using AccelSim.Pruning.Spec;

namespace AccelSim.Pruning.Traces;

/// <summary>Q, K and V of one (layer, head) for every token position of a synthetic sequence.</summary>
public sealed record HeadInputs(Matrix Q, Matrix K, Matrix V);

/// <summary>
/// Seeded synthetic attention inputs with realistic skew: each token has a log-normal salience s (mean-normalised), and
/// queries and keys share a per-head direction u: q = g + a u, k = g' + a s u with a^2 = Alignment * sqrt(D), so the
/// score of key j is about Alignment * s_j plus unit noise. A few salient tokens receive most of the attention (as in
/// real language models, where punctuation and function words receive little). Layers and heads are independent streams.
/// </summary>
public sealed class SyntheticAttention
{
    public SyntheticAttention(AttentionModel model, int tokens, ulong seed, double salienceSigma = 0.8, double alignment = 1.5)
    {
        Model = model;
        Tokens = tokens;
        Seed = seed;
        SalienceSigma = salienceSigma;
        Alignment = alignment;
    }

    public AttentionModel Model { get; }
    public int Tokens { get; }
    public ulong Seed { get; }
    public double SalienceSigma { get; }
    public double Alignment { get; }

    public HeadInputs Inputs(int layer, int head)
    {
        var rng = new SplitMix64(SplitMix64.Derive(Seed, layer, head));
        var d = Model.HeadDim;
        var direction = new double[d];
        var norm = 0.0;
        for (var x = 0; x < d; x++) { direction[x] = rng.NextGaussian(); norm += direction[x] * direction[x]; }
        norm = Math.Sqrt(norm);
        for (var x = 0; x < d; x++) direction[x] /= norm;

        // Token salience is shared by all heads of a layer (tokens that matter, matter to most heads).
        var tokenRng = new SplitMix64(SplitMix64.Derive(Seed, layer, -1));
        var salience = new double[Tokens];
        for (var t = 0; t < Tokens; t++) salience[t] = Math.Exp(SalienceSigma * tokenRng.NextGaussian());
        var meanSalience = salience.Average();
        for (var t = 0; t < Tokens; t++) salience[t] /= meanSalience;

        var q = new Matrix(Tokens, d);
        var k = new Matrix(Tokens, d);
        var v = new Matrix(Tokens, d);
        var a = Math.Sqrt(Alignment * Math.Sqrt(d));
        for (var t = 0; t < Tokens; t++)
            for (var x = 0; x < d; x++)
            {
                q[t, x] = rng.NextGaussian() + a * direction[x];
                k[t, x] = rng.NextGaussian() + a * salience[t] * direction[x];
                v[t, x] = rng.NextGaussian();
            }
        return new HeadInputs(q, k, v);
    }

    /// <summary>
    /// The dense attention-probability trace of this synthetic sequence for <paramref name="task"/>, computed with
    /// <paramref name="evaluator"/>. Generation: step t's query is token prompt + t against keys 0..prompt + t.
    /// </summary>
    public AttentionTrace Trace(TaskShape task, IAttentionEvaluator evaluator, string source)
    {
        var blocks = ImmutableDictionary.CreateBuilder<(int, int, int), ProbabilityBlock>();
        var mags = ImmutableDictionary.CreateBuilder<(int, int, int), double>();
        for (var l = 0; l < Model.Layers; l++)
            for (var h = 0; h < Model.Heads; h++)
            {
                var inputs = Inputs(l, h);
                switch (task)
                {
                    case SummarizationTask s:
                    {
                        if (s.Tokens > Tokens) throw new ArgumentException("task needs more tokens than generated");
                        var all = Enumerable.Range(0, s.Tokens).ToArray();
                        Add(0, l, h, evaluator.Evaluate(inputs.Q, inputs.K, inputs.V, all, all));
                        break;
                    }
                    case GenerationTask g:
                    {
                        if (g.TotalTokens > Tokens) throw new ArgumentException("task needs more tokens than generated");
                        for (var step = 0; step < g.GenerateTokens; step++)
                        {
                            var keys = Enumerable.Range(0, g.ContextAt(step)).ToArray();
                            Add(step, l, h, evaluator.Evaluate(inputs.Q, inputs.K, inputs.V, [g.ContextAt(step) - 1], keys));
                        }
                        break;
                    }
                }
            }
        return new AttentionTrace(Model, task, source, blocks.ToImmutable(), mags.ToImmutable());

        void Add(int step, int layer, int head, AttentionResult r)
        {
            blocks[(step, layer, head)] = new ProbabilityBlock(step, layer, head, r.Probabilities.Rows, r.Probabilities.Cols,
                [.. r.Probabilities.Data]);
            mags[(step, layer, head)] = r.Output.Data.Sum(Math.Abs);
        }
    }
}
