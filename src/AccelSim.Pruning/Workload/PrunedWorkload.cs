using System.Collections.Immutable;
using AccelSim.Pruning.Spec;

namespace AccelSim.Pruning.Workload;

/// <summary><see cref="Count"/> identical top-k selections of <see cref="K"/> items out of <see cref="N"/>.</summary>
public sealed record TopKCall(int N, int K, long Count);

/// <summary>
/// The pruned attention work of one layer in one pass (the single pass of a summarisation, or one generation step),
/// summed over the alive heads. Row counts are K/V rows of head_dim elements; "pairs" are (query, key) dot products
/// or (query, value-row) products. Fractional LSB-row counts are expectations (ratio mode).
/// Engine-independent: these are the rows an ideal engine must fetch, not what a particular buffer hierarchy fetches.
/// </summary>
public sealed record LayerPass(
    int Step,
    int Layer,
    int ContextTokens,
    int AliveTokens,
    int Queries,
    int AliveHeads,
    long QkPairs,
    double RecomputedQkPairs,
    long KeyRows,
    double KeyLsbRows,
    long ValueRows,
    double ValueLsbRows,
    long PvPairs,
    int MaxKeyRowsPerHead,
    int KeyBits,
    int KeyLsbBits,
    int ValueBits,
    int ValueLsbBits,
    double RefetchFraction,
    long TokenImportanceAdds,
    long HeadImportanceAdds,
    long RefetchCompares,
    ImmutableArray<TopKCall> SerialTopK,
    ImmutableArray<TopKCall> LocalValueTopK,
    ImmutableArray<int> KeptTokens,
    ImmutableArray<int> KeptHeads)
{
    /// <summary>Bits fetched for K and V (MSB planes plus expected LSB re-fetches).</summary>
    public double FetchedBits(int headDim) =>
        headDim * (KeyRows * (double)KeyBits + KeyLsbRows * KeyLsbBits + ValueRows * (double)ValueBits + ValueLsbRows * ValueLsbBits);

    public double QkMacs(int headDim) => (QkPairs + RecomputedQkPairs) * (double)headDim;
    public double PvMacs(int headDim) => PvPairs * (double)headDim;
    public double SoftmaxElements => QkPairs + RecomputedQkPairs;
}

/// <summary>
/// The dense attention shape one pass leaves after pruning: what a dense engine (FuseMax array, GPU kernel) would run
/// for it. <see cref="ValueRowsPerQuery"/> and the bit widths carry local-V pruning and quantisation for engines that
/// can exploit them.
/// </summary>
public sealed record PrunedLayerShape(int Queries, int Keys, int Heads, int HeadDim, int ValueRowsPerQuery, int KeyBits, int ValueBits);

/// <summary>
/// The pruned per-layer workload of one benchmark under one technique set: immutable, engine-independent, and the
/// single input every cost model consumes (the SpAtten engine here; the FuseMax array and GPU models can consume the
/// same record). <see cref="Mode"/> says whether the keep decisions came from ratios or from attention traces.
/// </summary>
public sealed record PrunedWorkload(
    string Benchmark,
    AttentionModel Model,
    TaskShape Task,
    SelectionMode Mode,
    TechniqueSet Techniques,
    int DenseBits,
    ImmutableArray<LayerPass> Passes)
{
    public int HeadDim => Model.HeadDim;

    /// <summary>K/V bytes an ideal engine must fetch (no re-fetch because of buffer capacity).</summary>
    public double CompulsoryDramBytes => Passes.Sum(p => p.FetchedBits(HeadDim)) / 8.0;

    public double QkMacs => Passes.Sum(p => p.QkMacs(HeadDim));
    public double PvMacs => Passes.Sum(p => p.PvMacs(HeadDim));
    public double SoftmaxElements => Passes.Sum(p => p.SoftmaxElements);
    public long KeyRows => Passes.Sum(p => p.KeyRows);
    public long ValueRows => Passes.Sum(p => p.ValueRows);
    public long QkPairs => Passes.Sum(p => p.QkPairs);

    /// <summary>Selection work: importance accumulation adds and re-fetch max-compares (top-k cost is engine-specific).</summary>
    public long SelectionAdds => Passes.Sum(p => p.TokenImportanceAdds + p.HeadImportanceAdds + p.RefetchCompares);

    public IEnumerable<TopKCall> AllTopKCalls => Passes.SelectMany(p => p.SerialTopK.Concat(p.LocalValueTopK));

    /// <summary>
    /// The distinct per-pass shapes with how many passes have each: evaluate a dense cost model once per shape and
    /// weight by the count to price the pruned workload on another engine.
    /// </summary>
    public IReadOnlyList<(PrunedLayerShape Shape, int Passes)> ShapeGroups() =>
        [.. Passes.GroupBy(p => new PrunedLayerShape(p.Queries, p.AliveTokens, p.AliveHeads, HeadDim,
                p.Queries * p.AliveHeads == 0 ? 0 : (int)(p.PvPairs / ((long)p.Queries * p.AliveHeads)), p.KeyBits, p.ValueBits))
            .Select(g => (g.Key, g.Count()))];
}
