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
/// A rule that turns a model depth into per-layer keep fractions (cumulative: fraction of the original tokens or heads
/// still alive). Both rules follow the SpAtten paper's description: the first <see cref="UnprunedFraction"/> of the
/// layers are not pruned (15% for tokens, 30% for heads in the paper) and the pruned fraction rises with depth.
/// </summary>
public abstract record ScheduleRule(double UnprunedFraction)
{
    /// <summary>Unpruned leading layers of a model with <paramref name="layers"/> layers: ceil(fraction * layers).</summary>
    public int UnprunedLayers(int layers) => Math.Min(layers, (int)Math.Ceiling(UnprunedFraction * layers - 1e-9));

    public abstract ImmutableArray<double> Expand(int layers, SourceLocation? location);
}

/// <summary>
/// A linear ramp of the cumulative pruned fraction: over the M layers after the unpruned ones,
/// r_i = 2 * AveragePruneRatio * i / (M + 1) for i = 1..M (mean AveragePruneRatio, r_start + r_end = 2 * AveragePruneRatio).
/// Its mean keep fraction cannot fall below about UnprunedFraction + (1 - UnprunedFraction) / 2 (tokens would vanish
/// at the last layer), so it cannot express strong pruning such as the paper's GPT-2 settings; see
/// <see cref="CascadeRatioSchedule"/>.
/// </summary>
public sealed record RampSchedule(double UnprunedFraction, double AveragePruneRatio) : ScheduleRule(UnprunedFraction)
{
    public override ImmutableArray<double> Expand(int layers, SourceLocation? location)
    {
        var unpruned = UnprunedLayers(layers);
        var m = layers - unpruned;
        var keep = new double[layers];
        for (var l = 0; l < layers; l++)
        {
            var i = l - unpruned + 1;
            keep[l] = i <= 0 ? 1.0 : 1.0 - 2.0 * AveragePruneRatio * i / (m + 1);
        }
        if (keep.Length > 0 && keep[^1] <= 0)
            throw new InputException(location, "schedule.average_prune_ratio",
                $"ramp reaches a keep fraction of {Invariant.Sig(keep[^1])} at the last layer; it must stay above 0 " +
                $"(average_prune_ratio must be < {Invariant.Sig((m + 1) / (2.0 * Math.Max(m, 1)))} for {layers} layers)");
        return [.. keep];
    }
}

/// <summary>
/// Cascade pruning with one per-layer ratio: after the unpruned layers every layer's top-k keeps
/// k = (1 - p) * N_alive of the items still alive, so the alive fraction at pruned layer i is (1 - p)^i. The ratio p is
/// not given: it is solved (per model depth) so that the mean alive fraction over ALL layers equals
/// <see cref="MeanKeep"/>. MeanKeep is the input a per-technique average fixes (e.g. a 1.21x token reduction gives
/// MeanKeep = 1 / 1.21), which is how the reproduction derives its settings from the paper's per-technique averages.
/// </summary>
public sealed record CascadeRatioSchedule(double UnprunedFraction, double MeanKeep) : ScheduleRule(UnprunedFraction)
{
    /// <summary>The per-layer ratio p for a model with <paramref name="layers"/> layers (bisection; mean keep falls as p grows).</summary>
    public double PerLayerRatio(int layers, SourceLocation? location = null)
    {
        var unpruned = UnprunedLayers(layers);
        var m = layers - unpruned;
        if (MeanKeep >= 1 || m == 0)
        {
            if (MeanKeep < 1)
                throw new InputException(location, "schedule.mean_keep",
                    $"{Invariant.Sig(MeanKeep)} cannot be reached: all {layers} layers are unpruned (unpruned_fraction {Invariant.Sig(UnprunedFraction)})");
            return 0;
        }
        var floor = (double)unpruned / layers;
        if (MeanKeep <= floor)
            throw new InputException(location, "schedule.mean_keep",
                $"{Invariant.Sig(MeanKeep)} cannot be reached with {unpruned} of {layers} layers unpruned (must exceed {Invariant.Sig(floor)})");
        double Mean(double p)
        {
            double sum = unpruned, q = 1;
            for (var i = 1; i <= m; i++) sum += q *= 1 - p;
            return sum / layers;
        }
        double lo = 0, hi = 1;
        for (var it = 0; it < 200 && hi - lo > 1e-15; it++)
        {
            var mid = (lo + hi) / 2;
            if (Mean(mid) > MeanKeep) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    public override ImmutableArray<double> Expand(int layers, SourceLocation? location)
    {
        var p = PerLayerRatio(layers, location);
        var unpruned = UnprunedLayers(layers);
        var keep = new double[layers];
        var alive = 1.0;
        for (var l = 0; l < layers; l++)
        {
            if (l >= unpruned) alive *= 1 - p;
            keep[l] = alive;
        }
        return [.. keep];
    }
}

/// <summary>Per-layer keep fractions (cumulative: fraction of the original tokens or heads still alive at that layer).</summary>
public sealed record KeepSchedule(ImmutableArray<double> Explicit, ScheduleRule? Rule, SourceLocation? Location = null)
{
    public static KeepSchedule Of(params double[] keep) => new([.. keep], null);
    public static KeepSchedule FromRamp(double unprunedFraction, double averagePruneRatio) =>
        new(ImmutableArray<double>.Empty, new RampSchedule(unprunedFraction, averagePruneRatio));
    public static KeepSchedule FromMeanKeep(double unprunedFraction, double meanKeep) =>
        new(ImmutableArray<double>.Empty, new CascadeRatioSchedule(unprunedFraction, meanKeep));

    /// <summary>The keep fraction of every layer of a model with <paramref name="layers"/> layers.</summary>
    public ImmutableArray<double> Expand(int layers)
    {
        if (Rule is { } rule) return rule.Expand(layers, Location);
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
