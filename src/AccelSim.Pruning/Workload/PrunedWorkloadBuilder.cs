using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Traces;

namespace AccelSim.Pruning.Workload;

/// <summary>
/// Turns a benchmark, its pruning spec and a technique set into a <see cref="PrunedWorkload"/>.
/// Ratio mode: keep counts from the per-layer keep fractions (ceil), positions of surviving tokens spread evenly
/// (only matters for windowed / block masks), data-dependent rates (LSB re-fetch fraction) from the spec.
/// Trace mode: cumulative importance from the trace's probabilities decides which tokens and heads survive
/// (attention probability received, summed over heads, queries, layers and steps; head importance from the
/// per-head output magnitude), and the re-fetch fraction is measured (rows whose max probability is under the threshold).
/// Pruning decisions of layer l use the importance accumulated through layer l-1; a pruned token or head stays pruned.
/// </summary>
public static class PrunedWorkloadBuilder
{
    public static PrunedWorkload Build(Benchmark benchmark, TechniqueSet techniques, AttentionTrace? trace = null)
    {
        var spec = benchmark.Pruning;
        var model = benchmark.Model;
        if (spec.Mode == SelectionMode.Trace && !techniques.IsDense)
        {
            trace ??= AttentionTrace.ReadFile(spec.TracePath!);
            CheckTraceMatches(benchmark, trace);
        }
        var settings = Settings.Of(spec, model, techniques);
        var passes = ImmutableArray.CreateBuilder<LayerPass>();
        var steps = benchmark.Task is GenerationTask g ? g.GenerateTokens : 1;
        var useTrace = spec.Mode == SelectionMode.Trace && !techniques.IsDense;

        // Cumulative importance persists across layers and (generation) across steps.
        var maxTokens = benchmark.Task switch { SummarizationTask s => s.Tokens, GenerationTask gt => gt.TotalTokens, _ => 0 };
        var tokenScore = new double[maxTokens];
        var headScore = new double[model.Heads];

        for (var step = 0; step < steps; step++)
        {
            var context = benchmark.Task switch { SummarizationTask s => s.Tokens, GenerationTask gt => gt.ContextAt(step), _ => 0 };
            var generation = benchmark.Task is GenerationTask;
            int[] alive = Enumerable.Range(0, context).ToArray();
            int[] aliveHeads = Enumerable.Range(0, model.Heads).ToArray();
            for (var layer = 0; layer < model.Layers; layer++)
            {
                var tokenCount = KeepCount(settings.TokenKeep[layer], context);
                var headCount = KeepCount(settings.HeadKeep[layer], model.Heads);
                if (useTrace)
                {
                    if (tokenCount < alive.Length) alive = TopByScore(alive, tokenScore, tokenCount);
                    if (headCount < aliveHeads.Length) aliveHeads = TopByScore(aliveHeads, headScore, headCount);
                }
                else
                {
                    alive = tokenCount == context ? Enumerable.Range(0, context).ToArray() : Spread(context, tokenCount);
                    aliveHeads = Enumerable.Range(0, headCount).ToArray();
                }
                var queries = generation ? [context - 1] : alive;
                var nextTokens = layer + 1 < model.Layers ? KeepCount(settings.TokenKeep[layer + 1], context) : tokenCount;
                var nextHeads = layer + 1 < model.Layers ? KeepCount(settings.HeadKeep[layer + 1], model.Heads) : headCount;
                passes.Add(Pass(benchmark, settings, trace, useTrace, step, layer, context, alive, queries, aliveHeads,
                    nextTokens, nextHeads, tokenScore, headScore));
            }
        }
        return new PrunedWorkload(benchmark.Name, model, benchmark.Task,
            useTrace ? SelectionMode.Trace : SelectionMode.Ratios, techniques, spec.DenseBits, passes.ToImmutable());
    }

    private static void CheckTraceMatches(Benchmark b, AttentionTrace trace)
    {
        var m = b.Model;
        if (trace.Model.Layers != m.Layers || trace.Model.Heads != m.Heads || trace.Model.HeadDim != m.HeadDim)
            throw new InputException($"benchmark '{b.Name}': trace model {trace.Model.Layers}x{trace.Model.Heads}x{trace.Model.HeadDim} " +
                                     $"does not match model '{m.Name}' {m.Layers}x{m.Heads}x{m.HeadDim} (layers x heads x head_dim)");
        if (trace.Task != b.Task)
            throw new InputException($"benchmark '{b.Name}': trace task {Describe(trace.Task)} does not match the benchmark's {Describe(b.Task)}");
    }

    private static string Describe(TaskShape t) => t switch
    {
        SummarizationTask s => $"summarization of {s.Tokens} tokens",
        GenerationTask g => $"generation of {g.GenerateTokens} tokens after a {g.PromptTokens}-token prompt",
        _ => t.Kind,
    };

