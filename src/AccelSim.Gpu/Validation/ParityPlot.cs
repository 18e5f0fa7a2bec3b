using AccelSim.Core;

namespace AccelSim.Gpu.Validation;

/// <summary>Parity plot (measured vs predicted TFLOP/s, log-log, one colour per kernel family, y = x line).</summary>
public static class ParityPlot
{
    public static void Save(ValidationSummary summary, string path, int width = 900, int height = 800)
    {
        var plot = new ScottPlot.Plot();
        var predicted = summary.Results.Where(r => r.Predicted && r.Row.MeasuredTflops > 0 && r.PredictedTflops > 0).ToList();
        if (predicted.Count == 0) throw new InputException("nothing to plot: no row could be predicted");
        var palette = new ScottPlot.Palettes.Category20();
        int colour = 0;
        foreach (var group in predicted.GroupBy(r => $"{r.GpuName} {r.Family}").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            foreach (var approx in new[] { false, true })
            {
                var pts = group.Where(r => r.Row.Approx == approx).ToList();
                if (pts.Count == 0) continue;
                var xs = pts.Select(r => Math.Log10(r.Row.MeasuredTflops)).ToArray();
                var ys = pts.Select(r => Math.Log10(r.PredictedTflops!.Value)).ToArray();
                var sc = plot.Add.ScatterPoints(xs, ys);
                sc.Color = palette.GetColor(colour);
                sc.MarkerSize = 7;
                sc.MarkerShape = approx ? ScottPlot.MarkerShape.OpenCircle : ScottPlot.MarkerShape.FilledCircle;
                sc.LegendText = group.Key + (approx ? " (approx)" : "");
            }
            colour++;
        }
        var all = predicted.SelectMany(r => new[] { r.Row.MeasuredTflops, r.PredictedTflops!.Value }).ToList();
        var lo = Math.Log10(all.Min() * 0.8);
        var hi = Math.Log10(all.Max() * 1.25);
        var line = plot.Add.Line(lo, lo, hi, hi);
        line.LineColor = ScottPlot.Colors.Black;
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        line.LegendText = "y = x";
        foreach (var f in new[] { 1.1, 1 / 1.1 })
        {
            var band = plot.Add.Line(lo, lo + Math.Log10(f), hi, hi + Math.Log10(f));
            band.LineColor = ScottPlot.Colors.Gray;
            band.LinePattern = ScottPlot.LinePattern.Dotted;
        }
        static string Tick(double v) => Math.Pow(10, v).ToString(Math.Pow(10, v) >= 10 ? "0" : "0.#", Invariant.Culture);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Tick, MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator() };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Tick, MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator() };
        plot.Axes.SetLimits(lo, hi, lo, hi);
        plot.XLabel("measured throughput (TFLOP/s, log scale)");
        plot.YLabel("predicted throughput (TFLOP/s, log scale)");
        plot.Title("AccelSim GPU model vs published attention kernels (dotted: +/-10%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, width, height);
    }
}
