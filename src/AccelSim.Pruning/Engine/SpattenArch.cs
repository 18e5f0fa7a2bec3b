using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Pruning.Engine;

/// <summary>How far a spec value has been checked: against a primary source, a secondary one, or derived by us.</summary>
public enum ProvenanceStatus
{
    /// <summary>Read from the released RTL/model code or the paper's abstract.</summary>
    Verified,
    /// <summary>From a secondary source (a detailed review of the paper), consistent with primary sources.</summary>
    Secondary,
    /// <summary>Computed from other sourced values; the derivation is in the source text.</summary>
    Derived,
    /// <summary>Not checked against any source this project could read; a placeholder.</summary>
    Unverified,
}

/// <summary>One architecture value with its citation.</summary>
public sealed record ArchParameter(string Path, double Value, string Source, ProvenanceStatus Status);

/// <summary>
/// The SpAtten engine (arch/spatten.yaml): datapath widths and parallelism, top-k engine, K/V SRAM, HBM channels and
/// per-operation energies. Every value carries a source and a verification status (<see cref="Provenance"/>).
/// </summary>
public sealed record SpattenArch(
    string Name,
    double ClockGhz,
    int DramChannels,
    int DramBytesPerCyclePerChannel,
    double DramPjPerBit,
    int DatapathBits,
    int QkMultipliers,
    int QkMaxFused,
    int QkFuseAtOrBelowBits,
    int QkLatency,
    int SoftmaxElementsPerCycle,
    int SoftmaxLatency,
    int PvMultipliers,
    int PvLatency,
    int TopKComparators,
    int TopKRoundOverhead,
    int TopKZeroEliminatorLatency,
    int LocalValueTopKEngines,
    int KeyBufferBytes,
    int ValueBufferBytes,
    bool DoubleBuffered,
    double MacPj,
    double SramPjPerByte,
    double SoftmaxPjPerElement,
    double ComparePj,
    double AddPj,
    ImmutableArray<ArchParameter> Provenance)
{
    public double DramBytesPerCycle => (double)DramChannels * DramBytesPerCyclePerChannel;
    public double DramBandwidthGBs => DramBytesPerCycle * ClockGhz;

    /// <summary>Keys compared per cycle by the Q·K array for a query of dimension <paramref name="headDim"/>.</summary>
    public int QkKeysPerCycle(int headDim, int keyBits) =>
        Math.Max(1, QkMultipliers / headDim) * (keyBits <= QkFuseAtOrBelowBits ? QkMaxFused : 1);

    public int PvRowsPerCycle(int headDim) => Math.Max(1, PvMultipliers / headDim);

    /// <summary>K rows of <paramref name="headDim"/> datapath-width elements the K buffer holds for one head.</summary>
    public int KeyRowCapacity(int headDim) =>
        KeyBufferBytes / (headDim * DatapathBits / 8) / (DoubleBuffered ? 2 : 1);

    public static SpattenArch LoadFile(string path) => Parse(YNode.LoadFile(path));

    public const string FormatTag = "accelsim-spatten-arch 1";

    public static SpattenArch Parse(YNode root)
    {
        if (!root.IsMapping) throw root.Error($"an architecture must be a mapping, found a {root.KindName}");
        root.ExpectOnlyKeys("format", "name", "source", "note", "clock_ghz", "dram", "datapath_bits", "qk", "softmax", "pv",
            "topk", "kv_sram", "energy", "reported");
        var format = root.Req("format");
        if (format.Text.Trim() != FormatTag) throw format.Error($"unsupported format '{format.Text}' (expected '{FormatTag}')");
        var provenance = ImmutableArray.CreateBuilder<ArchParameter>();

        double Num(YNode parent, string key, double min, double max)
        {
            var node = parent.Req(key);
            if (!node.IsMapping) throw node.Error("expected a mapping {value, source, status}");
            node.ExpectOnlyKeys("value", "source", "status", "note");
            var valueNode = node.Req("value");
            var value = valueNode.AsDouble();
            if (double.IsNaN(value) || value < min || value > max)
                throw valueNode.Error($"must be between {Invariant.Num(min)} and {Invariant.Num(max)}, found {valueNode.Text}");
            var source = node.Req("source").Text.Trim();
            if (source.Length == 0) throw node.Error("source", "every architecture value needs a source");
            var statusNode = node.Req("status");
            var status = statusNode.Text.Trim().ToLowerInvariant() switch
            {
                "verified" => ProvenanceStatus.Verified,
                "secondary" => ProvenanceStatus.Secondary,
                "derived" => ProvenanceStatus.Derived,
                "unverified" => ProvenanceStatus.Unverified,
                var other => throw statusNode.Error($"unknown status '{other}' (expected verified, secondary, derived or unverified)"),
            };
            provenance.Add(new ArchParameter(node.Path, value, source, status));
            return value;
        }
        int Int(YNode parent, string key, int min, int max)
        {
            var v = Num(parent, key, min, max);
            if (v != Math.Floor(v)) throw parent.Req(key).Req("value").Error($"must be an integer, found {Invariant.Num(v)}");
            return (int)v;
        }
        YNode Section(string key, params string[] keys)
        {
            var s = root.Req(key);
            s.ExpectOnlyKeys([.. keys, "note"]);
            return s;
        }

        var clock = Num(root, "clock_ghz", 1e-3, 100);
        var dram = Section("dram", "channels", "bytes_per_cycle_per_channel", "energy_pj_per_bit");
        var qk = Section("qk", "multipliers", "max_fused_matrices", "fuse_at_or_below_bits", "pipeline_latency_cycles");
        var sm = Section("softmax", "elements_per_cycle", "pipeline_latency_cycles");
        var pv = Section("pv", "multipliers", "pipeline_latency_cycles");
        var tk = Section("topk", "comparators", "round_overhead_cycles", "zero_eliminator_latency_cycles", "local_value_engines");
        var sram = Section("kv_sram", "key_buffer_bytes", "value_buffer_bytes", "double_buffered");
        var en = Section("energy", "mac_pj", "sram_pj_per_byte", "softmax_pj_per_element", "compare_pj", "add_pj");
        if (root.Opt("reported") is { IsNull: false } reported)
            foreach (var (key, _) in reported.Entries)
                if (key != "note") Num(reported, key, 0, double.MaxValue);

        return new SpattenArch(
            root.Req("name").Text.Trim(),
            clock,
            Int(dram, "channels", 1, 4096),
            Int(dram, "bytes_per_cycle_per_channel", 1, 1 << 20),
            Num(dram, "energy_pj_per_bit", 0, 1e6),
            Int(root, "datapath_bits", 1, 64),
            Int(qk, "multipliers", 1, 1 << 24),
            Int(qk, "max_fused_matrices", 1, 64),
            Int(qk, "fuse_at_or_below_bits", 0, 64),
            Int(qk, "pipeline_latency_cycles", 0, 1 << 20),
            Int(sm, "elements_per_cycle", 1, 1 << 20),
            Int(sm, "pipeline_latency_cycles", 0, 1 << 20),
            Int(pv, "multipliers", 1, 1 << 24),
            Int(pv, "pipeline_latency_cycles", 0, 1 << 20),
            Int(tk, "comparators", 1, 1 << 20),
            Int(tk, "round_overhead_cycles", 0, 1 << 20),
            Int(tk, "zero_eliminator_latency_cycles", 0, 1 << 20),
            Int(tk, "local_value_engines", 1, 1 << 20),
            Int(sram, "key_buffer_bytes", 1, int.MaxValue),
            Int(sram, "value_buffer_bytes", 1, int.MaxValue),
            Int(sram, "double_buffered", 0, 1) != 0,
            Num(en, "mac_pj", 0, 1e6),
            Num(en, "sram_pj_per_byte", 0, 1e6),
            Num(en, "softmax_pj_per_element", 0, 1e6),
            Num(en, "compare_pj", 0, 1e6),
            Num(en, "add_pj", 0, 1e6),
            provenance.ToImmutable());
    }
}
