using System.Text;
using System.Text.Json;
using AccelSim.Core;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>Renders a <see cref="CascadeReport"/> as a terminal report or as JSON (stable field names, invariant numbers).</summary>
public static class CascadeReportWriter
{
    public static string Text(CascadeReport r)
    {
        var sb = new StringBuilder();
        sb.Append($"workload {r.Workload}  ({r.File})\n");
        sb.Append("parameters: ").Append(string.Join(", ", r.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={Invariant.WholeOrSig(p.Value, 6)}"))).Append("\n\n");

        var kinds = OpCounts.Kinds.Where(k => r.TotalOps[k] != 0).ToList();
        var einsums = new TextTable(["einsum", "iteration space", "points", .. kinds.Select(k => k.ToString().ToLowerInvariant())]);
        foreach (var e in r.Einsums)
            einsums.Add([e.Name, string.Join(" ", e.Iteration.Select(v => $"{v.Name}:{v.Size}")), Invariant.Grouped(e.Points),
                .. kinds.Select(k => e.Ops[k] == 0 ? "-" : Invariant.Grouped(e.Ops[k]))]);
        einsums.Add(["total", "", "", .. kinds.Select(k => Invariant.Grouped(r.TotalOps[k]))]);
        sb.Append("Operations by Einsum (per kind; a MAC is a fused multiply-add)\n").Append(einsums);
        foreach (var e in r.Einsums.Where(e => e.DeclaredDensityNote is not null))
            sb.Append($"note: {e.Name}: points are declared, not exact: {e.DeclaredDensityNote}\n");
        sb.Append('\n');

        var tensors = new TextTable("tensor", "role", "ranks", "extents", "elements", "bytes");
        foreach (var t in r.Tensors)
            tensors.Add(t.Name, t.Role.ToString().ToLowerInvariant(), string.Join(",", t.Ranks), string.Join("x", t.Extents),
                Invariant.Grouped(t.Elements), Invariant.Sig(t.Bytes));
        sb.Append("Tensor footprints\n").Append(tensors).Append('\n');

        var passes = new TextTable("rank", "passes", "forced by");
        foreach (var p in r.Passes)
            passes.Add(p.Rank, p.Passes.ToString(Invariant.Culture),
                p.Causes.IsEmpty ? "-" : string.Join("; ", p.Causes.Select(c => $"pass {c.Pass}: {c.Tensor} (from {c.ProducedBy}, needed by {c.NeededBy})")));
        sb.Append("Passes over each rank\n").Append(passes).Append('\n');

        sb.Append($"total FLOPs {Invariant.Sig(r.TotalFlops)} (MAC = 2), compulsory traffic {Invariant.Sig(r.CompulsoryBytes)} B, ")
          .Append($"arithmetic intensity {Invariant.Sig(r.ArithmeticIntensity)} FLOP/B\n");
        return sb.ToString();
    }

    public static string Json(CascadeReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("workload", r.Workload);
            w.WriteString("file", r.File);
            w.WriteStartObject("parameters");
            foreach (var (k, v) in r.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal)) WriteNumber(w, k, v);
            w.WriteEndObject();
            w.WriteStartArray("einsums");
            foreach (var e in r.Einsums)
            {
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("expr", e.Text);
                w.WriteStartArray("iteration");
                foreach (var v in e.Iteration)
                {
                    w.WriteStartObject();
                    w.WriteString("variable", v.Name);
                    w.WriteString("rank", v.Rank);
                    w.WriteNumber("size", v.Size);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("dense_points", e.DensePoints);
                w.WriteNumber("points", e.Points);
                if (e.DeclaredDensityNote is not null) w.WriteString("points_declared", e.DeclaredDensityNote);
                WriteOps(w, "ops", e.Ops);
                WriteOps(w, "ops_per_point", e.OpsPerPoint);
                if (e.Reduce is null) w.WriteNull("reduce"); else w.WriteString("reduce", e.Reduce);
                WriteStrings(w, "reduce_over", e.ReduceVariables);
                w.WriteString("output", e.Output);
                WriteStrings(w, "inputs", e.Inputs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("tensors");
            foreach (var t in r.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("role", t.Role.ToString().ToLowerInvariant());
                WriteStrings(w, "ranks", t.Ranks);
                w.WriteStartArray("extents");
                foreach (var x in t.Extents) w.WriteNumberValue(x);
                w.WriteEndArray();
                w.WriteNumber("elements", t.Elements);
                w.WriteNumber("word_bits", t.WordBits);
                WriteNumber(w, "bytes", t.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("passes");
            foreach (var p in r.Passes)
            {
                w.WriteStartObject();
                w.WriteString("rank", p.Rank);
                w.WriteNumber("passes", p.Passes);
                w.WriteStartArray("forced_by");
                foreach (var c in p.Causes)
                {
                    w.WriteStartObject();
                    w.WriteNumber("pass", c.Pass);
                    w.WriteString("tensor", c.Tensor);
                    w.WriteString("produced_by", c.ProducedBy);
                    w.WriteString("needed_by", c.NeededBy);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                WriteStrings(w, "traversed_by", p.TraversingEinsums);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteOps(w, "total_ops", r.TotalOps);
            w.WriteNumber("total_flops", r.TotalFlops);
            WriteNumber(w, "compulsory_bytes", r.CompulsoryBytes);
            WriteNumber(w, "arithmetic_intensity", r.ArithmeticIntensity);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteOps(Utf8JsonWriter w, string name, OpCounts ops)
    {
        w.WriteStartObject(name);
        foreach (var k in OpCounts.Kinds) w.WriteNumber(k.ToString().ToLowerInvariant(), ops[k]);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    /// <summary>JSON has no infinities: write them as strings so the document stays valid.</summary>
    private static void WriteNumber(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteString(name, Invariant.Num(v));
    }
}
