using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Checking;

/// <summary>
/// A named attention formula written directly from its paper's equations as plain loops (no Einsums), which a cascade
/// is checked against: it reads the cascade's inputs (by the tensor and parameter names it documents) and returns the
/// expected output in the coordinates of the output's unsplit ranks.
/// </summary>
public sealed record DirectFormula(string Name, string Paper, string Needs, Func<Cascade, IReadOnlyDictionary<string, DenseTensor>, DenseTensor> Compute);

/// <summary>The built-in direct formulas (<c>accelsim check --reference NAME</c>, or <c>reference: NAME</c> in a workload).</summary>
public static class DirectFormulas
{
    public static readonly ImmutableArray<DirectFormula> All =
    [
        new("softmax-attention", "Vaswani et al., \"Attention Is All You Need\", 2017, eq. 1",
            "the attention: section (query, key, value, output, ranks, causal, window, scale)",
            (c, t) => Softmax(c, t, null)),
        new("block-sparse-attention", "softmax attention under a block mask (XAttention arXiv 2503.16428, LServe arXiv 2502.14866)",
            "the attention: section and parameters block_size, density, mask_seed (diagonal blocks always kept)",
            BlockSparse),
        new("sigmoid-attention", "Ramapuram et al., \"Theory, Analysis, and Best Practices for Sigmoid Self-Attention\", 2024 (arXiv 2409.04431), eq. 2",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F]; parameters scale, bias, causal (optional)", Sigmoid),
        new("softplus-attention", "Gao & Spratling, \"Softplus Attention with Re-weighting Boosts Length Extrapolation\", 2025 (arXiv 2501.13428): Softplus + l1 normalisation (LSSA, without re-weighting)",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F]; parameters scale, length_scale, causal (optional)", Softplus),
        new("causal-linear-attention", "Katharopoulos et al., \"Transformers are RNNs\", ICML 2020 (arXiv 2006.16236), eq. 6 with phi(x) = elu(x) + 1 (eq. 7)",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F]", CausalLinear),
        new("lightning-attention", "Qin et al., \"Lightning Attention-2\", 2024 (arXiv 2401.04658), eq. 1: O = [(Q K^T) * M] V, M[t,s] = decay^(t-s) for s <= t",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F]; parameter decay", Lightning),
        new("streaming-head-attention", "Xiao et al., \"DuoAttention\", 2024 (arXiv 2410.10819), sec. 3; Yang et al., \"LServe\", 2025 (arXiv 2502.14866): heads h < dense_heads see every earlier key, the others the first `sink` keys and the last `local` keys",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F]; parameters scale, dense_heads, sink, local", Streaming),
        new("differential-attention", "Ye et al., \"Differential Transformer\", 2024 (arXiv 2410.05258), eq. 1: (softmax(Q1 K1^T s) - lambda softmax(Q2 K2^T s)) V",
            "Q1, Q2 [B,H,P,E], K1, K2 [B,H,M,E], V[B,H,M,F]; parameters scale, lambda, causal (optional)", Differential),
        new("gated-attention", "Qiu et al., \"Gated Attention for Large Language Models\", 2025 (arXiv 2505.06708), eq. 5: softmax attention times sigmoid(G) elementwise",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F], G[B,H,P,F] (gate scores); parameters scale, causal (optional)", Gated),
        new("agent-attention", "Han et al., \"Agent Attention\", ECCV 2024 (arXiv 2312.08874), eq. 3: softmax(Q A^T s) softmax(A K^T s) V, agents A pooled from Q",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F]; parameters scale, agents (seq_len / agents queries pooled per agent)", Agent),
        new("multi-head-latent-attention", "DeepSeek-AI, \"DeepSeek-V2\", 2024 (arXiv 2405.04434), eqs. 9-19: keys and values up-projected from the latent c_KV, decoupled RoPE key shared by heads",
            "Q[B,H,P,E], QR[B,H,P,R], CKV[B,M,L], KR[B,M,R], WUK[H,L,E], WUV[H,L,F]; parameters scale, causal (optional)", Mla),
        new("neighborhood-attention", "Hassani & Shi, \"Dilated Neighborhood Attention Transformer\", 2022 (arXiv 2209.15001), eq. 2-4 in 1-D: the `kernel` nearest keys among those `dilation` apart, shifted at the borders",
            "Q[B,H,P,E], K[B,H,P,E], V[B,H,P,F]; parameters scale, kernel (odd), dilation", Neighborhood),
        new("deltanet", "Schlag et al., \"Linear Transformers Are Secretly Fast Weight Programmers\", ICML 2021 (arXiv 2102.11174); as in Yang et al., \"Parallelizing Linear Transformers with the Delta Rule over Sequence Length\", NeurIPS 2024 (arXiv 2406.06484), eq. 1: S_t = S_{t-1} + beta_t k_t (v_t - S_{t-1}^T k_t)^T, o_t = S_t^T q_t, token by token from S_0 = 0",
            "Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F], BETA[B,H,M] (writing strengths), P = M", DeltaNet),
    ];

