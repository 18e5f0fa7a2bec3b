using AccelSim.Core;
using ScottPlot;
using ScottPlot.Plottables;

namespace AccelSim.Experiments.FuseMax;

/// <summary>
/// Figures of `accelsim reproduce fusemax` (ScottPlot 5), self-contained so that they can later move onto the shared
/// plotting library of AccelSim.Experiments: speedups over unfused and over FLAT, energy relative to FLAT, 2D/1D
/// utilisation, and the area-latency Pareto over PE-array sizes (with the study's points when available).
/// </summary>
public static class FuseMaxPlots
{
    private static readonly Color[] Palette =
    [
        Color.FromHex("#0072B2"), Color.FromHex("#E69F00"), Color.FromHex("#009E73"), Color.FromHex("#D55E00"),
        Color.FromHex("#CC79A7"), Color.FromHex("#56B4E9"), Color.FromHex("#000000"),
    ];

    private static readonly Dictionary<string, string> Labels = new()
    {
        ["unfused"] = "Unfused", ["flat"] = "FLAT", ["cascade"] = "+Cascade", ["stall"] = "+Architecture", ["fusemax"] = "FuseMax (+Binding)",
    };

    public static IReadOnlyList<string> Write(IReadOnlyList<StudyPoint> points, IReadOnlyList<ParetoPoint> pareto,
        FuseMaxReference? reference, string dir)
    {
        var files = new List<string>();
        var keys = points.Select(p => (p.Model, p.SeqLen)).Distinct().ToList();
        var categories = keys.Select(k => $"{k.Model} {FuseMaxReference.Label(k.SeqLen)}").ToList();
        StudyPoint Get(string arch, (string, long) k) => points.First(p => p.Arch == arch && (p.Model, p.SeqLen) == k);

        void Ratio(string file, string title, string yLabel, string baseline, string[] archs, Func<StudyPoint, StudyPoint, double> f, bool log)
        {
            var series = archs.Select(a => keys.Select(k => f(Get(a, k), Get(baseline, k))).ToArray()).ToList();
            files.Add(Bars(Path.Combine(dir, file), title, yLabel, categories, archs.Select(a => Labels[a]).ToList(), series, log));
        }

        string[] notUnfused = ["flat", "cascade", "stall", "fusemax"];
        string[] notFlat = ["unfused", "cascade", "stall", "fusemax"];
        Ratio("speedup_vs_unfused.png", "Attention speedup over unfused", "Speedup (x, log scale)", "unfused", notUnfused,
            (p, b) => b.Report.Attention.LatencySeconds / p.Report.Attention.LatencySeconds, true);
        Ratio("speedup_vs_flat.png", "Attention speedup over FLAT", "Speedup (x, log scale)", "flat", notFlat,
            (p, b) => b.Report.Attention.LatencySeconds / p.Report.Attention.LatencySeconds, true);
        Ratio("speedup_e2e_vs_flat.png", "End-to-end layer speedup over FLAT", "Speedup (x, log scale)", "flat", notFlat,
            (p, b) => b.Report.EndToEndLatencySeconds / p.Report.EndToEndLatencySeconds, true);
        Ratio("energy_vs_flat.png", "Attention energy relative to FLAT", "Energy / FLAT energy", "flat", notFlat,
            (p, b) => p.Report.Attention.EnergyPJ / b.Report.Attention.EnergyPJ, false);
        Ratio("energy_e2e_vs_flat.png", "End-to-end layer energy relative to FLAT", "Energy / FLAT energy", "flat", notFlat,
            (p, b) => p.Report.EndToEndEnergyPJ / b.Report.EndToEndEnergyPJ, false);
        foreach (var array in new[] { "2d", "1d" })
        {
            var series = FuseMaxStudy.Architectures.Select(a => keys.Select(k => 100 * Get(a, k).Report.Attention.Utilization(array)).ToArray()).ToList();
            files.Add(Bars(Path.Combine(dir, $"util_{array}.png"), $"{array.ToUpperInvariant()} array utilisation (attention)",
                "Utilisation (% of the run)", categories, FuseMaxStudy.Architectures.Select(a => Labels[a]).ToList(), series, false));
        }
        if (pareto.Count > 0)
            files.Add(Pareto(Path.Combine(dir, "pareto.png"), pareto, reference?.Pareto.Select(p => (p.Model, p.AreaUm2, p.LatencySeconds)).ToList()));
        return files;
    }