    /// <summary>Effective per-technique parameters after applying the technique mask.</summary>
    private sealed record Settings(
        ImmutableArray<double> TokenKeep,
        ImmutableArray<double> HeadKeep,
        double? ValueKeep,
        int KeyBits,
        int KeyLsbBits,
        int ValueBits,
        int ValueLsbBits,
        ProgressiveQuantization? Progressive,
        StructuredSparsitySpec Sparsity,
        TechniqueSet Techniques,
        int HeadDim)
    {
        public static Settings Of(PruningSpec spec, AttentionModel model, TechniqueSet t)
        {
            // A technique only takes effect when it is both requested and configured in the spec.
            t = new TechniqueSet(t.Token && spec.Token is not null, t.Head && spec.Head is not null,
                t.Value && spec.Value is not null, t.Quant && spec.Quant is not null);
            var ones = Enumerable.Repeat(1.0, model.Layers).ToImmutableArray();
            var tokenKeep = t.Token && spec.Token is { } tk ? tk.Keep.Expand(model.Layers) : ones;
            var headKeep = t.Head && spec.Head is { } hk ? hk.Keep.Expand(model.Layers) : ones;
            double? valueKeep = t.Value && spec.Value is { } v ? v.KeepRatio : null;
            var quant = t.Quant ? spec.Quant : null;
            var dense = spec.DenseBits;
            return quant switch
            {
                StaticQuantization s => new(tokenKeep, headKeep, valueKeep, s.Bits, 0, s.Bits, 0, null, spec.Sparsity, t, model.HeadDim),
                ProgressiveQuantization p => new(tokenKeep, headKeep, valueKeep, p.MsbBits, p.LsbBits, p.MsbBits,
                    p.RefetchValues ? p.LsbBits : 0, p, spec.Sparsity, t, model.HeadDim),
                _ => new(tokenKeep, headKeep, valueKeep, dense, 0, dense, 0, null, spec.Sparsity, t, model.HeadDim),
            };
        }
    }

    /// <summary>ceil(fraction * total), at least 1 and at most total.</summary>
    public static int KeepCount(double fraction, int total) =>
        Math.Clamp((int)Math.Ceiling(fraction * total - 1e-9), 1, total);

    /// <summary><paramref name="count"/> positions spread evenly over [0, total).</summary>
    private static int[] Spread(int total, int count)
    {
        var result = new int[count];
        for (var i = 0; i < count; i++) result[i] = (int)((i + 0.5) * total / count);
        return result;
    }

    /// <summary>The <paramref name="count"/> items with the highest score (ties: lower index), returned in index order.</summary>
    public static int[] TopByScore(int[] items, double[] score, int count) =>
        items.OrderByDescending(i => score[i]).ThenBy(i => i).Take(count).OrderBy(i => i).ToArray();

