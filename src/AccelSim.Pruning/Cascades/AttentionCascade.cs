using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Traces;

namespace AccelSim.Pruning.Cascades;

/// <summary>
/// An Einsum attention cascade (a workload YAML with an `attention:` section) seen by the pruning engines: token and
/// head keep sets act on its query (P), key (M) and head (H) ranks. A pruned cascade is the same cascade bound with
/// those ranks shrunk to the kept counts and fed the kept rows of Q, K and V; the "dense restricted" reference is the
/// full cascade with the pruned keys masked out by an added `where:` filter. Both run on the Einsum interpreter.
/// </summary>
public sealed class AttentionCascade
{
    private AttentionCascade(string path, WorkloadSpec spec, Cascade defaults, IReadOnlyDictionary<string, string> overrides)
    {
        Path = path;
        Spec = spec;
        Defaults = defaults;
        BaseOverrides = overrides;
        Info = defaults.Attention ?? throw new InputException(SourceLocation.FileOnly(path), "attention",
            "the workload has no 'attention:' section naming its query/key/value tensors and ranks; pruning needs it");
        QueryParam = SizeParam(Info.QueryRank);
        KeyParam = SizeParam(Info.KeyRank);
        HeadParam = Info.HeadRank is { } h ? SizeParam(h) : null;
        BatchParam = Info.BatchRank is { } b ? SizeParam(b) : null;
        HeadDimParam = SizeParam(Info.HeadDimRank);
        ValueDimParam = SizeParam(Info.ValueDimRank);
    }

    public string Path { get; }
    public WorkloadSpec Spec { get; }
    public Cascade Defaults { get; }
    public AttentionInfo Info { get; }
    public IReadOnlyDictionary<string, string> BaseOverrides { get; }
    public string QueryParam { get; }
    public string KeyParam { get; }
    public string? HeadParam { get; }
    public string? BatchParam { get; }
    public string HeadDimParam { get; }
    public string ValueDimParam { get; }

    public static AttentionCascade Load(string path, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var spec = WorkloadLoader.LoadSpec(path);
        overrides ??= ImmutableDictionary<string, string>.Empty;
        return new AttentionCascade(path, spec, WorkloadLoader.Bind(spec, overrides), overrides);
    }

    /// <summary>The workload's own `pruning:` section (and a top-level `sparsity:` section), if it has them.</summary>
    public PruningSpec? PruningFromWorkload()
    {
        if (!Spec.Extensions.TryGetValue("pruning", out var node)) return null;
        var pruning = PruningSpecParser.Parse(node, Spec.Name);
        if (Spec.Extensions.TryGetValue("sparsity", out var sparsity))
            pruning = pruning with { Sparsity = PruningSpecParser.ParseSparsity(sparsity) };
        return pruning;
    }

    /// <summary>Extent of a rank in the default binding.</summary>
    public long Extent(string rank) => Defaults.Rank(rank).Size;

    /// <summary>
    /// The attention model shape of this cascade: heads from the head rank, head_dim from the head-dim rank, one layer
    /// unless <paramref name="layers"/> says otherwise (a cascade is one attention layer).
    /// </summary>
    public AttentionModel Model(int layers = 1) => new(Spec.Name, layers,
        Info.HeadRank is { } h ? checked((int)Extent(h)) : 1, checked((int)Extent(Info.HeadDimRank)));

    /// <summary>Summarisation when every key is also a query; generation (one step) for a single-query decode cascade.</summary>
    public TaskShape Task()
    {
        var p = checked((int)Extent(Info.QueryRank));
        var m = checked((int)Extent(Info.KeyRank));
        if (p == m) return new SummarizationTask(p);
        if (p == 1) return new GenerationTask(m - 1, 1);
        throw new InputException(SourceLocation.FileOnly(Path), "attention",
            $"query length {p} and key length {m} differ: pruning supports self-attention (equal) or single-query decode");
    }

    private string SizeParam(string rank)
    {
        var r = Spec.Ranks.FirstOrDefault(x => x.Name == rank)
                ?? throw new InputException(SourceLocation.FileOnly(Path), "attention.ranks", $"rank '{rank}' is not declared");
        var text = r.SizeText.Trim();
        if (!Spec.Params.Any(p => p.Name == text))
            throw new InputException(r.Node.Location, r.Node.Path,
                $"rank {rank} is sized by '{text}', not by a parameter; pruning shrinks ranks through their size parameter");
        return text;
    }

    private Dictionary<string, string> Sizes(int queries, int keys, int heads, int? headDim)
    {
        var o = new Dictionary<string, string>(BaseOverrides, StringComparer.Ordinal)
        {
            [QueryParam] = Invariant.Num(queries),
            [KeyParam] = Invariant.Num(keys),
        };
        if (headDim is { } d)
        {
            o[HeadDimParam] = Invariant.Num(d);
            o[ValueDimParam] = Invariant.Num(d);
        }
        if (HeadParam is not null) o[HeadParam] = Invariant.Num(heads);
        else if (heads != 1) throw new InvalidOperationException("the cascade has no head rank");
        if (BatchParam is not null) o[BatchParam] = "1";
        return o;
    }

    /// <summary>The cascade with the query, key and head ranks shrunk to the kept counts.</summary>
    public Cascade Pruned(int queries, int keys, int heads, int? headDim = null) =>
        WorkloadLoader.Bind(Spec, Sizes(queries, keys, heads, headDim));

