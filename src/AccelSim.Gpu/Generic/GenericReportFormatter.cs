using System.Text;
using System.Text.Json;
using AccelSim.Core;
using AccelSim.Einsum.Ir;

namespace AccelSim.Gpu.Generic;

/// <summary>Text and JSON renderings of a <see cref="GenericReport"/>, with the field names the other GPU kernels use.</summary>
public static class GenericReportFormatter
{
    public static string ToText(GenericReport r)
    {
        var sb = new StringBuilder();
        string Pct(double u) => (100 * u).ToString("0", Invariant.Culture) + "%";
        sb.Append(Invariant.Culture, $"Generic tiled kernels (--kernel {GenericKernel.Name}) on {r.Gpu}\n");
        sb.Append(Invariant.Culture, $"  workload     {r.Workload} ({r.WorkloadFile}), {r.DType.Name()}, {r.Groups.Length} kernel(s)\n");
        sb.Append(Invariant.Culture, $"  latency      {Invariant.Sig(r.LatencySeconds * 1e3)} ms ({Invariant.Grouped(r.Cycles)} cycles at {Invariant.Sig(r.ClockHz / 1e6)} MHz)\n");
        sb.Append(Invariant.Culture, $"  throughput   {Invariant.Sig(r.Tflops)} TFLOP/s = {r.PercentOfPeak.ToString("0.0", Invariant.Culture)}% of {Invariant.Sig(r.PeakTflops)} TFLOP/s (tensor {Invariant.Sig(r.TensorPeakTflops)} + FP32 FMA)\n");
        sb.Append(Invariant.Culture, $"  flops        {Invariant.Sig(r.Flops)} (2 x required MACs)\n");
        sb.Append("  ops          ").Append(Ops(r.RequiredOps)).Append(" (required, as analyze counts them)\n");
        sb.Append(Invariant.Culture, $"  bottleneck   {r.Bottleneck}\n");
        sb.Append("  traffic      ").Append(string.Join(", ", r.TrafficBytes.Select(kv => $"{kv.Key} {Invariant.Sig(kv.Value / 1e9)} GB"))).Append('\n');
        sb.Append("  busy         ").Append(string.Join(", ", r.Resources.Select(u => $"{u.Resource} {Pct(u.Utilization)}"))).Append('\n');
        sb.Append(Invariant.Culture, $"  energy       {Invariant.Sig(r.EnergyJoules * 1e3)} mJ ({r.EnergyMethod})\n");
        foreach (var g in r.Groups)
        {
            var c = g.Cost;
            var tile = c.Tile.Count == 0 ? "none" : string.Join(" ", c.Tile.Select(kv => $"{kv.Key}={kv.Value}"));
            sb.Append(Invariant.Culture, $"  group {g.Index}      {string.Join(", ", g.Einsums)}: {Invariant.Sig(c.Seconds * 1e3)} ms, {Invariant.Sig(c.Ctas)} CTAs (tile {tile}");
            var loops = c.CarriedRanks.Select(r => r + " (recurrence)").ToList();
            if (c.StreamedRank is { } streamed) loops.Add($"{streamed} in chunks of {c.StreamChunk}");
            if (loops.Count > 0) sb.Append(Invariant.Culture, $"; loop over {string.Join(", ", loops)}");
            sb.Append(Invariant.Culture, $"), {Invariant.Grouped(c.FootprintBytes)} B on chip per CTA, bound by {c.Bottleneck}\n");
            sb.Append("               on chip: ").Append(c.OnChip.Length == 0 ? "-" : string.Join(", ", c.OnChip))
              .Append("; reads ").Append(c.Reads.Length == 0 ? "-" : string.Join(", ", c.Reads))
              .Append("; writes ").Append(c.Writes.Length == 0 ? "-" : string.Join(", ", c.Writes)).Append('\n');
            sb.Append(Invariant.Culture, $"               tensor {Invariant.Sig(c.TensorMacs)} MACs, MUFU {Invariant.Sig(c.MufuOps)}, FP32 {Invariant.Sig(c.Fp32Ops)} ops; busy ")
              .Append(string.Join(", ", c.Resources.Select(u => $"{u.Resource} {Pct(u.Utilization)}"))).Append('\n');
        }
        foreach (var n in r.Notes) sb.Append("  note         ").Append(n).Append('\n');
        return sb.ToString();
    }

