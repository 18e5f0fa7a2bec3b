using System.Text;
using AccelSim.Core;
using AccelSim.Experiments.Results;

namespace AccelSim.Experiments.FuseMax;

/// <summary>
/// report.md for `accelsim reproduce fusemax`: the headline and error summary, speedup and energy tables relative to
/// FLAT per model and sequence length (attention and end to end), and the figures.
/// </summary>
public static class FuseMaxReport
{
    private static readonly string[] Archs = ["unfused", "flat", "cascade", "stall", "fusemax"];

    public static string Write(string outDir, string summary, IEnumerable<string> figures)
    {
        var md = new StringBuilder();
        md.Append("# FuseMax / FLAT / unfused attention study\n\n");
        md.Append("Reproduced with AccelSim's cascade model (`accelsim reproduce fusemax`): BERT, TrXL, T5 and XLM (batch 64) at ")
          .Append("1K-1M tokens on the five architectures of `arch/fusemax/`. Ratios are relative to FLAT; CSVs are next to this file.\n\n");
        md.Append("## Summary\n\n```text\n").Append(summary.TrimEnd()).Append("\n```\n\n");
        foreach (var (file, title) in new[] { ("attention.csv", "Attention"), ("end2end.csv", "End to end (attention + the layer's GEMMs)") })
        {
            var path = Path.Combine(outDir, file);
            if (!File.Exists(path)) continue;
            var table = ResultTable.Load(path);
            md.Append("## ").Append(title).Append("\n\n");
            md.Append(RatioTable(table, "latency_s", "Speedup over FLAT (FLAT latency / latency)", inverse: true));
            md.Append(RatioTable(table, "energy_pJ", "Energy relative to FLAT (energy / FLAT energy)", inverse: false));
        }
        md.Append("## Figures\n\n");
        foreach (var f in figures.Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(f);
            md.Append($"![{Path.GetFileNameWithoutExtension(name).Replace('_', ' ')}]({name})\n\n");
        }
        var output = Path.Combine(outDir, "report.md");
        File.WriteAllText(output, md.ToString());
        return output;
    }

    private static string RatioTable(ResultTable table, string metric, string caption, bool inverse)
    {
        var model = table.Column("model");
        var seq = table.Column("seq_len");
        var arch = table.Column("arch");
        var value = table.Column(metric);
        var rows = table.Rows.Select(r => (Model: r[model], Seq: long.Parse(r[seq], Invariant.Culture), Arch: r[arch],
            Value: double.Parse(r[value], Invariant.Culture))).ToList();
        var archs = Archs.Where(a => rows.Any(r => r.Arch == a)).ToList();
        var sb = new StringBuilder();
        sb.Append("**").Append(caption).Append("**\n\n| model | tokens | ").Append(string.Join(" | ", archs)).Append(" |\n|---|---:|")
          .Append(string.Concat(archs.Select(_ => "---:|"))).Append('\n');
        foreach (var group in rows.GroupBy(r => (r.Model, r.Seq)))
        {
            var flat = group.FirstOrDefault(r => r.Arch == "flat").Value;
            sb.Append($"| {group.Key.Model} | {Tokens(group.Key.Seq)} |");
            foreach (var a in archs)
            {
                var v = group.FirstOrDefault(r => r.Arch == a).Value;
                sb.Append(' ').Append(flat > 0 && v > 0 ? Invariant.Sig(inverse ? flat / v : v / flat, 3) : "-").Append(" |");
            }
            sb.Append('\n');
        }
        return sb.Append('\n').ToString();
    }

    private static string Tokens(long n) => n >= 1 << 20 && n % (1 << 20) == 0 ? $"{n >> 20}M" : n % 1024 == 0 ? $"{n / 1024}K" : n.ToString(Invariant.Culture);
}