    /// <summary>A sans-serif face: DejaVu Sans when installed, else the system's sans.</summary>
    private static readonly string FontName =
        Fonts.GetTypeface("DejaVu Sans", false, false)?.FamilyName == "DejaVu Sans" ? "DejaVu Sans" : Fonts.Sans;

    private static void Style(Plot plot, string title, string x, string y)
    {
        plot.Font.Set(FontName, FontWeight.Normal, FontSlant.Upright, FontSpacing.Normal);
        plot.Title(title, 26);
        plot.XLabel(x, 22);
        plot.YLabel(y, 22);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 16;
        plot.Axes.Left.TickLabelStyle.FontSize = 18;
        plot.Legend.FontSize = 18;
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.12);
    }

    private static string Bars(string path, string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<string> names,
        IReadOnlyList<double[]> series, bool log)
    {
        var plot = new Plot();
        const double group = 0.8;
        double width = group / series.Count;
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (int c = 0; c < categories.Count; c++)
            {
                var v = series[s][c];
                if (!double.IsFinite(v) || (log && v <= 0)) continue;
                var y = log ? Math.Log10(v) : v;
                min = Math.Min(min, y);
                max = Math.Max(max, y);
                bars.Add(new Bar { Position = c - group / 2 + width * (s + 0.5), Value = y, Size = width * 0.92, FillColor = Palette[s % Palette.Length], LineWidth = 0 });
            }
            var b = plot.Add.Bars(bars);
            b.LegendText = names[s];
            b.Color = Palette[s % Palette.Length];
        }
        Style(plot, title, "", yLabel);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, categories.Count).Select(i => (double)i)], [.. categories]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (log)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int d = (int)Math.Floor(Math.Min(0, min)); d <= (int)Math.Ceiling(max); d++)
                foreach (var m in new[] { 1, 1.5, 2, 3, 5, 7 })
                    if (d + Math.Log10(m) >= Math.Min(0, min) - 0.05 && d + Math.Log10(m) <= max + 0.15)
                        ticks.AddMajor(d + Math.Log10(m), (m * Math.Pow(10, d)).ToString("0.##", Invariant.Culture));
            plot.Axes.Left.TickGenerator = ticks;
            plot.Axes.SetLimitsY(Math.Min(0, min) - 0.05, max + 0.15);
            plot.Add.HorizontalLine(0, 2, Colors.Black, LinePattern.Dashed);
        }
        else
        {
            plot.Axes.SetLimitsY(0, max * 1.1);
        }
        plot.Axes.SetLimitsX(-0.6, categories.Count - 0.4);
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 1800, 800);
        return path;
    }

    private static string Pareto(string path, IReadOnlyList<ParetoPoint> points, IReadOnlyList<(string Model, double AreaUm2, double Latency)>? reference)
    {
        var plot = new Plot();
        int k = 0;
        foreach (var model in points.Select(p => p.Model).Distinct())
        {
            var mine = points.Where(p => p.Model == model).OrderBy(p => p.PeDim).ToList();
            var s = plot.Add.Scatter(mine.Select(p => Math.Log10(p.AreaUm2 * 1e-8)).ToArray(), mine.Select(p => Math.Log10(p.LatencySeconds)).ToArray());
            s.LegendText = model + " (AccelSim)";
            s.Color = Palette[k % Palette.Length];
            s.LineWidth = 3;
            s.MarkerSize = 12;
            if (reference?.Where(r => r.Model == model).OrderBy(r => r.AreaUm2).ToList() is { Count: > 0 } theirs)
            {
                var t = plot.Add.Scatter(theirs.Select(p => Math.Log10(p.AreaUm2 * 1e-8)).ToArray(), theirs.Select(p => Math.Log10(p.Latency)).ToArray());
                t.LegendText = model + " (study)";
                t.Color = Palette[k % Palette.Length];
                t.LinePattern = LinePattern.Dashed;
                t.MarkerShape = MarkerShape.OpenCircle;
                t.MarkerSize = 14;
            }
            k++;
        }
        Style(plot, "FuseMax area vs attention latency (256K tokens)", "Area (cm^2, log scale)", "Attention latency (s, log scale)");
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int d = -4; d <= 6; d++) ticks.AddMajor(d, Math.Pow(10, d).ToString("0.####", Invariant.Culture));
            axis.TickGenerator = ticks;
        }
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 1400, 900);
        return path;
    }
}
