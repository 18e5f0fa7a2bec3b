using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;
using ScottPlot;
using ScottPlot.Plottables;

namespace AccelSim.Experiments.Plots;

/// <summary>Speedup (grouped bars), energy breakdown (stacked bars) and utilisation (grouped bars).</summary>
internal static class BarPlots
{
    private const double GroupWidth = 0.8;

    public static void Speedup(Plot plot, ResultTable t, PlotRequest r)
    {
        var y = r.Y.FirstOrDefault() ?? FirstOfKind(t, MetricKind.Time, "speedup", "a time metric (--y)");
        var baseline = r.Baseline.IsEmpty ? t.Baseline : r.Baseline;
        if (baseline.IsEmpty)
            throw new InputException(SourceLocation.FileOnly(t.Source), "--baseline",
                "a speedup plot needs a baseline: pass --baseline arch=flat or declare `baseline:` in the sweep");
        var group = r.Group ?? (baseline.Length == 1 ? baseline[0].Key : null);
        var x = r.X;
        var keys = t.ParameterColumns.Concat(new[] { x, group }.OfType<string>()).Select(t.Name).Distinct().ToList();
        var comparison = BaselineComparison.Create(t, baseline, keys, "--baseline");

        var yCol = t.Column(y);
        var xCol = x is null ? -1 : t.Column(x);
        var gCol = group is null ? -1 : t.Column(group);
        var categories = xCol < 0 ? ["all"] : t.Distinct(xCol);
        var baselineGroupValue = group is null ? null
            : baseline.Where(b => t.Name(b.Key) == t.Name(group)).Select(b => b.Value).FirstOrDefault();
        var groups = gCol < 0 ? [""] : t.Distinct(gCol).Where(g => !Same(g, baselineGroupValue)).ToList();
        if (groups.Count == 0)
            throw new InputException(SourceLocation.FileOnly(t.Source), "--group", "only the baseline is left to plot");
        PlotData.RequireNumeric(t, y, "--y");
        PlotData.RefuseBlending(t, r, "speedup", Enumerable.Range(0, t.Count), row =>
            comparison.IsBaselineRow(row) || (gCol >= 0 && Same(t.Text(row, gCol), baselineGroupValue))
                ? null
                : (Key(t, row, xCol, gCol), PlotData.Label(t, (xCol, xCol < 0 ? "" : t.Text(row, xCol)), (gCol, gCol < 0 ? "" : t.Text(row, gCol)))),
            x, group);

        var series = groups.Select(g => categories.Select(c => Stats.GeoMean(
            Enumerable.Range(0, t.Count)
                .Where(row => !comparison.IsBaselineRow(row) && (xCol < 0 || t.Text(row, xCol) == c) && (gCol < 0 || t.Text(row, gCol) == g))
                .Select(row => comparison.Speedup(row, yCol)))).ToArray()).ToList();

        for (var s = 0; s < groups.Count; s++)
            AddGroupedSeries(plot, groups[s].Length == 0 ? PaperStyle.Humanize(y, t.Info(y)) + " speedup" : groups[s],
                s, groups.Count, series[s]);

        var line = plot.Add.HorizontalLine(1, PaperStyle.LineWidth, Colors.Black, LinePattern.Dashed);
        line.LegendText = "baseline (" + comparison.Label + ")";

        PaperStyle.Apply(plot, r.Title ?? $"{PaperStyle.Humanize(y, t.Info(y))} speedup over {comparison.Label}{PlotData.MeanNote(t, r, geometric: true)}",
            x is null ? "" : ResultTable.ShortName(t.Name(x)),
            $"Speedup over {comparison.Label} (×)");
        PaperStyle.CategoryTicks(plot, categories);
        FinishBars(t, "speedup", plot, series.SelectMany(v => v), showLegend: true);
    }

