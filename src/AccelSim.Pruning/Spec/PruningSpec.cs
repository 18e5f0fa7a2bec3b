using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Pruning.Spec;

/// <summary>How pruning decisions are made: from fixed per-layer keep ratios, or from attention-probability traces.</summary>
public enum SelectionMode
{
    /// <summary>Keep counts come from per-layer keep ratios in the workload; data-dependent rates are given numbers.</summary>
    Ratios,
    /// <summary>Which tokens/heads survive, and how often LSBs are re-fetched, are decided from attention probabilities.</summary>
    Trace,
}

/// <summary>
/// A linear pruning ramp, the rule the SpAtten paper describes for its per-task settings: the first
/// <see cref="UnprunedFraction"/> of the layers are not pruned; over the remaining M layers the cumulative pruned
/// fraction rises linearly, r_i = 2 * AveragePruneRatio * i / (M + 1) for i = 1..M, so that its mean is
/// AveragePruneRatio and r_start + r_end = 2 * AveragePruneRatio.
/// </summary>
public sealed record RampSchedule(double UnprunedFraction, double AveragePruneRatio);

/// <summary>Per-layer keep fractions (cumulative: fraction of the original tokens or heads still alive at that layer).</summary>
public sealed record KeepSchedule(ImmutableArray<double> Explicit, RampSchedule? Ramp, SourceLocation? Location = null)
{
    public static KeepSchedule Of(params double[] keep) => new([.. keep], null);
    public static KeepSchedule FromRamp(double unprunedFraction, double averagePruneRatio) =>
        new(ImmutableArray<double>.Empty, new RampSchedule(unprunedFraction, averagePruneRatio));

    /// <summary>The keep fraction of every layer of a model with <paramref name="layers"/> layers.</summary>
    public ImmutableArray<double> Expand(int layers)
    {
        if (Ramp is { } ramp)
        {
            var unpruned = Math.Min(layers, (int)Math.Ceiling(ramp.UnprunedFraction * layers - 1e-9));
            var m = layers - unpruned;
            var keep = new double[layers];
            for (var l = 0; l < layers; l++)
            {
                var i = l - unpruned + 1;
                keep[l] = i <= 0 ? 1.0 : 1.0 - 2.0 * ramp.AveragePruneRatio * i / (m + 1);
            }
            if (keep.Length > 0 && keep[^1] <= 0)
                throw new InputException(Location, "schedule.average_prune_ratio",
                    $"ramp reaches a keep fraction of {Invariant.Sig(keep[^1])} at the last layer; it must stay above 0 " +
                    $"(average_prune_ratio must be < {Invariant.Sig((m + 1) / (2.0 * Math.Max(m, 1)))} for {layers} layers)");
            return [.. keep];
        }
        if (Explicit.Length != layers)
            throw new InputException(Location, "keep", $"has {Explicit.Length} entries but the model has {layers} layers");
        return Explicit;
    }
}

public sealed record TokenPruningSpec(KeepSchedule Keep);

public sealed record HeadPruningSpec(KeepSchedule Keep);

/// <summary>Local value pruning: each query fetches and multiplies only ceil(KeepRatio * alive keys) V rows.</summary>
public sealed record ValuePruningSpec(double KeepRatio);

/// <summary>Storage precision of K and V when quantisation is on.</summary>
public abstract record QuantizationSpec;

/// <summary>Static quantisation: K and V stored and fetched with <see cref="Bits"/> bits.</summary>
public sealed record StaticQuantization(int Bits) : QuantizationSpec;

/// <summary>
/// Progressive quantisation: fetch the MSB planes, compute the attention, and for the rows whose maximum attention
/// probability is below <see cref="Threshold"/> fetch the LSB planes and recompute. In ratio mode the fraction of
/// such rows is <see cref="RefetchFraction"/>; in trace mode it is measured from the probabilities.
/// </summary>
public sealed record ProgressiveQuantization(
    int MsbBits, int LsbBits, double Threshold, double? RefetchFraction, bool RefetchValues) : QuantizationSpec
{
    public int FullBits => MsbBits + LsbBits;
}

/// <summary>Streaming heads: a fraction of the heads attend only to the first sink tokens and a recent window.</summary>
public sealed record StreamingHeadsSpec(double Fraction, int SinkTokens, int RecentTokens);

/// <summary>Block-sparse mask: the (query block, key block) grid is kept with the given density (seeded layout).</summary>
public sealed record BlockSparseSpec(int BlockSize, double Density, int Seed);

/// <summary>Static structure in the attention mask; applies with and without pruning.</summary>
public sealed record StructuredSparsitySpec(bool Causal, int? Window, BlockSparseSpec? Block, StreamingHeadsSpec? StreamingHeads)
{
    public static readonly StructuredSparsitySpec None = new(false, null, null, null);
    public bool IsNone => !Causal && Window is null && Block is null && StreamingHeads is null;
}

/// <summary>The complete pruning and sparsity description of a workload.</summary>
public sealed record PruningSpec(
    string Name,
    SelectionMode Mode,
    string? TracePath,
    int DenseBits,
    TokenPruningSpec? Token,
    HeadPruningSpec? Head,
    ValuePruningSpec? Value,
    QuantizationSpec? Quant,
    StructuredSparsitySpec Sparsity)
{
    /// <summary>A spec with nothing pruned: the dense reference.</summary>
    public static PruningSpec Dense(int denseBits = 32) =>
        new("dense", SelectionMode.Ratios, null, denseBits, null, null, null, null, StructuredSparsitySpec.None);
}