    /// <summary>
    /// The full-size cascade with the keys in <paramref name="excludedKeys"/> masked out of every Einsum that reads the
    /// key tensor (an added `where:` conjunct): dense attention restricted to the kept keys.
    /// </summary>
    public Cascade DenseExcludingKeys(int queries, int keys, int heads, IReadOnlyCollection<int> excludedKeys, int? headDim = null)
    {
        var spec = Spec;
        if (excludedKeys.Count > 0)
        {
            var keyVar = Info.KeyRank.ToLowerInvariant();
            var mask = "not (" + string.Join(" or ", excludedKeys.Order().Select(k => $"{keyVar} == {Invariant.Num(k)}")) + ")";
            var keyRead = Info.Key + "[";
            spec = spec with
            {
                Einsums = [.. spec.Einsums.Select(e => e.Text.Contains(keyRead, StringComparison.Ordinal)
                    ? e with { Where = e.Where is null ? mask : $"({e.Where}) and {mask}", WhereNode = e.WhereNode ?? e.TextNode }
                    : e)],
            };
        }
        return WorkloadLoader.Bind(spec, Sizes(queries, keys, heads, headDim));
    }

    /// <summary>
    /// Q, K and V of <paramref name="cascade"/> gathered from per-head token matrices: query row i is token
    /// <paramref name="queries"/>[i], key row j is token <paramref name="keys"/>[j], head h is model head <paramref name="heads"/>[h].
    /// </summary>
    public ImmutableDictionary<string, DenseTensor> Inputs(Cascade cascade, Func<int, HeadInputs> headInputs,
        IReadOnlyList<int> queries, IReadOnlyList<int> keys, IReadOnlyList<int> heads)
    {
        var perHead = heads.Select(headInputs).ToArray();
        DenseTensor Gather(string tensor, Func<HeadInputs, Matrix> pick, IReadOnlyList<int> rows, string rowRank)
        {
            var def = cascade.Tensor(tensor);
            var t = new DenseTensor(def.Name, def.Extents);
            var index = new long[def.Extents.Length];
            for (long o = 0; o < t.Length; o++)
            {
                var ix = t.IndexOf(o);
                int h = 0, row = 0, col = 0;
                for (var d = 0; d < ix.Length; d++)
                {
                    var rank = def.Ranks[d];
                    if (rank == Info.HeadRank) h = (int)ix[d];
                    else if (rank == rowRank) row = (int)ix[d];
                    else if (rank == Info.HeadDimRank || rank == Info.ValueDimRank) col = (int)ix[d];
                }
                Array.Copy(ix, index, ix.Length);
                t[index] = pick(perHead[h])[rows[row], col];
            }
            return t;
        }
        return new Dictionary<string, DenseTensor>
        {
            [Info.Query] = Gather(Info.Query, x => x.Q, queries, Info.QueryRank),
            [Info.Key] = Gather(Info.Key, x => x.K, keys, Info.KeyRank),
            [Info.Value] = Gather(Info.Value, x => x.V, keys, Info.KeyRank),
        }.ToImmutableDictionary(StringComparer.Ordinal);
    }

    /// <summary>Reads a (head, query, dim) or (head, key, query) tensor of a run as [head][query, other].</summary>
    public static double Read(Cascade cascade, InterpreterResult result, string tensor, AttentionInfo info, int head, int query, int other, string otherRank)
    {
        var def = cascade.Tensor(tensor);
        var index = new long[def.Ranks.Length];
        for (var d = 0; d < index.Length; d++)
        {
            var rank = def.Ranks[d];
            index[d] = rank == info.HeadRank ? head : rank == info.QueryRank ? query : rank == otherRank ? other : 0;
        }
        var t = result[tensor];
        return t.IsPresent(index) ? t[index] : 0.0;
    }
}

/// <summary>
/// <see cref="IAttentionEvaluator"/> backed by the Einsum interpreter: runs an attention cascade with an explicit
/// probability tensor (attention-3pass.yaml's A) for one head, sized to the requested queries and keys.
/// </summary>
public sealed class InterpreterAttention(AttentionCascade cascade, string probabilityTensor = "A") : IAttentionEvaluator
{
    public AttentionCascade Cascade { get; } = cascade;

    public AttentionResult Evaluate(Matrix q, Matrix k, Matrix v, IReadOnlyList<int> queries, IReadOnlyList<int> keys,
        Func<int, int, bool>? allowed = null)
    {
        if (allowed is not null)
            throw new NotSupportedException("the interpreter evaluator applies structured masks through the cascade's own parameters");
        var bound = Cascade.Pruned(queries.Count, keys.Count, 1, q.Cols);
        var inputs = Cascade.Inputs(bound, _ => new HeadInputs(q, k, v), queries, keys, [0]);
        var run = Interpreter.Run(bound, inputs);
        var info = Cascade.Info;
        var probs = new Matrix(queries.Count, keys.Count);
        var output = new Matrix(queries.Count, v.Cols);
        for (var qi = 0; qi < queries.Count; qi++)
        {
            for (var kj = 0; kj < keys.Count; kj++)
                probs[qi, kj] = AttentionCascade.Read(bound, run, probabilityTensor, info, 0, qi, kj, info.KeyRank);
            for (var d = 0; d < v.Cols; d++)
                output[qi, d] = AttentionCascade.Read(bound, run, info.Output, info, 0, qi, d, info.ValueDimRank);
        }
        return new AttentionResult(probs, output);
    }
}
