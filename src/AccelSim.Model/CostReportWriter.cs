using System.Text;
using System.Text.Json;
using AccelSim.Core;

namespace AccelSim.Model;

/// <summary>Text and JSON renderings of a <see cref="CostReport"/> (culture-invariant).</summary>
public static class CostReportWriter
{
    public static string Text(CostReport r, IEnumerable<string>? notes = null)
    {
        var sb = new StringBuilder();
        foreach (var n in notes ?? Array.Empty<string>()) sb.AppendLine("note: " + n);
        sb.AppendLine($"Architecture  {r.Architecture}, compute {r.Compute} ({Invariant.Grouped(r.ComputeInstances)} units), {Invariant.Sig(r.ClockHz / 1e6)} MHz");
        sb.AppendLine(r.Masked
            ? $"Problem       {r.Problem}: {Invariant.Grouped((long)r.Operations)} points computed, {Invariant.Grouped(r.RequiredPoints)} required by the mask " +
              $"({Invariant.Sig(100.0 * r.RequiredPoints / Math.Max(1, r.DensePoints), 3)}% of {Invariant.Grouped(r.DensePoints)}; masked tiles skipped)"
            : $"Problem       {r.Problem}: {Invariant.Sig(r.Operations)} points");
        sb.AppendLine($"Cycles        {Invariant.Grouped(r.CyclesCeiling)}  ({Invariant.Sig(r.Seconds * 1e3)} ms; compute {Invariant.Grouped((long)Math.Ceiling(r.ComputeCycles))})");
        var bound = r.Levels.Where(l => l.BandwidthCycles >= r.Cycles - 1e-9 && l.BandwidthCycles > r.ComputeCycles).Select(l => l.Name).ToList();
        if (bound.Count > 0) sb.AppendLine($"Bound by      bandwidth of {string.Join(", ", bound)}");
        sb.AppendLine($"Utilization   {Invariant.Sig(r.Utilization)}  (spatial {Invariant.Sig(r.SpatialUtilization)}: {Invariant.Grouped(r.BusyComputeUnits)} of {Invariant.Grouped(r.ComputeInstances)} units busy)");
        sb.AppendLine(r.EnergyPJ is { } pj
            ? $"Energy        {Invariant.Sig(pj)} pJ  ({Invariant.Sig(pj / Math.Max(1, r.Operations))} pJ/point)"
            : "Energy        n/a (no energy table)");
        sb.AppendLine($"Off-chip      {Invariant.Sig(r.OffChipBytes)} bytes");
        sb.AppendLine();
        sb.AppendLine("Per level (counts per instance)");
        var rows = new List<string[]> { new[] { "level", "tensor", "tile/capacity", "reads", "fills", "updates", "multicast", "energy pJ" } };
        foreach (var l in r.Levels)
        {
            rows.Add(new[] { l.Name, "", $"{Invariant.Grouped(l.CapacityUsed)}/{(l.CapacityWords is { } c ? Invariant.Grouped(c) : "-")}",
                "", "", "", $"x{l.UtilizedInstances}/{l.Instances}", Pj(r, l.EnergyPJ) });
            foreach (var t in l.Tensors.Where(t => t.Kept))
                rows.Add(new[] { "", t.Tensor, Invariant.Grouped(t.TileWords), Invariant.Grouped(t.Reads), Invariant.Grouped(t.Fills),
                    Invariant.Grouped(t.Updates), t.Multicast > 0 ? Invariant.Sig(t.Multicast) : "", Pj(r, t.EnergyPJ) });
        }
        AppendTable(sb, rows);
        sb.AppendLine();
        if (r.EnergyPJ is { } total)
        {
            sb.AppendLine("Energy breakdown (pJ)");
            var erows = new List<string[]> { new[] { "component", "action", "pJ", "share" } };
            foreach (var e in r.Energy.Where(e => e.PicoJoules > 0))
                erows.Add(new[] { e.Component, e.Action, Invariant.Sig(e.PicoJoules), Invariant.Sig(100 * e.PicoJoules / total, 3) + "%" });
            AppendTable(sb, erows);
        }
        else sb.AppendLine("Energy breakdown  n/a (no energy table)");
        sb.AppendLine();
        sb.AppendLine("Loop nest");
        foreach (var line in r.LoopNest.Split('\n', StringSplitOptions.RemoveEmptyEntries)) sb.Append("  ").AppendLine(line);
        return sb.ToString();
    }

    private static string Pj(CostReport r, double pj) => r.EnergyKnown ? Invariant.Sig(pj) : "n/a";

    private static void WriteEnergy(Utf8JsonWriter w, string name, CostReport r, double? pj)
    {
        if (r.EnergyKnown && pj is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static void AppendTable(StringBuilder sb, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            sb.Append("  ");
            for (int c = 0; c < row.Length; c++)
            {
                var cell = c < 2 ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]);
                sb.Append(cell).Append(c + 1 < row.Length ? "  " : "");
            }
            sb.AppendLine();
        }
    }

    public static string Json(CostReport r, IEnumerable<string>? notes = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("architecture", r.Architecture);
            w.WriteString("compute", r.Compute);
            w.WriteString("problem", r.Problem);
            w.WriteNumber("cycles", r.CyclesCeiling);
            w.WriteNumber("compute_cycles", r.ComputeCycles);
            w.WriteNumber("seconds", r.Seconds);
            WriteEnergy(w, "energy_pJ", r, r.EnergyPJ);
            w.WriteNumber("utilization", r.Utilization);
            w.WriteNumber("spatial_utilization", r.SpatialUtilization);
            w.WriteNumber("operations", r.Operations);
            w.WriteNumber("points_computed", r.Operations);
            w.WriteNumber("points_required", r.RequiredPoints);
            w.WriteNumber("points_dense", r.DensePoints);
            w.WriteNumber("offchip_bytes", r.OffChipBytes);
            w.WriteStartArray("levels");
            foreach (var l in r.Levels)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("class", l.Class);
                if (l.CapacityWords is { } c) w.WriteNumber("capacity_words", c); else w.WriteNull("capacity_words");
                w.WriteNumber("capacity_used", l.CapacityUsed);
                w.WriteNumber("instances", l.Instances);
                w.WriteNumber("utilized_instances", l.UtilizedInstances);
                w.WriteNumber("bandwidth_cycles", l.BandwidthCycles);
                WriteEnergy(w, "energy_pJ", r, l.EnergyPJ);
                w.WriteStartArray("tensors");
                foreach (var t in l.Tensors.Where(t => t.Kept))
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Tensor);
                    w.WriteNumber("reads", t.Reads);
                    w.WriteNumber("fills", t.Fills);
                    w.WriteNumber("updates", t.Updates);
                    w.WriteNumber("capacity_used", t.TileWords);
                    w.WriteNumber("partition", t.PartitionWords);
                    w.WriteNumber("multicast", t.Multicast);
                    WriteEnergy(w, "energy_pJ", r, t.EnergyPJ);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (!r.EnergyKnown) w.WriteNull("energy");
            else
            {
                w.WriteStartArray("energy");
                foreach (var e in r.Energy)
                {
                    w.WriteStartObject();
                    w.WriteString("component", e.Component);
                    w.WriteString("action", e.Action);
                    w.WriteNumber("pJ", e.PicoJoules);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteString("loop_nest", r.LoopNest);
            w.WriteStartArray("notes");
            foreach (var n in notes ?? Array.Empty<string>()) w.WriteStringValue(n);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
