using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Pruning.Spec;

/// <summary>
/// Parses a pruning and sparsity spec from YAML. Every problem is a one-line <see cref="InputException"/> naming the
/// file, line, column and field. The format is documented in workloads/spatten/README.md.
/// </summary>
public static class PruningSpecParser
{
    public static PruningSpec ParseFile(string path) => Parse(YNode.LoadFile(path), Path.GetFileNameWithoutExtension(path));

    public static PruningSpec Parse(YNode node, string name)
    {
        if (!node.IsMapping) throw node.Error($"a pruning spec must be a mapping, found a {node.KindName}");
        node.ExpectOnlyKeys("mode", "trace", "dense_bits", "token", "head", "value", "quant", "sparsity", "source", "note");

        var mode = node.Opt("mode") is { } m ? ParseMode(m) : SelectionMode.Ratios;
        var trace = node.OptString("trace");
        if (mode == SelectionMode.Trace && string.IsNullOrWhiteSpace(trace))
            throw node.Error("trace", "mode 'trace' needs a trace file (trace: path/to/file.trace)");
        if (mode == SelectionMode.Ratios && trace is not null)
            throw node.Error("trace", "a trace file is only used with mode: trace");
        if (trace is not null && !Path.IsPathRooted(trace))
            trace = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(node.File)) ?? ".", trace));

        var denseBits = node.Opt("dense_bits") is { } db ? Bits(db) : 32;
        var token = node.Opt("token") is { IsNull: false } t ? new TokenPruningSpec(ParseKeep(t)) : null;
        var head = node.Opt("head") is { IsNull: false } h ? new HeadPruningSpec(ParseKeep(h)) : null;
        var value = node.Opt("value") is { IsNull: false } v ? ParseValue(v) : null;
        var quant = node.Opt("quant") is { IsNull: false } q ? ParseQuant(q, mode, denseBits) : null;
        var sparsity = node.Opt("sparsity") is { IsNull: false } s ? ParseSparsity(s) : StructuredSparsitySpec.None;
        return new PruningSpec(name, mode, trace, denseBits, token, head, value, quant, sparsity);
    }

    private static SelectionMode ParseMode(YNode node) => node.Text.Trim().ToLowerInvariant() switch
    {
        "ratios" or "ratio" => SelectionMode.Ratios,
        "trace" => SelectionMode.Trace,
        var other => throw node.Error($"unknown mode '{other}' (expected ratios or trace)"),
    };

    private static int Bits(YNode node)
    {
        var bits = node.AsInt();
        if (bits is < 1 or > 64) throw node.Error($"bit width must be between 1 and 64, found {bits}");
        return bits;
    }

    private static double Fraction(YNode node, bool allowZero = false)
    {
        var f = node.AsDouble();
        if (double.IsNaN(f) || f > 1 || f < 0 || (!allowZero && f == 0))
            throw node.Error($"must be a fraction in {(allowZero ? "[0, 1]" : "(0, 1]")}, found {node.Text}");
        return f;
    }

    private static KeepSchedule ParseKeep(YNode node)
    {
        if (!node.IsMapping) throw node.Error($"expected a mapping with 'keep' or 'schedule', found a {node.KindName}");
        node.ExpectOnlyKeys("keep", "schedule", "source", "note");
        var keep = node.Opt("keep");
        var schedule = node.Opt("schedule");
        if ((keep is null) == (schedule is null))
            throw node.Error("give exactly one of 'keep' (a list of per-layer keep fractions) or 'schedule'");
        if (keep is not null)
        {
            var values = keep.Items.Select(i => Fraction(i)).ToImmutableArray();
            if (values.Length == 0) throw keep.Error("needs at least one layer");
            for (var i = 1; i < values.Length; i++)
                if (values[i] > values[i - 1] + 1e-12)
                    throw keep.Items[i].Error(
                        $"cascade pruning cannot bring back pruned items: keep fraction {Invariant.Num(values[i])} " +
                        $"exceeds the previous layer's {Invariant.Num(values[i - 1])}");
            return new KeepSchedule(values, null, keep.Location);
        }
        schedule!.ExpectOnlyKeys("unpruned_fraction", "average_prune_ratio", "mean_keep", "source", "note");
        var unpruned = Fraction(schedule.Req("unpruned_fraction"), allowZero: true);
        var avgNode = schedule.Opt("average_prune_ratio");
        var meanNode = schedule.Opt("mean_keep");
        if ((avgNode is null) == (meanNode is null))
            throw schedule.Error("give exactly one of 'average_prune_ratio' (linear ramp) or 'mean_keep' (cascade with one per-layer ratio)");
        if (meanNode is not null)
            return new KeepSchedule(ImmutableArray<double>.Empty, new CascadeRatioSchedule(unpruned, Fraction(meanNode)), schedule.Location);
        var avg = avgNode!.AsDouble();
        if (avg is < 0 or >= 1 || double.IsNaN(avg))
            throw avgNode.Error($"must be in [0, 1), found {avgNode.Text}");
        return new KeepSchedule(ImmutableArray<double>.Empty, new RampSchedule(unpruned, avg), schedule.Location);
    }

    private static ValuePruningSpec ParseValue(YNode node)
    {
        node.ExpectOnlyKeys("keep_ratio", "source", "note");
        return new ValuePruningSpec(Fraction(node.Req("keep_ratio")));
    }

    private static QuantizationSpec ParseQuant(YNode node, SelectionMode mode, int denseBits)
    {
        node.ExpectOnlyKeys("kind", "bits", "msb_bits", "lsb_bits", "threshold", "refetch_fraction", "refetch_values", "source", "note");
        var kindNode = node.Req("kind");
        switch (kindNode.Text.Trim().ToLowerInvariant())
        {
            case "static":
                foreach (var k in new[] { "msb_bits", "lsb_bits", "threshold", "refetch_fraction", "refetch_values" })
                    if (node.Has(k)) throw node.Error(k, "only used with kind: progressive");
                var bitsNode = node.Req("bits");
                var bits = Bits(bitsNode);
                if (bits > denseBits) throw bitsNode.Error($"quantised width {bits} exceeds dense_bits {denseBits}");
                return new StaticQuantization(bits);
            case "progressive":
                if (node.Has("bits")) throw node.Error("bits", "use msb_bits and lsb_bits with kind: progressive");
                var msb = Bits(node.Req("msb_bits"));
                var lsbNode = node.Req("lsb_bits");
                var lsb = Bits(lsbNode);
                if (msb + lsb > denseBits) throw lsbNode.Error($"msb_bits + lsb_bits = {msb + lsb} exceeds dense_bits {denseBits}");
                var threshold = Fraction(node.Req("threshold"));
                double? refetch = node.Opt("refetch_fraction") is { IsNull: false } rf ? Fraction(rf, allowZero: true) : null;
                if (mode == SelectionMode.Ratios && refetch is null)
                    throw node.Error("refetch_fraction", "required in ratio mode (the fraction of rows whose max probability is under the threshold)");
                if (mode == SelectionMode.Trace && refetch is not null)
                    throw node.Error("refetch_fraction", "in trace mode the re-fetch fraction is measured from the trace; remove it");
                var refetchValues = node.OptBool("refetch_values") ?? false;
                return new ProgressiveQuantization(msb, lsb, threshold, refetch, refetchValues);
            default:
                throw kindNode.Error($"unknown quantisation kind '{kindNode.Text}' (expected static or progressive)");
        }
    }

    /// <summary>The `sparsity:` grammar (causal, window, block, streaming_heads), also usable as a top-level section.</summary>
    public static StructuredSparsitySpec ParseSparsity(YNode node)
    {
        node.ExpectOnlyKeys("causal", "window", "block", "streaming_heads", "source", "note");
        var causal = node.OptBool("causal") ?? false;
        int? window = null;
        if (node.Opt("window") is { IsNull: false } w)
        {
            window = w.AsInt();
            if (window < 1) throw w.Error($"window must be at least 1 token, found {window}");
        }
        BlockSparseSpec? block = null;
        if (node.Opt("block") is { IsNull: false } b)
        {
            b.ExpectOnlyKeys("size", "density", "seed");
            var sizeNode = b.Req("size");
            var size = sizeNode.AsInt();
            if (size < 1) throw sizeNode.Error($"block size must be at least 1, found {size}");
            block = new BlockSparseSpec(size, Fraction(b.Req("density")), b.Opt("seed")?.AsInt() ?? 1);
        }
        StreamingHeadsSpec? streaming = null;
        if (node.Opt("streaming_heads") is { IsNull: false } sh)
        {
            sh.ExpectOnlyKeys("fraction", "sink_tokens", "recent_tokens");
            var sinkNode = sh.Req("sink_tokens");
            var recentNode = sh.Req("recent_tokens");
            var sink = sinkNode.AsInt();
            var recent = recentNode.AsInt();
            if (sink < 0) throw sinkNode.Error($"must be >= 0, found {sink}");
            if (recent < 1) throw recentNode.Error($"must be >= 1, found {recent}");
            streaming = new StreamingHeadsSpec(Fraction(sh.Req("fraction"), allowZero: true), sink, recent);
        }
        return new StructuredSparsitySpec(causal, window, block, streaming);
    }
}
