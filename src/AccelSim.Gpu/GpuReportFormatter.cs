using System.Text;
using System.Text.Json;
using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>
/// Text and JSON renderings of a <see cref="GpuReport"/>. Field names shared with the spatial model:
/// cycles, latency_s, energy_pJ, utilization, traffic_bytes (per level), bottleneck.
/// </summary>
public static class GpuReportFormatter
{
    public static string ToText(GpuReport r)
    {
        var sb = new StringBuilder();
        sb.Append(Invariant.Culture, $"{r.KernelDisplay} on {r.Gpu}\n");
        sb.Append(Invariant.Culture, $"  shape        {r.Shape}\n");
        if (r.Tile is { } t) sb.Append(Invariant.Culture, $"  tile         Br={t.BlockRows} Bc={t.BlockKeys} warps={t.Warps}\n");
        sb.Append(Invariant.Culture, $"  latency      {Invariant.Sig(r.LatencySeconds * 1e3)} ms ({Invariant.Grouped(r.Cycles)} cycles at {Invariant.Sig(r.ClockHz / 1e6)} MHz)\n");
        sb.Append(Invariant.Culture, $"  work         {Invariant.Sig(r.Flops / 1e9)} GFLOP required (2 x MACs{(r.Shape.Direction == Direction.Forward ? "" : "; bwd = 2.5 x fwd")}), {Invariant.Sig(r.ExecutedFlops / 1e9)} GFLOP executed on the tensor cores\n");
        if (r.CascadeOps is { } ops)
            sb.Append("  cascade ops  ").Append(string.Join(", ", OpKinds(ops).Select(kv => $"{kv.Key} {Invariant.Grouped(kv.Value)}"))).Append(" (forward, as analyze counts them)\n");
        sb.Append(Invariant.Culture, $"  throughput   {Invariant.Sig(r.Tflops)} TFLOP/s = {r.PercentOfPeak.ToString("0.0", Invariant.Culture)}% of {Invariant.Sig(r.PeakTflops)} TFLOP/s dense peak\n");
        sb.Append(Invariant.Culture, $"  bottleneck   {r.Bottleneck}\n");
        sb.Append("  traffic      ").Append(string.Join(", ", r.TrafficBytes.Select(kv => $"{kv.Key} {Invariant.Sig(kv.Value / 1e9)} GB"))).Append('\n');
        sb.Append("  busy         ").Append(string.Join(", ", r.Resources.Select(u => $"{u.Resource} {(100 * u.Utilization).ToString("0", Invariant.Culture)}%"))).Append('\n');
        if (r.Footprint is { } f)
            sb.Append(Invariant.Culture, $"  per CTA      smem {f.SmemBytes / 1024} KiB, {Invariant.Grouped(f.Registers)} registers, TMEM {f.TmemBytes / 1024} KiB, {f.Threads} threads; {f.CtasPerSm} CTA/SM (limit: {f.OccupancyLimit})\n");
        sb.Append(Invariant.Culture, $"  energy       {Invariant.Sig(r.EnergyJoules * 1e3)} mJ ({r.EnergyMethod})\n");
        foreach (var p in r.Phases)
            sb.Append(Invariant.Culture, $"  phase        {p.Name}: {Invariant.Sig(p.Seconds * 1e3)} ms, {Invariant.Grouped(p.Ctas)} CTAs ({Invariant.Sig(p.Waves)} waves), bound by {p.Bottleneck}\n");
        foreach (var n in r.Notes) sb.Append("  note         ").Append(n).Append('\n');
        return sb.ToString();
    }

    private static IEnumerable<KeyValuePair<string, long>> OpKinds(AccelSim.Einsum.Ir.OpCounts ops) =>
        AccelSim.Einsum.Ir.OpCounts.Kinds.Select(k => new KeyValuePair<string, long>(k.ToString().ToLowerInvariant(), ops[k]));

    public static string ToJson(GpuReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("architecture", "gpu");
            w.WriteString("gpu", r.Gpu);
            w.WriteString("kernel", r.Kernel);
            w.WriteStartObject("shape");
            var s = r.Shape;
            w.WriteNumber("batch", s.Batch); w.WriteNumber("heads", s.Heads); w.WriteNumber("kv_heads", s.KvHeads);
            w.WriteNumber("seq_len", s.QueryLen); w.WriteNumber("kv_len", s.KvLen); w.WriteNumber("head_dim", s.HeadDim);
            w.WriteNumber("value_dim", s.ValueDim); w.WriteBoolean("causal", s.Causal);
            if (s.Window is { } win) w.WriteNumber("window", win); else w.WriteNull("window");
            w.WriteString("mask", s.Mask.ToString());
            w.WriteString("dtype", s.DType.Name()); w.WriteString("direction", s.Direction.Name());
            w.WriteEndObject();
            if (r.Workload is not null) w.WriteString("workload", r.Workload);
            w.WriteNumber("cycles", r.Cycles);
            w.WriteNumber("latency_s", r.LatencySeconds);
            w.WriteNumber("energy_pJ", r.EnergyJoules * 1e12);
            w.WriteString("energy_method", r.EnergyMethod);
            w.WriteNumber("utilization", r.Utilization);
            w.WriteNumber("flops", r.Flops);
            w.WriteNumber("executed_flops", r.ExecutedFlops);
            if (r.CascadeOps is { } ops)
            {
                w.WriteStartObject("ops");
                foreach (var (kind, count) in OpKinds(ops)) w.WriteNumber(kind, count);
                w.WriteEndObject();
            }
            w.WriteNumber("tflops", r.Tflops);
            w.WriteNumber("percent_of_peak", r.PercentOfPeak);
            w.WriteString("bottleneck", r.Bottleneck);
            w.WriteStartObject("traffic_bytes");
            foreach (var (level, bytes) in r.TrafficBytes) w.WriteNumber(level, bytes);
            w.WriteEndObject();
            w.WriteStartObject("resource_utilization");
            foreach (var u in r.Resources) w.WriteNumber(u.Resource, u.Utilization);
            w.WriteEndObject();
            if (r.Tile is { } t)
            {
                w.WriteStartObject("tile");
                w.WriteNumber("block_rows", t.BlockRows); w.WriteNumber("block_keys", t.BlockKeys); w.WriteNumber("warps", t.Warps);
                w.WriteEndObject();
            }
            if (r.Footprint is { } f)
            {
                w.WriteStartObject("cta_footprint");
                w.WriteNumber("smem_bytes", f.SmemBytes); w.WriteNumber("registers", f.Registers);
                w.WriteNumber("tmem_bytes", f.TmemBytes); w.WriteNumber("threads", f.Threads);
                w.WriteNumber("ctas_per_sm", f.CtasPerSm); w.WriteString("occupancy_limit", f.OccupancyLimit);
                w.WriteEndObject();
            }
            w.WriteStartArray("phases");
            foreach (var p in r.Phases)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name); w.WriteNumber("latency_s", p.Seconds); w.WriteNumber("ctas", p.Ctas);
                w.WriteNumber("waves", p.Waves); w.WriteString("bottleneck", p.Bottleneck);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("notes");
            foreach (var n in r.Notes) w.WriteStringValue(n);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
