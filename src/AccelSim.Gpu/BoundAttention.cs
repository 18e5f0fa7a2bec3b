using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Gpu;

/// <summary>How a kernel family computes softmax attention (kernels.yaml `implements.cascade`).</summary>
public enum CascadeForm
{
    /// <summary>One pass over the keys with a running maximum and rescaled running sums (FlashAttention).</summary>
    OnlineSoftmax,
    /// <summary>S and P written out in full, softmax over complete rows: a 2- or 3-pass cascade (unfused PyTorch).</summary>
    MaterialisedSoftmax,
}

/// <summary>
/// A bound cascade read as attention: the shape from the ranks its `attention:` section names, its score mask read from
/// the score Einsum's `where:`, its work counted by `analyze`, and the structure its Einsums have (softmax or not,
/// passes over the keys). Kernel families are checked against this, never against the file name.
/// </summary>
public sealed record BoundAttention(
    Cascade Cascade,
    Lazy<CascadeReport> Counts,
    AttentionShape? Shape,
    string? ScoreEinsum,
    int KeyPasses,
    string? RunningMaximum,
    string? NotAttention,
    string? NotSoftmax,
    string? MaskProblem)
{
    /// <summary>What `analyze` reports for the cascade (counted on first use: a refusal needs no counts).</summary>
    public CascadeReport Analysis => Counts.Value;

    /// <summary>MACs the cascade requires (mask-aware, as `analyze` counts them).</summary>
    public long Macs => Analysis.TotalOps.Mac;

    /// <summary>FLOPs of the forward cascade in the FlashAttention convention, generalised: 2 x its MACs.</summary>
    public double ForwardFlops => 2.0 * Macs;

    /// <summary>Why <paramref name="kernel"/> cannot implement this cascade, or null when it can.</summary>
    public string? Mismatch(KernelFamily kernel)
    {
        var k = kernel.Name;
        if (NotAttention is { } na) return $"kernel {k} needs an attention cascade, but {na}";
        if (NotSoftmax is { } ns) return $"{k} implements softmax attention, but {ns}";
        var key = Cascade.Attention!.KeyRank;
        switch (kernel.Implements.Cascade)
        {
            case CascadeForm.OnlineSoftmax when KeyPasses != 1:
                var cause = PassAnalysis.ForRank(Cascade, Cascade.Rank(key))?.Causes.FirstOrDefault();
                return $"{k} implements 1-pass softmax attention with online rescaling, but the cascade makes {KeyPasses} passes over key rank {key}" +
                       (cause is null ? "" : $" ({cause.Tensor} is complete only after pass {cause.Pass - 1} and {cause.NeededBy} needs it)");
            case CascadeForm.MaterialisedSoftmax when KeyPasses == 1:
                return $"{k} implements softmax attention with S and P materialised in memory (a 2- or 3-pass cascade), " +
                       $"but the cascade is 1-pass with online rescaling (running maximum {RunningMaximum ?? "?"})";
        }
        if (MaskProblem is { } mp) return $"kernel {k} cannot skip the mask of Einsum {ScoreEinsum}: {mp}";
        foreach (var kind in Shape!.Mask.Kinds)
            if (!kernel.Implements.Masks.Contains(kind))
                return $"kernel {k} cannot skip {(kind == MaskKinds.Block ? "blockmask" : kind)} tiles (Einsum {ScoreEinsum} keeps {Shape.Mask}; it skips {(kernel.Implements.Masks.IsEmpty ? "none" : string.Join(", ", kernel.Implements.Masks))})";
        return null;
    }

    /// <summary>Reads <paramref name="cascade"/> as attention. Input errors in the shape (e.g. heads not a multiple of kv_heads) are thrown.</summary>
    public static BoundAttention Of(Cascade cascade, DataType dtype16 = DataType.Bf16)
    {
        var analysis = new Lazy<CascadeReport>(() => CascadeAnalyzer.Analyze(cascade));
        BoundAttention Refuse(string why) => new(cascade, analysis, null, null, 0, null, why, null, null);
        if (cascade.Attention is not { } a)
            return Refuse("the workload has no `attention:` section naming its query, key, value and output tensors and their ranks");
        var reader = new Reader(cascade, a);
        if (reader.RoleProblem() is { } roles) return Refuse(roles);

        var shape = reader.Shape(dtype16);
        var (score, notSoftmax) = reader.Structure();
        var passes = PassAnalysis.ForRank(cascade, cascade.Rank(a.KeyRank))?.Passes ?? 1;
        string? maskProblem = null;
        if (score is not null && notSoftmax is null)
        {
            var analysisOf = analysis;
            var (mask, problem) = reader.Mask(score);
            maskProblem = problem;
            if (mask is not null)
            {
                // The mask read from the filter must give exactly analyze's count of the score Einsum's points.
                var expected = analysisOf.Value.Einsum(score.Name).Points;
                var contracted = score.ReduceVariables.Aggregate(1L, (p, v) => p * score.Iteration[v].Size);
                var counted = (double)mask.Total() * shape.Batch * shape.Heads * contracted;
                if (counted != expected)
                    maskProblem = $"its visible (query, key) pairs ({Invariant.Num(expected / (double)contracted)}) do not follow from a band or block mask of its `where:`";
                else
                    shape = shape with
                    {
                        ExplicitMask = mask,
                        Causal = mask.MaxOffset is not null && mask.MinOffset is null,
                        Window = mask.MinOffset is { } lo ? WindowWidth(mask, lo) : null,
                    };
            }
        }
        return new BoundAttention(cascade, analysis, shape, score?.Name, passes, reader.RunningMaximum(), null, notSoftmax, maskProblem);
    }

    /// <summary>The IR's window width w of a band: trailing (o - w < key - query &lt;= o) or symmetric around the offset.</summary>
    private static long WindowWidth(ScoreMask m, long lo)
    {
        var offset = m.KvLen - m.QueryLen;
        return m.MaxOffset is { } hi && hi > offset ? (hi - lo) / 2 + 1 : offset - lo + 1;
    }

    /// <summary>Reads the cascade's Einsums against the roles of its `attention:` section.</summary>
    private sealed class Reader(Cascade c, AttentionInfo a)
    {
        private readonly HashSet<string> _keyRanks = KeyRanks(c, a.KeyRank);

        private static HashSet<string> KeyRanks(Cascade c, string key)
        {
            var set = new HashSet<string>(StringComparer.Ordinal) { key };
            var rank = c.Rank(key);
            if (rank.IsSplit) foreach (var p in rank.Partitions) set.UnionWith(KeyRanks(c, p));
            return set;
        }

        private long Size(string? rank) => rank is null ? 1 : c.Rank(rank).Size;

        public string? RoleProblem()
        {
            var roles = new[] { a.BatchRank, a.HeadRank, a.KvHeadRank, a.GroupRank, a.QueryRank, a.KeyRank, a.HeadDimRank, a.ValueDimRank }
                .Where(r => r is not null).Select(r => r!).ToHashSet(StringComparer.Ordinal);
            foreach (var (tensor, role) in new[] { (a.Query, "query"), (a.Key, "key"), (a.Value, "value"), (a.Output, "output") })
                foreach (var rank in c.Tensor(tensor).Ranks)
                    if (!roles.Contains(rank) && !_keyRanks.Contains(rank))
                        return $"{role} tensor {tensor} has rank {rank}, which the `attention:` section gives no role";
            return null;
        }

        public AttentionShape Shape(DataType dtype16)
        {
            int Int(string? rank, string field)
            {
                var v = Size(rank);
                if (v > int.MaxValue) throw new InputException(SourceLocation.FileOnly(c.File), field, "too large for the GPU model");
                return (int)v;
            }
            var kvHeads = a.KvHeadRank is not null ? Int(a.KvHeadRank, "kv_heads") : 0;
            var heads = a.HeadRank is not null ? Int(a.HeadRank, "heads")
                : a.KvHeadRank is not null ? checked(kvHeads * Int(a.GroupRank, "heads")) : 1;
            if (kvHeads == 0) kvHeads = heads;
            var bits = c.Tensor(a.Query).WordBits;
            var dtype = bits switch { <= 4 => DataType.Fp4, <= 8 => DataType.Fp8, _ => dtype16 };
            var shape = new AttentionShape(Int(a.BatchRank, "batch"), heads, kvHeads, Size(a.QueryRank), Size(a.KeyRank),
                Int(a.HeadDimRank, "head_dim"), Int(a.ValueDimRank, "value_dim"), false, null, dtype, Direction.Forward);
            try
            {
                return shape.Validate();
            }
            catch (InputException e)
            {
                throw new InputException(SourceLocation.FileOnly(c.File), e.Field, e.Problem);
            }
        }

        private bool OnRanks(ExtendedEinsum e, int variable, Func<string, bool> rank) => rank(e.Iteration[variable].Rank);

        private bool IsKeyVariable(ExtendedEinsum e, int v) => OnRanks(e, v, _keyRanks.Contains);

        /// <summary>Elementwise scaling of one tensor by a constant (QS = Q * scale), or a copy.</summary>
        private static string? ScaledInput(ExtendedEinsum e)
        {
            if (e.Reduce is not null || e.Filter is not null || e.Inputs.Select(i => i.Tensor).Distinct().Count() != 1) return null;
            return e.Body switch
            {
                ReadExpr => e.Inputs[0].Tensor,
                BinaryBound { Fn: BinaryFn.Mul, Left: ReadExpr, Right: ConstExpr } or BinaryBound { Fn: BinaryFn.Mul, Left: ConstExpr, Right: ReadExpr }
                    or BinaryBound { Fn: BinaryFn.Div, Left: ReadExpr, Right: ConstExpr } => e.Inputs[0].Tensor,
                _ => null,
            };
        }

        /// <summary>A tensor and every tensor derived from it by elementwise scaling.</summary>
        private HashSet<string> Lineage(string tensor)
        {
            var set = new HashSet<string>(StringComparer.Ordinal) { tensor };
            bool grew;
            do
            {
                grew = false;
                foreach (var e in c.Einsums)
                    if (ScaledInput(e) is { } input && set.Contains(input)) grew |= set.Add(e.Output.Tensor);
            } while (grew);
            return set;
        }

        private string Input(ExtendedEinsum e, BoundExpr x) => x is ReadExpr r ? e.Inputs[r.Input].Tensor : "";

        /// <summary>A sum over exactly the variables of <paramref name="contracted"/> of a product of two reads, one from each set.</summary>
        private ExtendedEinsum? Contraction(HashSet<string> left, HashSet<string> right, Func<ExtendedEinsum, int, bool> contracted) =>
            c.Einsums.FirstOrDefault(e => e.Reduce == ReduceOp.Sum && e.Body is BinaryBound { Fn: BinaryFn.Mul } m
                && m.Left is ReadExpr && m.Right is ReadExpr
                && ((left.Contains(Input(e, m.Left)) && right.Contains(Input(e, m.Right))) || (left.Contains(Input(e, m.Right)) && right.Contains(Input(e, m.Left))))
                && e.ReduceVariables.Length > 0 && e.ReduceVariables.All(v => contracted(e, v)));

        private ExtendedEinsum? _score;
        private HashSet<string> _max = [];

        /// <summary>The score Einsum and, when the cascade is not softmax attention, what differs (naming the Einsum).</summary>
        public (ExtendedEinsum? Score, string? NotSoftmax) Structure()
        {
            var query = Lineage(a.Query);
            var key = Lineage(a.Key);
            var value = Lineage(a.Value);
            var score = Contraction(query, key, (e, v) => OnRanks(e, v, r => r == a.HeadDimRank));
            if (score is null) return (null, $"no Einsum contracts query {a.Query} with key {a.Key} over head_dim rank {a.HeadDimRank} (the scores QK^T)");
            _score = score;
            var scores = Lineage(score.Output.Tensor);

            foreach (var input in c.Tensors.Where(t => t.Role == TensorRole.Input))
                if (input.Name != a.Query && input.Name != a.Key && input.Name != a.Value)
                    return (score, $"the cascade reads input {input.Name} besides {a.Query}, {a.Key} and {a.Value} (a bias, gate or extra tokens the kernel does not take)");

            // Maxima of the scores over the keys, and everything combined from them by max (running or global maxima).
            var max = new HashSet<string>(StringComparer.Ordinal);
            bool grew;
            do
            {
                grew = false;
                foreach (var e in c.Einsums)
                {
                    var reads = e.Inputs.Select(i => i.Tensor).Distinct().ToList();
                    var isMax = e.Reduce == ReduceOp.Max && e.Body is ReadExpr r && (scores.Contains(Input(e, r)) || max.Contains(Input(e, r)))
                                && e.ReduceVariables.All(v => IsKeyVariable(e, v))
                                || e.Reduce is null && e.Body is BinaryBound { Fn: BinaryFn.Max, Left: ReadExpr, Right: ReadExpr }
                                   && reads.Where(t => t != e.Output.Tensor).All(max.Contains);
                    if (isMax) grew |= max.Add(e.Output.Tensor);
                }
            } while (grew);
            _max = max;

            // Every Einsum reading the scores must take their maximum or exponentiate them less a maximum.
            var numerators = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in c.Einsums.Where(e => ScaledInput(e) is null && e.Inputs.Any(i => scores.Contains(i.Tensor))))
            {
                if (max.Contains(e.Output.Tensor) && e.Reduce == ReduceOp.Max) continue;
                if (e.Reduce is null && e.Body is UnaryBound { Fn: UnaryFn.Exp, Operand: BinaryBound { Fn: BinaryFn.Sub, Left: ReadExpr l, Right: ReadExpr r } }
                    && scores.Contains(Input(e, l)) && max.Contains(Input(e, r)))
                {
                    numerators.Add(e.Output.Tensor);
                    continue;
                }
                return (score, $"Einsum {e.Name} applies {Describe(e, scores)} to the scores {score.Output.Tensor} (no max/exp/sum normalisation)");
            }
            if (numerators.Count == 0)
                return (score, $"no Einsum exponentiates the scores {score.Output.Tensor} less their maximum (no max/exp/sum normalisation)");

            // The denominator: a sum of the exponentials over the keys; the output must be divided by something built on it.
            var denominator = c.Einsums.FirstOrDefault(e => e.Reduce == ReduceOp.Sum && e.Body is ReadExpr r && numerators.Contains(Input(e, r))
                                                             && e.ReduceVariables.All(v => IsKeyVariable(e, v)));
            if (denominator is null)
                return (score, $"the exponentials {numerators.First()} are never summed over key rank {a.KeyRank} (no softmax denominator)");
            var fromDenominator = Downstream(denominator.Output.Tensor);
            if (!c.Einsums.Any(e => e.Body is BinaryBound { Fn: BinaryFn.Div, Right: ReadExpr d } && fromDenominator.Contains(Input(e, d))))
                return (score, $"nothing divides by the softmax denominator {denominator.Output.Tensor}");

            // The weights times V, contracted over the keys.
            var weights = Downstream(score.Output.Tensor);
            var pv = Contraction(weights, value, IsKeyVariable);
            if (pv is null)
                return (score, $"no Einsum contracts the attention weights with value {a.Value} over key rank {a.KeyRank}");

            // Nothing else: every Einsum feeds the output, nothing reads it, no other contraction of the inputs.
            var feeds = Upstream(a.Output);
            foreach (var e in c.Einsums)
            {
                if (e.Inputs.Any(i => i.Tensor == a.Output) && e.Output.Tensor != a.Output)
                    return (score, $"Einsum {e.Name} reads the attention output {a.Output} (the kernel computes attention alone)");
                if (!feeds.Contains(e.Output.Tensor))
                    return (score, $"Einsum {e.Name} does not contribute to the attention output {a.Output}");
                if (e != score && e != pv && e.OpsPerPoint.Mac > 0 && e.Inputs.Any(i => query.Contains(i.Tensor) || key.Contains(i.Tensor) || value.Contains(i.Tensor)))
                    return (score, $"Einsum {e.Name} is a further contraction of the inputs (not part of softmax attention)");
            }
            return (score, null);
        }

        /// <summary>The tensor of the running maximum (a max recurrence reading its own earlier steps), if any.</summary>
        public string? RunningMaximum() => c.Einsums.FirstOrDefault(e => _max.Contains(e.Output.Tensor) && e.Inputs.Any(i => i.Tensor == e.Output.Tensor))?.Output.Tensor;

        private HashSet<string> Downstream(string tensor)
        {
            var set = new HashSet<string>(StringComparer.Ordinal) { tensor };
            bool grew;
            do
            {
                grew = false;
                foreach (var e in c.Einsums)
                    if (e.Inputs.Any(i => set.Contains(i.Tensor))) grew |= set.Add(e.Output.Tensor);
            } while (grew);
            return set;
        }

        private HashSet<string> Upstream(string tensor)
        {
            var set = new HashSet<string>(StringComparer.Ordinal) { tensor };
            bool grew;
            do
            {
                grew = false;
                foreach (var e in c.Einsums)
                    if (set.Contains(e.Output.Tensor))
                        foreach (var i in e.Inputs) grew |= set.Add(i.Tensor);
            } while (grew);
            return set;
        }

        /// <summary>What an Einsum does to the scores, in words: sigmoid, exp without the maximum, or its own text.</summary>
        private string Describe(ExtendedEinsum e, HashSet<string> scores)
        {
            static bool IsSigmoid(BoundExpr x) => x is BinaryBound
            {
                Fn: BinaryFn.Div, Left: ConstExpr { Value: 1 },
                Right: BinaryBound { Fn: BinaryFn.Add, Left: ConstExpr { Value: 1 }, Right: UnaryBound { Fn: UnaryFn.Exp, Operand: UnaryBound { Fn: UnaryFn.Neg } } },
            };
            static bool Any(BoundExpr x, Func<BoundExpr, bool> p) => p(x) || x switch
            {
                UnaryBound u => Any(u.Operand, p),
                BinaryBound b => Any(b.Left, p) || Any(b.Right, p),
                _ => false,
            };
            if (Any(e.Body, IsSigmoid)) return "sigmoid";
            if (e.Reduce == ReduceOp.Sum && e.Body is BinaryBound { Fn: BinaryFn.Mul }) return "a contraction (no exponentials)";
            if (Any(e.Body, x => x is UnaryBound { Fn: UnaryFn.Exp })) return "exp without subtracting a maximum of the scores over the keys";
            if (e.Reduce is { } r) return $"a {r.ToString().ToLowerInvariant()} over {string.Join(", ", e.ReduceVariables.Select(v => e.Iteration[v].Name))}";
            return $"`{e.Body.Format(i => e.Inputs[i].Tensor)}`";
        }

        /// <summary>
        /// The score Einsum's `where:` as a band around the diagonal (a conjunction of comparisons of key - query with
        /// constants) and block-granular terms (query // b and key // c only); null with a reason for anything else.
        /// </summary>
        public (ScoreMask? Mask, string? Problem) Mask(ExtendedEinsum score)
        {
            var queryLen = Size(a.QueryRank);
            var kvLen = Size(a.KeyRank);
            var mask = new ScoreMask(queryLen, kvLen, null, null, null);
            if (score.Filter is null) return (mask, null);
            var qv = score.Iteration.Select((v, i) => (v, i)).Where(t => t.v.Rank == a.QueryRank).Select(t => t.i).ToArray();
            if (qv.Length != 1) return (null, $"it does not iterate query rank {a.QueryRank} once");
            int p = qv[0];
            // key = sum over the key variables of stride x variable (m = m1 * tile + m0 for a split key rank)
            var keyStride = new Dictionary<int, long>();
            for (var i = 0; i < score.Iteration.Length; i++)
                if (_keyRanks.Contains(score.Iteration[i].Rank) && !c.Rank(score.Iteration[i].Rank).IsSplit)
                    keyStride[i] = Stride(score.Iteration[i].Rank);

            long? min = null, max = null;
            var blockTerms = new List<BoundExpr>();
            long rowBlock = 0, colBlock = 0;
            foreach (var atom in Conjuncts(score.Filter))
            {
                if (atom is ConstExpr k)
                {
                    if (k.Value != 0) continue;
                    return (null, "it masks every (query, key) pair");
                }
                if (Linear(atom) is { } form)
                {
                    var (problem, bound) = BandBound(form, p, keyStride);
                    if (problem is not null) return (null, $"`{Text(atom, score)}` {problem}");
                    var (isUpper, value) = bound!.Value;
                    if (isUpper) max = max is { } m0 ? Math.Min(m0, value) : value;
                    else min = min is { } m1 ? Math.Max(m1, value) : value;
                    continue;
                }
                if (BlockSizes(atom, p, keyStride) is not { } sizes)
                    return (null, $"`{Text(atom, score)}` is neither a band around the diagonal (causal, window) nor a block mask of query // b and key // c");
                if ((rowBlock != 0 && sizes.Row != rowBlock) || (colBlock != 0 && sizes.Col != colBlock))
                    return (null, $"`{Text(atom, score)}` uses other block sizes than the rest of the mask");
                (rowBlock, colBlock) = (sizes.Row == 0 ? rowBlock : sizes.Row, sizes.Col == 0 ? colBlock : sizes.Col);
                if (sizes is (0, 0))
                    return (null, $"`{Text(atom, score)}` does not depend on the query or key index");
                blockTerms.Add(atom);
            }
            BlockPattern? blocks = null;
            if (blockTerms.Count > 0)
            {
                var predicate = blockTerms.Select(ScalarCompiler.CompilePredicate).ToArray();
                long rb = rowBlock == 0 ? queryLen : rowBlock, cb = colBlock == 0 ? kvLen : colBlock;
                var n = score.Iteration.Length;
                var keyVars = keyStride.OrderByDescending(kv => kv.Value).ToArray();
                bool Keep(long row, long col)
                {
                    var point = new long[n];
                    point[p] = row * rb;
                    var rest = col * cb;
                    foreach (var (v, stride) in keyVars) { point[v] = rest / stride; rest %= stride; }
                    foreach (var pr in predicate) if (!pr(point)) return false;
                    return true;
                }
                blocks = new BlockPattern(rb, cb, Keep, string.Join(" and ", blockTerms.Select(t => Text(t, score))));
            }
            return (new ScoreMask(queryLen, kvLen, min, max, blocks).Normalised(), null);
        }

        private long Stride(string rank)
        {
            // A partition's stride in its parent's index; nested splits multiply.
            long stride = 1;
            for (var r = c.Rank(rank); r.Parent is not null; r = c.Rank(r.Parent)) stride *= r.Stride;
            return stride;
        }

        private static string Text(BoundExpr e, ExtendedEinsum score) => e.Format(i => score.Inputs[i].Tensor);

        private static IEnumerable<BoundExpr> Conjuncts(BoundExpr e) =>
            e is BinaryBound { Fn: BinaryFn.And } b ? Conjuncts(b.Left).Concat(Conjuncts(b.Right)) : [e];

        /// <summary>`left op right` as (coefficients, constant, op) with op normalised to &lt;= or &lt; 0, or null.</summary>
        private static (Dictionary<int, double> Coefficients, double Constant, bool Strict)? Linear(BoundExpr atom)
        {
            if (atom is not BinaryBound { Fn: BinaryFn.Le or BinaryFn.Lt or BinaryFn.Ge or BinaryFn.Gt } b) return null;
            if (Form(b.Left) is not { } l || Form(b.Right) is not { } r) return null;
            var sign = b.Fn is BinaryFn.Le or BinaryFn.Lt ? 1 : -1;   // a >= b  <=>  b - a <= 0
            var coefficients = new Dictionary<int, double>();
            foreach (var (v, k) in l.C) coefficients[v] = coefficients.GetValueOrDefault(v) + sign * k;
            foreach (var (v, k) in r.C) coefficients[v] = coefficients.GetValueOrDefault(v) - sign * k;
            return (coefficients, sign * (l.K - r.K), b.Fn is BinaryFn.Lt or BinaryFn.Gt);
        }

        private static (Dictionary<int, double> C, double K)? Form(BoundExpr e)
        {
            switch (e)
            {
                case ConstExpr k: return ([], k.Value);
                case IndexValueExpr i:
                    var d = new Dictionary<int, double>();
                    foreach (var t in i.Index.Terms) d[t.Variable] = d.GetValueOrDefault(t.Variable) + t.Coefficient;
                    return (d, i.Index.Constant);
                case UnaryBound { Fn: UnaryFn.Neg } u:
                    return Form(u.Operand) is { } f ? (f.C.ToDictionary(kv => kv.Key, kv => -kv.Value), -f.K) : null;
                case BinaryBound { Fn: BinaryFn.Add or BinaryFn.Sub } b:
                    if (Form(b.Left) is not { } l || Form(b.Right) is not { } r) return null;
                    var s = b.Fn == BinaryFn.Add ? 1 : -1;
                    var sum = new Dictionary<int, double>(l.C);
                    foreach (var (v, k) in r.C) sum[v] = sum.GetValueOrDefault(v) + s * k;
                    return (sum, l.K + s * r.K);
                case BinaryBound { Fn: BinaryFn.Mul } b:
                    if (Form(b.Left) is not { } ml || Form(b.Right) is not { } mr) return null;
                    if (ml.C.All(kv => kv.Value == 0)) return (mr.C.ToDictionary(kv => kv.Key, kv => kv.Value * ml.K), mr.K * ml.K);
                    if (mr.C.All(kv => kv.Value == 0)) return (ml.C.ToDictionary(kv => kv.Key, kv => kv.Value * mr.K), ml.K * mr.K);
                    return null;
                default: return null;
            }
        }

        /// <summary>`cq * query + ck * key + k (&lt;|&lt;=) 0` as a bound on key - query (upper when ck &gt; 0), or why it is not one.</summary>
        private static (string? Problem, (bool Upper, long Value)? Bound) BandBound(
            (Dictionary<int, double> Coefficients, double Constant, bool Strict) form, int p, Dictionary<int, long> keyStride)
        {
            double? ck = null;
            foreach (var (v, k) in form.Coefficients)
            {
                if (k == 0 || v == p) continue;
                if (!keyStride.TryGetValue(v, out var stride))
                    return ("depends on an index other than the query and the key (a head- or batch-dependent mask)", null);
                var perKey = k / stride;
                if (ck is { } prev && Math.Abs(prev - perKey) > 1e-12 * Math.Abs(prev))
                    return ("does not read the key index as a whole", null);
                ck = perKey;
            }
            var cq = form.Coefficients.GetValueOrDefault(p);
            if (ck is not { } keyCoefficient || keyCoefficient == 0 || Math.Abs(cq + keyCoefficient) > 1e-12 * Math.Abs(keyCoefficient))
                return ("is not a band around the diagonal (a comparison of key - query with a constant)", null);
            // ck * (key - query) + k (<|<=) 0
            var t = -form.Constant / keyCoefficient;
            if (keyCoefficient > 0)
                return (null, (true, form.Strict ? (long)Math.Ceiling(t - 1e-9) - 1 : (long)Math.Floor(t + 1e-9)));
            return (null, (false, form.Strict ? (long)Math.Floor(t + 1e-9) + 1 : (long)Math.Ceiling(t - 1e-9)));
        }

        /// <summary>
        /// When every use of the query and key indices in <paramref name="atom"/> is `query // b` or `key // c` (and no
        /// other index is used), the block sizes (0 = that index is not used); else null.
        /// </summary>
        private (long Row, long Col)? BlockSizes(BoundExpr atom, int p, Dictionary<int, long> keyStride)
        {
            long row = 0, col = 0;
            var ok = true;
            bool IsQuery(AffineIndex i) => i.Constant == 0 && i.Terms.Length == 1 && i.Terms[0].Variable == p && i.Terms[0].Coefficient == 1;
            bool IsKey(AffineIndex i) => i.Constant == 0 && i.Terms.Length == keyStride.Count
                                         && i.Terms.All(t => keyStride.TryGetValue(t.Variable, out var s) && s == t.Coefficient);
            void Scan(BoundExpr e)
            {
                switch (e)
                {
                    case BinaryBound { Fn: BinaryFn.FloorDiv, Left: IndexValueExpr iv, Right: ConstExpr k } when k.Value >= 1 && k.Value == Math.Floor(k.Value):
                        var size = (long)k.Value;
                        if (IsQuery(iv.Index) && (row == 0 || row == size)) row = size;
                        else if (IsKey(iv.Index) && (col == 0 || col == size)) col = size;
                        else ok = false;
                        break;
                    case IndexValueExpr: ok = false; break;
                    case UnaryBound u: Scan(u.Operand); break;
                    case BinaryBound b: Scan(b.Left); Scan(b.Right); break;
                    case BlockMaskExpr m: Scan(m.RowBlock); Scan(m.ColBlock); break;
                }
            }
            Scan(atom);
            return ok ? (row, col) : null;
        }
    }
}