    public static DirectFormula? Find(string name) => All.FirstOrDefault(f => f.Name == name);

    public static IEnumerable<string> Names => All.Select(f => f.Name);

    // ------------------------------------------------------------------ softmax with the attention: section

    private static DenseTensor BlockSparse(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "block-sparse-attention");
        var b = (long)o.Param("block_size");
        var density = o.Param("density");
        var seed = (long)o.Param("mask_seed");
        return Softmax(c, t, (p, m) => p / b == m / b || BlockMaskExpr.Keep(p / b, m / b, density, seed));
    }

    /// <summary>softmax(Q K^T * scale) V over the roles the attention: section names; queries aligned with the last keys.</summary>
    public static DenseTensor Softmax(Cascade c, IReadOnlyDictionary<string, DenseTensor> inputs, Func<long, long, bool>? extraMask)
    {
        var info = c.Attention ?? throw new InputException(SourceLocation.FileOnly(c.File), "reference",
            "softmax-attention reads the roles of the attention: section, which this workload lacks; name another reference (--reference)");
        var q = inputs[info.Query];
        var k = inputs[info.Key];
        var v = inputs[info.Value];
        var qDef = c.Tensor(info.Query);
        var kDef = c.Tensor(info.Key);
        var vDef = c.Tensor(info.Value);
        var oDef = c.Tensor(info.Output);
        var P = c.Rank(info.QueryRank).Size;
        var M = c.Rank(info.KeyRank).Size;
        var E = c.Rank(info.HeadDimRank).Size;
        var F = c.Rank(info.ValueDimRank).Size;
        var outRanks = CanonicalView.Ranks(c, oDef);
        var outT = new DenseTensor(oDef.Name, [.. outRanks.Select(r => c.Rank(r).Size)]);
        var batchRanks = outRanks.Where(r => r != info.QueryRank && r != info.ValueDimRank).ToArray();
        var batchSizes = batchRanks.Select(r => c.Rank(r).Size).ToArray();
        var batchCount = batchSizes.Aggregate(1L, (a, b) => a * b);
        var offset = M - P;

        long[] Index(IEnumerable<string> ranks, Dictionary<string, long> at) => ranks.Select(r => at[r]).ToArray();

        for (long bi = 0; bi < batchCount; bi++)
        {
            var at = new Dictionary<string, long>();
            var rem = bi;
            for (var i = batchRanks.Length - 1; i >= 0; i--) { at[batchRanks[i]] = rem % batchSizes[i]; rem /= batchSizes[i]; }
            for (long p = 0; p < P; p++)
            {
                at[info.QueryRank] = p;
                var scores = new double[M];
                var visible = new bool[M];
                for (long m = 0; m < M; m++)
                {
                    visible[m] = (!info.Causal || m <= p + offset)
                                 && (info.Window is not { } w || Math.Abs(p + offset - m) < w)
                                 && (extraMask is null || extraMask(p, m));
                    if (!visible[m]) continue;
                    at[info.KeyRank] = m;
                    double s = 0;
                    for (long e = 0; e < E; e++)
                    {
                        at[info.HeadDimRank] = e;
                        s += q[Index(qDef.Ranks, at)] * k[Index(kDef.Ranks, at)];
                    }
                    scores[m] = s * info.Scale;
                }
                var weights = SoftmaxRow(scores, visible);
                for (long f = 0; f < F; f++)
                {
                    at[info.ValueDimRank] = f;
                    double acc = 0;
                    var any = false;
                    for (long m = 0; m < M; m++)
                    {
                        if (!visible[m]) continue;
                        at[info.KeyRank] = m;
                        acc += weights[m] * v[Index(vDef.Ranks, at)];
                        any = true;
                    }
                    if (any) outT[Index(outRanks, at)] = acc;
                }
            }
        }
        return outT;
    }

    // ------------------------------------------------------------------ Q[B,H,P,E], K[B,H,M,E], V[B,H,M,F] families

    private static DenseTensor Sigmoid(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "sigmoid-attention");
        var bias = o.Param("bias");
        return o.Attend(o.CausalMask(), (_, _, _, s, vis) => s.Select((x, m) => vis[m] ? 1 / (1 + Math.Exp(-(x + bias))) : 0).ToArray());
    }

    private static DenseTensor Softplus(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "softplus-attention");
        var ls = o.Param("length_scale");
        return o.Attend(o.CausalMask(), (_, _, _, s, vis) =>
        {
            var w = s.Select((x, m) => vis[m] ? Math.Log(1 + Math.Exp(ls * x)) : 0).ToArray();
            var sum = w.Sum();
            return w.Select(x => x / sum).ToArray();
        });
    }

    private static DenseTensor Streaming(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "streaming-head-attention");
        long dense = (long)o.Param("dense_heads"), sink = (long)o.Param("sink"), local = (long)o.Param("local");
        var off = o.M - o.P;
        return o.Attend((_, h, p, m) => m <= p + off && (h < dense || m < sink || p + off - m < local),
            (_, _, _, s, vis) => SoftmaxRow(s, vis));
    }

    private static DenseTensor Gated(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "gated-attention");
        var g = o.Tensor("G", 4, "[B,H,P,F]");
        var attn = o.Attend(o.CausalMask(), (_, _, _, s, vis) => SoftmaxRow(s, vis));
        for (var i = 0; i < attn.Length; i++) attn.Values[i] *= 1 / (1 + Math.Exp(-g.Values[i]));
        return attn;
    }

    private static DenseTensor Differential(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "differential-attention");
        var lambda = o.Param("lambda");
        var a1 = o.Attend(o.CausalMask(), (_, _, _, s, vis) => SoftmaxRow(s, vis), "Q1", "K1");
        var a2 = o.Attend(o.CausalMask(), (_, _, _, s, vis) => SoftmaxRow(s, vis), "Q2", "K2");
        for (var i = 0; i < a1.Length; i++) a1.Values[i] -= lambda * a2.Values[i];
        return a1;
    }

    private static DenseTensor Neighborhood(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "neighborhood-attention");
        long kernel = (long)o.Param("kernel"), dilation = (long)o.Param("dilation"), L = o.P;
        if (o.M != L) throw o.Fail("neighbourhood attention is self-attention: K and V need as many positions as Q");
        return o.Attend((_, _, p, m) =>
        {
            var r = p % dilation;
            if (m % dilation != r) return false;
            var n = (L - r + dilation - 1) / dilation;                     // positions of this residue
            var start = Math.Min(Math.Max(p / dilation - kernel / 2, 0), n - kernel);
            var j = m / dilation;
            return j >= start && j < start + kernel;
        }, (_, _, _, s, vis) => SoftmaxRow(s, vis));
    }

    private static DenseTensor CausalLinear(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "causal-linear-attention");
        static double Phi(double x) => x > 0 ? x + 1 : Math.Exp(x);
        var off = o.M - o.P;
        return o.Attend((_, _, p, m) => m <= p + off, (_, _, _, s, vis) =>
        {
            var w = s.Select((x, m) => vis[m] ? x : 0).ToArray();
            var sum = w.Sum();
            return w.Select(x => x / sum).ToArray();
        }, scoreOf: (qv, kv) => qv.Zip(kv, (a, b) => Phi(a) * Phi(b)).Sum());
    }

    private static DenseTensor DeltaNet(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "deltanet");
        var beta = o.Tensor("BETA", 3, "[B,H,M]");
        if (o.P != o.M) throw o.Fail($"needs as many queries as keys (token t reads the state after key t); got {o.P} and {o.M}");
        var result = new DenseTensor("O", [o.B, o.H, o.P, o.F]);
        for (long b = 0; b < o.B; b++)
            for (long h = 0; h < o.H; h++)
            {
                var state = new double[o.E, o.F];
                for (long m = 0; m < o.M; m++)
                {
                    // The delta rule: the value the state predicts for k_t is replaced, by a fraction beta_t, with v_t.
                    for (long f = 0; f < o.F; f++)
                    {
                        double predicted = 0;
                        for (long e = 0; e < o.E; e++) predicted += o.K[b, h, m, e] * state[e, f];
                        var delta = beta[b, h, m] * (o.V[b, h, m, f] - predicted);
                        for (long e = 0; e < o.E; e++) state[e, f] += o.K[b, h, m, e] * delta;
                    }
                    for (long f = 0; f < o.F; f++)
                    {
                        double acc = 0;
                        for (long e = 0; e < o.E; e++) acc += o.Q[b, h, m, e] * state[e, f];
                        result[b, h, m, f] = acc;
                    }
                }
            }
        return result;
    }

    private static DenseTensor Lightning(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "lightning-attention");
        var decay = o.Param("decay");
        var off = o.M - o.P;
        return o.Attend((_, _, p, m) => m <= p + off,
            (_, _, p, s, vis) => s.Select((x, m) => vis[m] ? Math.Pow(decay, p + off - m) * x : 0).ToArray(),
            scoreOf: (qv, kv) => qv.Zip(kv, (a, b) => a * b).Sum());
    }

    private static DenseTensor Agent(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "agent-attention");
        var n = (long)o.Param("agents");
        var scale = o.Param("scale");
        if (n < 1 || o.P % n != 0) throw o.Fail($"agents ({n}) must divide the number of queries ({o.P})");
        var group = o.P / n;
        var result = new DenseTensor("O", [o.B, o.H, o.P, o.F]);
        for (long b = 0; b < o.B; b++)
            for (long h = 0; h < o.H; h++)
            {
                // agent tokens: mean of each group of consecutive queries (the paper's pooling of Q)
                var agents = new double[n, o.E];
                for (long a = 0; a < n; a++)
                    for (long e = 0; e < o.E; e++)
                    {
                        double s = 0;
                        for (long r = 0; r < group; r++) s += o.Q[b, h, a * group + r, e];
                        agents[a, e] = s / group;
                    }
                // agent aggregation: each agent attends to every key
                var agentValues = new double[n, o.F];
                for (long a = 0; a < n; a++)
                {
                    var scores = new double[o.M];
                    for (long m = 0; m < o.M; m++)
                    {
                        double s = 0;
                        for (long e = 0; e < o.E; e++) s += agents[a, e] * o.K[b, h, m, e];
                        scores[m] = s * scale;
                    }
                    var w = SoftmaxRow(scores, Enumerable.Repeat(true, (int)o.M).ToArray());
                    for (long f = 0; f < o.F; f++)
                        for (long m = 0; m < o.M; m++) agentValues[a, f] += w[m] * o.V[b, h, m, f];
                }
                // agent broadcast: each query attends to the agents
                for (long p = 0; p < o.P; p++)
                {
                    var scores = new double[n];
                    for (long a = 0; a < n; a++)
                    {
                        double s = 0;
                        for (long e = 0; e < o.E; e++) s += o.Q[b, h, p, e] * agents[a, e];
                        scores[a] = s * scale;
                    }
                    var w = SoftmaxRow(scores, Enumerable.Repeat(true, (int)n).ToArray());
                    for (long f = 0; f < o.F; f++)
                    {
                        double acc = 0;
                        for (long a = 0; a < n; a++) acc += w[a] * agentValues[a, f];
                        result[b, h, p, f] = acc;
                    }
                }
            }
        return result;
    }

    private static DenseTensor Mla(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        var o = new Operands(c, t, "multi-head-latent-attention", keysFromQ: true);
        var qr = o.Tensor("QR", 4, "[B,H,P,R]");
        var ckv = o.Tensor("CKV", 3, "[B,M,L]");
        var kr = o.Tensor("KR", 3, "[B,M,R]");
        var wuk = o.Tensor("WUK", 3, "[H,L,E]");
        var wuv = o.Tensor("WUV", 3, "[H,L,F]");
        long B = o.B, H = o.H, P = o.P, E = o.E, M = ckv.Extents[1], L = ckv.Extents[2], R = qr.Extents[3], F = wuv.Extents[2];
        var scale = o.Param("scale");
        var causal = o.Flag("causal");
        var result = new DenseTensor("O", [B, H, P, F]);
        for (long b = 0; b < B; b++)
            for (long h = 0; h < H; h++)
            {
                // explicit (non-absorbed) keys and values of this head: k = [c_KV W_UK ; k_rope], v = c_KV W_UV
                var k = new double[M, E + R];
                var v = new double[M, F];
                for (long m = 0; m < M; m++)
                {
                    for (long e = 0; e < E; e++) for (long l = 0; l < L; l++) k[m, e] += ckv[b, m, l] * wuk[h, l, e];
                    for (long r = 0; r < R; r++) k[m, E + r] = kr[b, m, r];
                    for (long f = 0; f < F; f++) for (long l = 0; l < L; l++) v[m, f] += ckv[b, m, l] * wuv[h, l, f];
                }
                for (long p = 0; p < P; p++)
                {
                    var scores = new double[M];
                    var visible = new bool[M];
                    for (long m = 0; m < M; m++)
                    {
                        visible[m] = !causal || m <= p + M - P;
                        double s = 0;
                        for (long e = 0; e < E; e++) s += o.Q[b, h, p, e] * k[m, e];
                        for (long r = 0; r < R; r++) s += qr[b, h, p, r] * k[m, E + r];
                        scores[m] = s * scale;
                    }
                    var w = SoftmaxRow(scores, visible);
                    for (long f = 0; f < F; f++)
                    {
                        double acc = 0;
                        for (long m = 0; m < M; m++) if (visible[m]) acc += w[m] * v[m, f];
                        result[b, h, p, f] = acc;
                    }
                }
            }
        return result;
    }

    private static double[] SoftmaxRow(double[] scores, bool[] visible)
    {
        var max = double.NegativeInfinity;
        for (var m = 0; m < scores.Length; m++) if (visible[m]) max = Math.Max(max, scores[m]);
        var w = new double[scores.Length];
        double sum = 0;
        for (var m = 0; m < scores.Length; m++) if (visible[m]) sum += w[m] = Math.Exp(scores[m] - max);
        for (var m = 0; m < scores.Length; m++) w[m] /= sum;
        return w;
    }

    /// <summary>The inputs and parameters one formula reads, checked for presence and shape with located errors.</summary>
    private sealed class Operands
    {
        private readonly Cascade _c;
        private readonly IReadOnlyDictionary<string, DenseTensor> _inputs;
        private readonly string _formula;

        public Operands(Cascade c, IReadOnlyDictionary<string, DenseTensor> inputs, string formula, bool keysFromQ = false)
        {
            _c = c;
            _inputs = inputs;
            _formula = formula;
            var q = _c.Tensors.FirstOrDefault(x => x.Name is "Q" or "Q1" && x.Role == TensorRole.Input)
                    ?? throw Fail("needs an input tensor Q[B,H,P,E] (batch, heads, queries, head_dim)");
            Q = Tensor(q.Name, 4, "[B,H,P,E]");
            (B, H, P, E) = (Q.Extents[0], Q.Extents[1], Q.Extents[2], Q.Extents[3]);
            if (keysFromQ) return;
            var k = q.Name == "Q1" ? "K1" : "K";
            K = Tensor(k, 4, "[B,H,M,E]");
            V = Tensor("V", 4, "[B,H,M,F]");
            M = K.Extents[2];
            F = V.Extents[3];
            if (K.Extents[0] != B || K.Extents[1] != H || K.Extents[3] != E || V.Extents[2] != M || V.Extents[0] != B || V.Extents[1] != H)
                throw Fail($"needs Q[B,H,P,E], {k}[B,H,M,E], V[B,H,M,F] with matching B, H, M and E; got {Shape(Q)}, {Shape(K)}, {Shape(V)}");
        }

        public DenseTensor Q { get; }
        public DenseTensor K { get; } = null!;
        public DenseTensor V { get; } = null!;
        public long B { get; }
        public long H { get; }
        public long P { get; }
        public long E { get; }
        public long M { get; }
        public long F { get; }

        public InputException Fail(string problem) =>
            new(SourceLocation.FileOnly(_c.File), "reference", $"{_formula}: {problem}");

        private static string Shape(DenseTensor t) => $"{t.Name}[{string.Join(",", t.Extents)}]";

        public DenseTensor Tensor(string name, int ranks, string layout)
        {
            if (!_inputs.TryGetValue(name, out var t) || _c.FindTensor(name) is not { Role: TensorRole.Input })
                throw Fail($"needs an input tensor {name}{layout}");
            if (t.Extents.Length != ranks) throw Fail($"needs {name}{layout}, got {Shape(t)}");
            return t;
        }

        public double Param(string name) => _c.Parameters.TryGetValue(name, out var v)
            ? v : throw Fail($"needs a parameter '{name}'{Suggest.DidYouMean(name, _c.Parameters.Keys)}");

        public bool Flag(string name) => _c.Parameters.TryGetValue(name, out var v) && v != 0;

        /// <summary>Causal when the workload declares `causal` true: key m visible from query p when m &lt;= p + (M - P).</summary>
        public Func<long, long, long, long, bool> CausalMask()
        {
            var causal = Flag("causal");
            var off = M - P;
            return (_, _, p, m) => !causal || m <= p + off;
        }

        /// <summary>
        /// out[b,h,p,f] = sum over visible m of w[m] v[b,h,m,f], where w = <paramref name="weights"/>(b, h, p, scores,
        /// visible) and scores[m] = scale * q.k (or <paramref name="scoreOf"/>(q, k) when given, unscaled).
        /// </summary>
        public DenseTensor Attend(Func<long, long, long, long, bool> visible, Func<long, long, long, double[], bool[], double[]> weights,
            string q = "Q", string k = "K", Func<double[], double[], double>? scoreOf = null)
        {
            var qt = q == "Q" ? Q : Tensor(q, 4, "[B,H,P,E]");
            var kt = k == "K" && K is not null ? K : Tensor(k, 4, "[B,H,M,E]");
            var scale = scoreOf is null ? Param("scale") : 1;
            var result = new DenseTensor("O", [B, H, P, F]);
            for (long b = 0; b < B; b++)
                for (long h = 0; h < H; h++)
                    for (long p = 0; p < P; p++)
                    {
                        var qv = new double[E];
                        for (long e = 0; e < E; e++) qv[e] = qt[b, h, p, e];
                        var scores = new double[M];
                        var vis = new bool[M];
                        for (long m = 0; m < M; m++)
                        {
                            vis[m] = visible(b, h, p, m);
                            if (!vis[m]) continue;
                            var kv = new double[E];
                            for (long e = 0; e < E; e++) kv[e] = kt[b, h, m, e];
                            scores[m] = scoreOf is null ? scale * qv.Zip(kv, (x, y) => x * y).Sum() : scoreOf(qv, kv);
                        }
                        if (!vis.Any(x => x)) continue; // a query that sees no key has an empty output row
                        var w = weights(b, h, p, scores, vis);
                        for (long f = 0; f < F; f++)
                        {
                            double acc = 0;
                            for (long m = 0; m < M; m++) if (vis[m]) acc += w[m] * V[b, h, m, f];
                            result[b, h, p, f] = acc;
                        }
                    }
            return result;
        }
    }
}