    private static LayerPass Pass(Benchmark b, Settings s, AttentionTrace? trace, bool useTrace, int step, int layer,
        int context, int[] alive, int[] queries, int[] aliveHeads, int nextTokens, int nextHeads,
        double[] tokenScore, double[] headScore)
    {
        var model = b.Model;
        var sparsity = s.Sparsity;
        var streamingCount = sparsity.StreamingHeads is { } sh
            ? (int)Math.Round(sh.Fraction * model.Heads, MidpointRounding.AwayFromZero) : 0;
        var generation = b.Task is GenerationTask;

        long qkPairs = 0, keyRows = 0, valueRows = 0, pvPairs = 0, tokenAdds = 0, refetchCompares = 0;
        double recomputed = 0, keyLsbRows = 0, valueLsbRows = 0, measuredFails = 0, measuredRows = 0;
        var maxKeyRows = 0;
        var localV = new Dictionary<(int, int), long>();

        // Ratio mode: the alive heads are 0..h-1; streaming heads are a proportional share of them.
        var ratioStreamingAlive = (int)Math.Round((double)streamingCount / model.Heads * aliveHeads.Length, MidpointRounding.AwayFromZero);

        for (var hi = 0; hi < aliveHeads.Length; hi++)
        {
            var head = aliveHeads[hi];
            var streaming = useTrace ? head < streamingCount : hi < ratioStreamingAlive;
            var allowed = Mask(sparsity, streaming);
            ProbabilityBlock? block = useTrace ? trace!.Block(step, layer, head) : null;

            var union = allowed is null ? null : new bool[context];
            long headPairs = 0, headValuePairs = 0;
            var headFails = 0;
            for (var qi = 0; qi < queries.Length; qi++)
            {
                var qpos = queries[qi];
                int attended;
                if (allowed is null) attended = alive.Length;
                else
                {
                    attended = 0;
                    foreach (var kpos in alive)
                        if (allowed(qpos, kpos)) { attended++; union![kpos] = true; }
                }
                if (attended == 0) continue;
                headPairs += attended;
                var v = s.ValueKeep is { } vk ? KeepCount(vk, attended) : attended;
                headValuePairs += v;
                if (v < attended) Increment(localV, (attended, v));

                if (block is not null)
                {
                    // Restrict the dense probabilities to the alive (and allowed) keys and renormalise.
                    var row = generation ? 0 : qpos;
                    double sum = 0, max = 0;
                    foreach (var kpos in alive)
                        if (allowed is null || allowed(qpos, kpos)) sum += block[row, kpos];
                    foreach (var kpos in alive)
                    {
                        if (allowed is not null && !allowed(qpos, kpos)) continue;
                        var p = sum > 0 ? block[row, kpos] / sum : 1.0 / attended;
                        if (s.Techniques.Token) tokenScore[kpos] += p;
                        if (p > max) max = p;
                    }
                    if (s.Progressive is { } prog && max < prog.Threshold) headFails++;
                }
            }
            var headKeyRows = allowed is null ? alive.Length : union!.Count(x => x);
            maxKeyRows = Math.Max(maxKeyRows, headKeyRows);
            qkPairs += headPairs;
            keyRows += headKeyRows;
            pvPairs += headValuePairs;
            // V rows: generation fetches the one query's kept V rows; summarisation buffers V once per head.
            var headValueRows = generation ? headValuePairs : headKeyRows;
            valueRows += headValueRows;

            if (s.Progressive is { } pq)
            {
                refetchCompares += headPairs;
                double failFraction, anyFail;
                if (useTrace)
                {
                    failFraction = queries.Length == 0 ? 0 : (double)headFails / queries.Length;
                    anyFail = headFails > 0 ? 1 : 0;
                    measuredFails += headFails;
                    measuredRows += queries.Length;
                }
                else
                {
                    failFraction = pq.RefetchFraction!.Value;
                    anyFail = 1 - Math.Pow(1 - failFraction, queries.Length);
                }
                recomputed += failFraction * headPairs;
                // One query per request in generation: re-fetch exactly when that row fails. Summarisation buffers K,
                // so the LSB planes are fetched once per head if any of its queries fails.
                var lsbShare = generation ? failFraction : anyFail;
                keyLsbRows += lsbShare * headKeyRows;
                if (pq.RefetchValues) valueLsbRows += lsbShare * headValueRows;
            }
            if (s.Techniques.Token) tokenAdds += headPairs;
            if (useTrace && s.Techniques.Head) headScore[head] += trace!.HeadMagnitude(step, layer, head);
        }

        var serial = ImmutableArray.CreateBuilder<TopKCall>();
        if (s.Techniques.Token && nextTokens < alive.Length) serial.Add(new TopKCall(alive.Length, nextTokens, 1));
        if (s.Techniques.Head && nextHeads < aliveHeads.Length) serial.Add(new TopKCall(aliveHeads.Length, nextHeads, 1));

        var refetchFraction = s.Progressive is null ? 0
            : useTrace ? (measuredRows == 0 ? 0 : measuredFails / measuredRows)
            : s.Progressive.RefetchFraction!.Value;

        return new LayerPass(
            step, layer, context, alive.Length, queries.Length, aliveHeads.Length,
            qkPairs, recomputed, keyRows, keyLsbRows, valueRows, valueLsbRows, pvPairs, maxKeyRows,
            s.KeyBits, s.KeyLsbBits, s.ValueBits, s.ValueLsbBits, refetchFraction,
            tokenAdds, s.Techniques.Head ? (long)aliveHeads.Length * queries.Length * s.HeadDim : 0, refetchCompares,
            serial.ToImmutable(),
            [.. localV.Select(kv => new TopKCall(kv.Key.Item1, kv.Key.Item2, kv.Value)).OrderBy(c => c.N).ThenBy(c => c.K)],
            useTrace ? [.. alive] : ImmutableArray<int>.Empty,
            useTrace ? [.. aliveHeads] : ImmutableArray<int>.Empty);
    }

    private static void Increment(Dictionary<(int, int), long> d, (int, int) key) =>
        d[key] = d.TryGetValue(key, out var c) ? c + 1 : 1;

    /// <summary>The structured-sparsity mask of one head over (query position, key position), or null when dense.</summary>
    public static Func<int, int, bool>? Mask(StructuredSparsitySpec sparsity, bool streamingHead)
    {
        if (sparsity.IsNone) return null;
        var causal = sparsity.Causal;
        var window = sparsity.Window;
        var block = sparsity.Block;
        var streaming = streamingHead ? sparsity.StreamingHeads : null;
        if (!causal && window is null && block is null && streaming is null) return null;
        return (q, k) =>
        {
            if (causal && k > q) return false;
            var distance = causal ? q - k : Math.Abs(q - k);
            if (window is { } w && distance >= w) return false;
            if (streaming is { } st && k >= st.SinkTokens && distance >= st.RecentTokens) return false;
            if (block is { } bl && !BlockActive(bl, q / bl.BlockSize, k / bl.BlockSize)) return false;
            return true;
        };
    }

    /// <summary>Seeded block layout: diagonal blocks always kept, others kept with probability = density.</summary>
    public static bool BlockActive(BlockSparseSpec spec, int queryBlock, int keyBlock)
    {
        if (queryBlock == keyBlock) return true;
        var h = SplitMix64.Derive((ulong)spec.Seed, queryBlock, keyBlock);
        return (h >> 11) * (1.0 / (1UL << 53)) < spec.Density;
    }
}
