using AccelSim.Pruning.Study;
using ScottPlot;

namespace AccelSim.Experiments.Spatten;

/// <summary>
/// The SpAtten reproduction's figures (ScottPlot PNG). Self-contained on purpose: when the shared plotting library in
/// AccelSim.Experiments lands, only this file needs to switch over.
/// </summary>
public static class SpattenPlots
{
    private static readonly string[] Techniques = ["token", "head", "value", "quant", "all"];

    /// <summary>Writes dram_reduction.png and breakdown.png into <paramref name="dir"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(SpattenStudyResult result, string dir, string modeNote)
    {
        var files = new List<string>();
        files.Add(DramReduction(result, Path.Combine(dir, "dram_reduction.png"), modeNote));
        files.Add(Breakdown(result, Path.Combine(dir, "breakdown.png"), modeNote));
        return files;
    }

    private static Color ColorOf(int i) => new ScottPlot.Palettes.Category10().GetColor(i);
    private static Color ColorOf20(int i) => new ScottPlot.Palettes.Category20().GetColor(i);

    private static string DramReduction(SpattenStudyResult result, string path, string modeNote)
    {
        var plot = new Plot();
        var benchmarks = result.Benchmarks.ToList();
        var bars = new List<Bar>();
        var group = Techniques.Length + 1;
        for (var b = 0; b < benchmarks.Count; b++)
            for (var t = 0; t < Techniques.Length; t++)
                bars.Add(new Bar
                {
                    Position = b * group + t,
                    Value = result.DramReduction(benchmarks[b], Techniques[t]),
                    FillColor = ColorOf(t),
                    LineWidth = 0,
                });
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            benchmarks.Select((_, b) => b * group + (Techniques.Length - 1) / 2.0).ToArray(), benchmarks.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 60;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 170;
        for (var t = 0; t < Techniques.Length; t++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Techniques[t], FillColor = ColorOf(t) });
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.Margins(bottom: 0);
        plot.Title($"SpAtten: DRAM access reduction over dense, per technique (mean of 'all': " +
                   $"{result.AverageDramReduction():0.0}x; {modeNote})");
        plot.YLabel("DRAM reduction (x)");
        plot.SavePng(path, 2400, 900);
        return path;
    }

    private static string Breakdown(SpattenStudyResult result, string path, string modeNote)
    {
        // Two panels side by side in one image: latency by pipeline stage and energy by component, each stacked per
        // technique, averaged over the summarisation and the generation benchmarks and normalised to dense.
        string[] techniques = ["dense", .. Techniques];
        string[] stageNames = ["fetch", "Q.K", "softmax", "prob.V", "local-V top-k", "token/head top-k", "fill"];
        string[] energyNames = ["DRAM", "MAC", "SRAM", "softmax", "top-k", "selection"];
        var tasks = result.Rows.Select(r => r.Benchmark.Task.Kind).Distinct().ToList();

        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<(double, string)>();
        var x = 0.0;
        foreach (var task in tasks)
        {
            var names = result.Rows.Where(r => r.Benchmark.Task.Kind == task && r.Techniques.IsDense).Select(r => r.BenchmarkName).ToList();
            foreach (var (panel, parts) in new[] { ("latency", stageNames.Length), ("energy", energyNames.Length) })
            {
                foreach (var t in techniques)
                {
                    var shares = new double[parts];
                    foreach (var n in names)
                    {
                        var dense = result.Row(n, "dense").Result;
                        var row = result.Row(n, t).Result;
                        double[] values = panel == "latency"
                            ? [row.CycleBreakdown.Fetch, row.CycleBreakdown.QueryKey, row.CycleBreakdown.Softmax,
                               row.CycleBreakdown.ProbValue, row.CycleBreakdown.LocalValueTopK, row.CycleBreakdown.SerialTopK,
                               row.CycleBreakdown.PipelineFill]
                            : [row.Energy.Dram, row.Energy.Mac, row.Energy.Sram, row.Energy.Softmax, row.Energy.TopK, row.Energy.Selection];
                        var norm = panel == "latency" ? dense.Cycles : dense.EnergyPj;
                        for (var i = 0; i < parts; i++) shares[i] += values[i] / norm / names.Count;
                    }
                    var bottom = 0.0;
                    for (var i = 0; i < parts; i++)
                    {
                        bars.Add(new Bar { Position = x, ValueBase = bottom, Value = bottom + shares[i], FillColor = ColorOf20(panel == "latency" ? i : stageNames.Length + i), LineWidth = 0 });
                        bottom += shares[i];
                    }
                    ticks.Add((x, $"{task} {panel}: {t}"));
                    x += 1;
                }
                x += 1;
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(t => t.Item1).ToArray(), ticks.Select(t => t.Item2).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 60;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 200;
        for (var i = 0; i < stageNames.Length; i++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "latency: " + stageNames[i], FillColor = ColorOf20(i) });
        for (var i = 0; i < energyNames.Length; i++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "energy: " + energyNames[i], FillColor = ColorOf20(stageNames.Length + i) });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Margins(bottom: 0);
        plot.Title($"SpAtten: latency (by bottleneck stage) and energy (by component), normalised to dense; {modeNote}");
        plot.YLabel("fraction of dense");
        plot.SavePng(path, 2000, 900);
        return path;
    }
}