    public static void Energy(Plot plot, ResultTable t, PlotRequest r)
    {
        var ys = !r.Y.IsDefaultOrEmpty ? r.Y.ToList() : DefaultEnergyParts(t);
        var x = r.X ?? FirstVarying(t, r.Group) ?? throw Missing(t, "energy", "a category column (--x)");
        var xCol = t.Column(x);
        var gCol = r.Group is null ? -1 : t.Column(r.Group);
        var categories = Categories(t, xCol, gCol);
        foreach (var y in ys) PlotData.RequireNumeric(t, y, "--y");
        PlotData.RefuseBlending(t, r, "energy", Enumerable.Range(0, t.Count),
            row => (Key(t, row, xCol, gCol), PlotData.Label(t, (xCol, t.Text(row, xCol)), (gCol, gCol < 0 ? "" : t.Text(row, gCol)))),
            x, r.Group);

        var unit = t.Info(ys[0]).Unit;
        var values = ys.Select(y =>
        {
            var c = t.Column(y);
            return categories.Select(cat => Stats.Mean(cat.Rows.Select(row => t.Number(row, c)))).ToArray();
        }).ToList();
        var totals = categories.Select((_, i) => values.Sum(v => double.IsFinite(v[i]) ? v[i] : 0)).ToArray();
        var (factor, shownUnit) = PaperStyle.Rescale(totals.DefaultIfEmpty(0).Max(), unit);

        var bases = new double[categories.Count];
        for (var k = 0; k < ys.Count; k++)
        {
            var bars = new List<Bar>();
            for (var c = 0; c < categories.Count; c++)
            {
                var v = values[k][c];
                if (!double.IsFinite(v)) continue;
                bars.Add(new Bar
                {
                    Position = c,
                    ValueBase = bases[c],
                    Value = bases[c] + v * factor,
                    Size = 0.6,
                    FillColor = PaperStyle.Colour(k),
                    LineWidth = 0,
                });
                bases[c] += v * factor;
            }
            var series = plot.Add.Bars(bars);
            series.LegendText = PaperStyle.Humanize(ys[k], t.Info(ys[k]));
            series.Color = PaperStyle.Colour(k);
        }
        PaperStyle.Apply(plot, r.Title ?? "Energy breakdown" + PlotData.MeanNote(t, r, geometric: false), XLabel(t, x, r.Group),
            PaperStyle.AxisLabel("Energy", shownUnit));
        PaperStyle.CategoryTicks(plot, [.. categories.Select(c => c.Label)]);
        FinishBars(t, "energy", plot, values.SelectMany(v => v), showLegend: true, max: bases.DefaultIfEmpty(0).Max());
    }

    public static void Utilization(Plot plot, ResultTable t, PlotRequest r)
    {
        var ys = !r.Y.IsDefaultOrEmpty ? r.Y.ToList()
            : t.MetricInfos().Where(m => m.Kind == MetricKind.Utilization).Select(m => m.Name).ToList();
        if (ys.Count == 0) throw Missing(t, "utilization", "utilisation columns (--y)");
        var x = r.X ?? FirstVarying(t, r.Group) ?? throw Missing(t, "utilization", "a category column (--x)");
        var xCol = t.Column(x);
        var gCol = r.Group is null ? -1 : t.Column(r.Group);
        var categories = t.Distinct(xCol);
        var groups = gCol < 0 ? [""] : t.Distinct(gCol);
        foreach (var y in ys) PlotData.RequireNumeric(t, y, "--y");
        PlotData.RefuseBlending(t, r, "utilization", Enumerable.Range(0, t.Count),
            row => (Key(t, row, xCol, gCol), PlotData.Label(t, (xCol, t.Text(row, xCol)), (gCol, gCol < 0 ? "" : t.Text(row, gCol)))),
            x, r.Group);

        // Utilisation is reported as a fraction; show percent.
        var fraction = ys.All(y => t.Numbers(t.Column(y)).Where(double.IsFinite).DefaultIfEmpty(0).Max() <= 1.0001);
        var scale = fraction ? 100.0 : 1.0;
        var labels = new List<string>();
        var series = new List<double[]>();
        foreach (var g in groups)
            foreach (var y in ys)
            {
                var c = t.Column(y);
                labels.Add((g.Length > 0 ? g + " " : "") + PaperStyle.Humanize(y, t.Info(y)));
                series.Add([.. categories.Select(cat => scale * Stats.Mean(Enumerable.Range(0, t.Count)
                    .Where(row => t.Text(row, xCol) == cat && (gCol < 0 || t.Text(row, gCol) == g))
                    .Select(row => t.Number(row, c))))]);
            }
        for (var s = 0; s < series.Count; s++) AddGroupedSeries(plot, labels[s], s, series.Count, series[s]);

        PaperStyle.Apply(plot, r.Title ?? "Utilisation per array" + PlotData.MeanNote(t, r, geometric: false), ResultTable.ShortName(t.Name(x)),
            fraction ? "Utilisation (% of peak)" : "Utilisation");
        PaperStyle.CategoryTicks(plot, categories);
        RequireSomeValue(t, "utilization", series.SelectMany(v => v));
        var max = series.SelectMany(v => v).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        plot.Axes.SetLimitsY(0, Math.Max(fraction ? 100 : max, max) * 1.08);
        plot.Axes.SetLimitsX(-0.6, categories.Count - 0.4);
        PaperStyle.ShowLegendOutside(plot);
    }