    private static string Ops(OpCounts ops) =>
        string.Join(", ", OpCounts.Kinds.Where(k => ops[k] != 0).Select(k => $"{k.ToString().ToLowerInvariant()} {Invariant.Sig(ops[k])}"));

    public static string ToJson(GenericReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("architecture", "gpu");
            w.WriteString("gpu", r.Gpu);
            w.WriteString("kernel", GenericKernel.Name);
            w.WriteString("workload", r.Workload);
            w.WriteString("dtype", r.DType.Name());
            w.WriteNumber("cycles", r.Cycles);
            w.WriteNumber("latency_s", r.LatencySeconds);
            w.WriteNumber("energy_pJ", r.EnergyJoules * 1e12);
            w.WriteString("energy_method", r.EnergyMethod);
            w.WriteNumber("utilization", r.Utilization);
            w.WriteNumber("flops", r.Flops);
            w.WriteNumber("tflops", r.Tflops);
            w.WriteNumber("peak_tflops", r.PeakTflops);
            w.WriteNumber("tensor_peak_tflops", r.TensorPeakTflops);
            w.WriteNumber("percent_of_peak", r.PercentOfPeak);
            w.WriteString("bottleneck", r.Bottleneck);
            WriteOps(w, "required_ops", r.RequiredOps);
            w.WriteStartObject("traffic_bytes");
            foreach (var (level, bytes) in r.TrafficBytes) w.WriteNumber(level, bytes);
            w.WriteEndObject();
            WriteResources(w, r.Resources);
            w.WriteStartArray("groups");
            foreach (var g in r.Groups)
            {
                var c = g.Cost;
                w.WriteStartObject();
                w.WriteString("name", g.Name);
                Strings(w, "einsums", g.Einsums);
                Strings(w, "parallel_ranks", c.ParallelRanks);
                Strings(w, "loop_ranks", c.StreamedRank is null ? c.CarriedRanks : c.CarriedRanks.Add(c.StreamedRank));
                if (c.StreamedRank is not null) w.WriteNumber("stream_chunk", c.StreamChunk!.Value);
                w.WriteStartObject("tile");
                foreach (var (rank, t) in c.Tile) w.WriteNumber(rank, t);
                w.WriteEndObject();
                w.WriteNumber("ctas", c.Ctas);
                w.WriteNumber("footprint_bytes", c.FootprintBytes);
                w.WriteBoolean("fits_on_chip", c.Fits);
                Strings(w, "on_chip", c.OnChip);
                Strings(w, "reads", c.Reads);
                Strings(w, "writes", c.Writes);
                w.WriteNumber("latency_s", c.Seconds);
                w.WriteString("bottleneck", c.Bottleneck);
                w.WriteNumber("tensor_macs", c.TensorMacs);
                w.WriteNumber("executed_tensor_macs", c.ExecutedTensorMacs);
                w.WriteNumber("mufu_ops", c.MufuOps);
                w.WriteNumber("fp32_ops", c.Fp32Ops);
                WriteOps(w, "required_ops", g.RequiredOps);
                w.WriteStartObject("traffic_bytes");
                w.WriteNumber("hbm", c.HbmBytes); w.WriteNumber("l2", c.L2Bytes); w.WriteNumber("smem", c.SmemBytes);
                w.WriteEndObject();
                WriteResources(w, c.Resources);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Strings(w, "notes", r.Notes);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteResources(Utf8JsonWriter w, IEnumerable<ResourceUse> resources)
    {
        var list = resources.ToList();
        w.WriteStartObject("resource_utilization");
        foreach (var u in list) w.WriteNumber(u.Resource, u.Utilization);
        w.WriteEndObject();
        w.WriteStartObject("resource_busy_s");
        foreach (var u in list) w.WriteNumber(u.Resource, u.BusySeconds);
        w.WriteEndObject();
    }

    private static void WriteOps(Utf8JsonWriter w, string name, OpCounts ops)
    {
        w.WriteStartObject(name);
        foreach (var k in OpCounts.Kinds) w.WriteNumber(k.ToString().ToLowerInvariant(), ops[k]);
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
