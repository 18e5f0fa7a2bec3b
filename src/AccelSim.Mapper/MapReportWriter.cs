using System.Text;
using System.Text.Json;
using AccelSim.Core;
using AccelSim.Mapping;
using AccelSim.Model;

namespace AccelSim.Mapper;

/// <summary>
/// Text and JSON renderings of a <see cref="MapResult"/>. Everything printed is a function of the inputs and the seed
/// (timings and thread counts go to the progress line on stderr), so two runs print the same bytes.
/// </summary>
public static class MapReportWriter
{
    public static string Text(MapResult r, IEnumerable<string>? notes = null)
    {
        var sb = new StringBuilder();
        var req = r.Request;
        var o = r.Outcome;
        sb.AppendLine($"Mapper        {r.Strategy} search, objective {req.Objective}, seed {req.Seed}" +
                      (req.Budget is { } b ? $", budget {Invariant.Grouped(b)}" : ""));
        sb.AppendLine($"Map-space     {Invariant.Sig(r.Space.TilingCount)} tilings x {Invariant.Sig(r.Space.KeepCount)} keep choices, " +
                      $"loop orders up to equivalence" + (r.Space.Constraints.Files.Length > 0 ? $"; constraints: {string.Join(", ", r.Space.Constraints.Files)}" : ""));
        sb.AppendLine($"Searched      {Invariant.Grouped(o.Evaluations)} valid mappings priced ({Reason(o.StopReason)})");
        var values = req.Objective.Metrics.Select((m, i) => $"{Objective.Name(m)} {Invariant.Sig(o.BestScore[i], 6)}");
        sb.AppendLine($"Best          {string.Join(", ", values)}");
        sb.AppendLine();
        sb.Append(CostReportWriter.Text(r.Report, notes));
        return sb.ToString();
    }

    private static string Reason(StopReason s) => s switch
    {
        StopReason.Completed => "space exhausted",
        StopReason.Budget => "budget reached",
        StopReason.Timeout => "stopped by the timeout: the result depends on machine speed",
        _ => "cancelled",
    };

    public static string Json(IReadOnlyList<MapResult> results, IEnumerable<string>? notes = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            if (results.Count == 1) Write(w, results[0], notes);
            else
            {
                w.WriteStartObject();
                w.WriteStartArray("einsums");
                foreach (var r in results) Write(w, r, null);
                w.WriteEndArray();
                w.WriteStartArray("notes");
                foreach (var n in notes ?? Array.Empty<string>()) w.WriteStringValue(n);
                w.WriteEndArray();
                w.WriteEndObject();
            }
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter w, MapResult r, IEnumerable<string>? notes)
    {
        var req = r.Request;
        var rep = r.Report;
        w.WriteStartObject();
        w.WriteString("einsum", rep.Problem);
        w.WriteString("architecture", rep.Architecture);
        w.WriteString("compute", rep.Compute);
        w.WriteString("search", r.Strategy);
        w.WriteString("objective", req.Objective.ToString());
        w.WriteNumber("seed", req.Seed);
        if (req.Budget is { } b) w.WriteNumber("budget", b); else w.WriteNull("budget");
        w.WriteNumber("evaluations", r.Outcome.Evaluations);
        w.WriteString("stop_reason", r.Outcome.StopReason.ToString().ToLowerInvariant());
        w.WriteNumber("cycles", rep.CyclesCeiling);
        if (rep.EnergyPJ is { } pj) w.WriteNumber("energy_pJ", pj); else w.WriteNull("energy_pJ");
        if (rep.EnergyDelayProduct is { } edp) w.WriteNumber("edp", edp); else w.WriteNull("edp");
        w.WriteNumber("utilization", rep.Utilization);
        w.WriteNumber("offchip_bytes", rep.OffChipBytes);
        w.WriteNumber("tilings", r.Space.TilingCount);
        w.WriteNumber("keep_choices", r.Space.KeepCount);
        w.WritePropertyName("mapping");
        WriteMapping(w, r.Mapping);
        w.WriteString("mapping_yaml", MappingLoader.ToYaml(r.Mapping));
        w.WritePropertyName("report");
        w.WriteRawValue(CostReportWriter.Json(rep, notes));
        w.WriteEndObject();
    }

    private static void WriteMapping(Utf8JsonWriter w, AccelSim.Mapping.Mapping m)
    {
        static string F(IEnumerable<LoopFactor> f) => string.Join(" ", f.Select(x => $"{x.Dim}={Invariant.Num(x.Factor)}"));
        w.WriteStartObject();
        if (m.Compute is { } c) w.WriteString("compute", c);
        w.WriteStartArray("levels");
        foreach (var l in m.Levels)
        {
            w.WriteStartObject();
            w.WriteString("level", l.Level);
            w.WriteString("temporal", F(l.Temporal));
            w.WriteString("spatial_x", F(l.SpatialX));
            w.WriteString("spatial_y", F(l.SpatialY));
            w.WriteStartArray("keep");
            foreach (var k in l.Keep ?? System.Collections.Immutable.ImmutableArray<string>.Empty) w.WriteStringValue(k);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The winning mapping as AccelSim mapping YAML, with a header saying how it was found.</summary>
    public static string MappingYaml(MapResult r)
    {
        var header = $"Found by `accelsim map` ({r.Strategy} search, objective {r.Request.Objective}, seed {r.Request.Seed}, " +
                     $"{Invariant.Grouped(r.Outcome.Evaluations)} mappings priced) for {r.Report.Problem} on {r.Report.Architecture}:\n" +
                     $"cycles {Invariant.Grouped(r.Report.CyclesCeiling)}, energy {(r.Report.EnergyPJ is { } pj ? Invariant.Sig(pj, 6) + " pJ" : "n/a")}";
        return MappingLoader.ToYaml(r.Mapping, header);
    }
}