    // ---- helpers ----

    private static void AddGroupedSeries(Plot plot, string label, int s, int seriesCount, IReadOnlyList<double> values)
    {
        var width = GroupWidth / seriesCount;
        var bars = new List<Bar>();
        for (var c = 0; c < values.Count; c++)
        {
            if (!double.IsFinite(values[c])) continue;
            bars.Add(new Bar
            {
                Position = c - GroupWidth / 2 + width * (s + 0.5),
                Value = values[c],
                Size = width * 0.92,
                FillColor = PaperStyle.Colour(s),
                LineWidth = 0,
            });
        }
        var series = plot.Add.Bars(bars);
        series.LegendText = label;
        series.Color = PaperStyle.Colour(s);
    }

    private static void FinishBars(ResultTable t, string kind, Plot plot, IEnumerable<double> values, bool showLegend, double? max = null)
    {
        RequireSomeValue(t, kind, values);
        max ??= values.Where(double.IsFinite).DefaultIfEmpty(1).Max();
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, Math.Max(max.Value, 1e-300) * 1.1);
        if (showLegend) PaperStyle.ShowLegendOutside(plot);
    }

    /// <summary>A figure whose every bar is empty (no number, no baseline to divide by) is refused, not drawn.</summary>
    private static void RequireSomeValue(ResultTable t, string kind, IEnumerable<double> values)
    {
        if (!values.Any(double.IsFinite))
            throw new InputException(SourceLocation.FileOnly(t.Source), "plot " + kind,
                kind == "speedup"
                    ? "no bar has a value: no plotted row has a baseline row with a number to compare against"
                    : "no bar has a value: the value columns hold no numbers in the plotted rows");
    }

    /// <summary>The bar a row falls into: its x and group values.</summary>
    private static string Key(ResultTable t, int row, int xCol, int gCol) =>
        (xCol < 0 ? "" : t.Text(row, xCol)) + "\u0001" + (gCol < 0 ? "" : t.Text(row, gCol));

    internal sealed record Category(string Label, IReadOnlyList<int> Rows);

    /// <summary>x values (or x and group combinations, labelled on two lines) with their rows.</summary>
    private static List<Category> Categories(ResultTable t, int xCol, int gCol)
    {
        var result = new List<Category>();
        foreach (var xv in t.Distinct(xCol))
        {
            var groups = gCol < 0 ? [""] : t.Distinct(gCol);
            foreach (var g in groups)
            {
                var rows = Enumerable.Range(0, t.Count)
                    .Where(row => t.Text(row, xCol) == xv && (gCol < 0 || t.Text(row, gCol) == g)).ToList();
                if (rows.Count > 0) result.Add(new Category(g.Length == 0 ? xv : xv + "\n" + g, rows));
            }
        }
        return result;
    }

    private static string XLabel(ResultTable t, string x, string? group) =>
        ResultTable.ShortName(t.Name(x)) + (group is null ? "" : " / " + ResultTable.ShortName(t.Name(group)));

    private static List<string> DefaultEnergyParts(ResultTable t)
    {
        var energy = t.MetricInfos().Where(m => m.Kind == MetricKind.Energy).Select(m => m.Name).ToList();
        var parts = energy.Where(e => !PlotFactory.IsTotal(e)).ToList();
        if (parts.Count > 0) return parts;
        if (energy.Count > 0) return energy;
        throw Missing(t, "energy", "energy columns (--y)");
    }

    internal static string? FirstVarying(ResultTable t, string? except) =>
        t.ParameterColumns.FirstOrDefault(p => (except is null || t.Name(except) != p) && t.Distinct(t.Column(p)).Count > 1)
        ?? t.ParameterColumns.FirstOrDefault(p => except is null || t.Name(except) != p);

    internal static string FirstOfKind(ResultTable t, MetricKind kind, string plot, string what) =>
        t.MetricInfos().FirstOrDefault(m => m.Kind == kind)?.Name ?? throw Missing(t, plot, what);

    internal static InputException Missing(ResultTable t, string plot, string what) =>
        new(SourceLocation.FileOnly(t.Source), "plot " + plot, $"cannot tell which column to use: give {what}");

    private static bool Same(string a, string? b) =>
        b is not null && (a == b || (Invariant.TryParseDouble(a, out var x) && Invariant.TryParseDouble(b, out var y) && x == y));
}
