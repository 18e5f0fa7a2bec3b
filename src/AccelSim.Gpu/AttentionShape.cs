using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>
/// One attention layer call. Heads are query heads; <see cref="KvHeads"/> &lt; Heads is GQA (1 = MQA).
/// Causal masks are bottom-right aligned when QueryLen &lt; KvLen (decode/prefill continuation), as in FlashAttention 2.1+.
/// <see cref="Window"/> is a sliding-window width in keys (null = unlimited).
/// </summary>
public sealed record AttentionShape(
    int Batch, int Heads, int KvHeads, long QueryLen, long KvLen, int HeadDim, int ValueDim,
    bool Causal, long? Window, DataType DType, Direction Direction)
{
    public AttentionShape Validate()
    {
        void Require(bool ok, string field, string problem)
        {
            if (!ok) throw new InputException(null, field, problem);
        }
        Require(Batch > 0, "batch", "must be positive");
        Require(Heads > 0, "heads", "must be positive");
        Require(KvHeads > 0 && KvHeads <= Heads, "kv_heads", "must be in [1, heads]");
        Require(Heads % KvHeads == 0, "kv_heads", $"heads ({Heads}) must be a multiple of kv_heads ({KvHeads})");
        Require(QueryLen > 0, "seq_len", "must be positive");
        Require(KvLen > 0, "kv_len", "must be positive");
        Require(HeadDim is > 0 and <= 1024, "head_dim", "must be in [1, 1024]");
        Require(ValueDim is > 0 and <= 1024, "value_dim", "must be in [1, 1024]");
        Require(Window is null or > 0, "window", "must be positive");
        return this;
    }

    public int GroupSize => Heads / KvHeads;

    /// <summary>
    /// The scored (query, key) pairs when they come from a cascade (band and block masks read from its score Einsum);
    /// null: the pairs <see cref="Causal"/> and <see cref="Window"/> describe.
    /// </summary>
    public ScoreMask? ExplicitMask { get; init; }

    /// <summary>The scored (query, key) pairs of one head, in the IR's definition (see <see cref="ScoreMask"/>).</summary>
    public ScoreMask Mask => ExplicitMask ?? ScoreMask.Of(QueryLen, KvLen, Causal, Window);

    /// <summary>Unmasked (query, key) pairs for one head: the score elements the FLOP count is based on.</summary>
    public double ScoreElementsPerHead() => Mask.Total();

    /// <summary>
    /// FLOPs credited to the call, following the FlashAttention papers: 2·(d + dv) per unmasked score element
    /// (QKᵀ and PV), causal counting only unmasked elements, backward = 2.5 × forward.
    /// </summary>
    public double Flops() => ForwardFlops() * Direction.FlopMultiplier();

    public double ForwardFlops() => 2.0 * (HeadDim + ValueDim) * ScoreElementsPerHead() * Batch * Heads;

    public override string ToString() =>
        $"b={Batch} h={Heads} kvh={KvHeads} q={QueryLen} kv={KvLen} d={HeadDim} dv={ValueDim} " +
        $"causal={(Causal ? "yes" : "no")}{(Window is { } w ? $" window={w}" : "")}" +
        $"{(ExplicitMask is { IsDense: false } m ? $" mask: {m}" : "")} {DType.Name()} {Direction.Name()}";

    private static readonly string[] KnownKeys =
    [
        "batch", "heads", "kv_heads", "seq_len", "query_len", "kv_len", "head_dim", "value_dim", "causal",
        "window", "dtype", "direction",
    ];

    /// <summary>
    /// Builds a shape from named parameters (batch, heads, kv_heads, seq_len|query_len, kv_len, head_dim, value_dim,
    /// causal, window, dtype, direction). Values may be strings or numbers. Missing: kv_heads = heads,
    /// kv_len = seq_len, value_dim = head_dim, causal = false, dtype = bf16, direction = fwd.
    /// </summary>
    public static AttentionShape FromParameters(IReadOnlyDictionary<string, object?> p)
    {
        foreach (var key in p.Keys)
            if (!KnownKeys.Contains(key))
                throw new InputException(null, key, $"unknown attention parameter (expected one of: {string.Join(", ", KnownKeys)})");

        string? Str(string key) => p.TryGetValue(key, out var v) && v is not null ? Convert.ToString(v, Invariant.Culture) : null;
        long Long(string key, long? dflt)
        {
            var s = Str(key);
            if (s is null) return dflt ?? throw new InputException(null, key, "required attention parameter is missing");
            if (Invariant.TryParseLong(s, out var v)) return v;
            if (Invariant.TryParseDouble(s, out var d) && d == Math.Floor(d)) return (long)d;
            throw new InputException(null, key, $"expected an integer, found '{s}'");
        }
        bool Bool(string key, bool dflt)
        {
            var s = Str(key);
            if (s is null) return dflt;
            return s.Trim().ToLowerInvariant() switch
            {
                "true" or "yes" or "1" => true,
                "false" or "no" or "0" => false,
                _ => throw new InputException(null, key, $"expected true or false, found '{s}'"),
            };
        }
        int Int(string key, long? dflt)
        {
            var v = Long(key, dflt);
            if (v is < int.MinValue or > int.MaxValue) throw new InputException(null, key, "out of range");
            return (int)v;
        }

        var heads = Int("heads", null);
        var seq = Str("query_len") is not null ? Long("query_len", null) : Long("seq_len", null);
        var headDim = Int("head_dim", null);
        var dtypeText = Str("dtype") ?? "bf16";
        if (!DataTypes.TryParse(dtypeText, out var dtype)) throw new InputException(null, "dtype", $"unknown dtype '{dtypeText}'");
        var dirText = Str("direction") ?? "fwd";
        if (!Directions.TryParse(dirText, out var dir)) throw new InputException(null, "direction", $"unknown direction '{dirText}'");
        return new AttentionShape(
            Batch: Int("batch", 1),
            Heads: heads,
            KvHeads: Int("kv_heads", heads),
            QueryLen: seq,
            KvLen: Long("kv_len", seq),
            HeadDim: headDim,
            ValueDim: Int("value_dim", headDim),
            Causal: Bool("causal", false),
            Window: Str("window") is null ? null : Long("window", null),
            DType: dtype,
            Direction: dir).Validate();
    }
}
