using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;
using ScottPlot;

namespace AccelSim.Experiments.Plots;

/// <summary>Roofline, Pareto front, parity and line plots (points on numeric axes, log where useful).</summary>
internal static class PointPlots
{
    public static void Roofline(Plot plot, ResultTable t, PlotRequest r)
    {
        var x = r.X ?? BarPlots.FirstOfKind(t, MetricKind.Intensity, "roofline", "the operational intensity column (--x)");
        var y = r.Y.FirstOrDefault()
                ?? t.MetricInfos().FirstOrDefault(m => m.Kind == MetricKind.Throughput && !PlotFactory.IsMachinePeak(m.Name))?.Name
                ?? throw BarPlots.Missing(t, "roofline", "the attained FLOP/s column (--y)");
        var peak = Source(t, r.Peak ?? (t.Has("peak_flops") ? "peak_flops" : null), "--peak", "peak compute in FLOP/s");
        var bandwidth = Source(t, r.Bandwidth ?? (t.Has("memory_bandwidth") ? "memory_bandwidth" : null), "--bandwidth",
            "memory bandwidth in B/s");

        PlotData.RequireNumeric(t, x, "--x");
        PlotData.RequireNumeric(t, y, "--y");
        var xCol = t.Column(x);
        var yCol = t.Column(y);
        var xs = t.Numbers(xCol);
        var ys = t.Numbers(yCol);
        var valid = Enumerable.Range(0, t.Count).Where(i => xs[i] > 0 && ys[i] > 0).ToList();
        if (valid.Count == 0) throw NoPositive(t, "roofline");

        // One roof per distinct (peak, bandwidth); labelled by group when a group owns it.
        var roofs = valid.Select(i => (Peak: peak(i), Bw: bandwidth(i))).Where(p => p.Peak > 0 && p.Bw > 0).Distinct().ToList();
        if (roofs.Count == 0)
            throw new InputException(SourceLocation.FileOnly(t.Source), "--peak", "peak and bandwidth must be positive");
        var xMin = valid.Min(i => xs[i]);
        var xMax = valid.Max(i => xs[i]);
        foreach (var roof in roofs)
        {
            xMin = Math.Min(xMin, roof.Peak / roof.Bw);
            xMax = Math.Max(xMax, roof.Peak / roof.Bw);
        }
        var lo = Math.Log10(xMin) - 0.5;
        var hi = Math.Log10(xMax) + 0.5;
        var gCol = r.Group is null ? -1 : t.Column(r.Group);
        for (var k = 0; k < roofs.Count; k++)
        {
            var (p, bw) = roofs[k];
            var ridge = Math.Log10(p / bw);
            double[] rx = [lo, ridge, hi];
            double[] ry = [Math.Log10(bw) + lo, Math.Log10(p), Math.Log10(p)];
            var line = plot.Add.ScatterLine(rx, ry, roofs.Count == 1 ? Colors.Black : PaperStyle.Colour(k).Darken(0.3));
            line.LineWidth = PaperStyle.LineWidth;
            line.LinePattern = LinePattern.Solid;
            var owners = gCol < 0 ? [] : valid.Where(i => peak(i) == p && bandwidth(i) == bw).Select(i => t.Text(i, gCol)).Distinct().ToList();
            line.LegendText = owners.Count == 1
                ? $"roof {owners[0]}"
                : $"roof {PaperStyle.Si(p)}FLOP/s, {PaperStyle.Si(bw)}B/s";
        }
        AddPointGroups(plot, t, valid, gCol, i => Math.Log10(xs[i]), i => Math.Log10(ys[i]), "measured");

        var yLo = Math.Min(valid.Min(i => Math.Log10(ys[i])), roofs.Min(rf => Math.Log10(rf.Bw) + lo));
        var yHi = roofs.Max(rf => Math.Log10(rf.Peak));
        yHi = Math.Max(yHi, valid.Max(i => Math.Log10(ys[i])));
        PaperStyle.Apply(plot, r.Title ?? "Roofline", PaperStyle.AxisLabel("Operational intensity", t.Info(x).Unit is { Length: > 0 } u ? u : "FLOP/B"),
            PaperStyle.AxisLabel("Performance", t.Info(y).Unit is { Length: > 0 } v ? v : "FLOP/s"));
        PaperStyle.LogTicks(plot.Axes.Bottom, lo, hi);
        PaperStyle.LogTicks(plot.Axes.Left, yLo, yHi);
        plot.Axes.SetLimits(lo, hi, yLo - 0.2, yHi + 0.3);
        PaperStyle.ShowLegendOutside(plot);
    }

    public static void Pareto(Plot plot, ResultTable t, PlotRequest r)
    {
        var x = r.X ?? BarPlots.FirstOfKind(t, MetricKind.Time, "pareto", "the latency column (--x)");
        var y = r.Y.FirstOrDefault()
                ?? t.MetricInfos().FirstOrDefault(m => m.Kind == MetricKind.Area)?.Name
                ?? t.MetricInfos().FirstOrDefault(m => m.Kind == MetricKind.Energy)?.Name
                ?? throw BarPlots.Missing(t, "pareto", "the area or energy column (--y)");
        PlotData.RequireNumeric(t, x, "--x");
        PlotData.RequireNumeric(t, y, "--y");
        var xs = t.Numbers(t.Column(x));
        var ys = t.Numbers(t.Column(y));
        var valid = Enumerable.Range(0, t.Count).Where(i => double.IsFinite(xs[i]) && double.IsFinite(ys[i])).ToList();
        if (valid.Count == 0) throw NoPositive(t, "pareto");

        var (xInfo, yInfo) = (t.Info(x), t.Info(y));
        var logX = UseLog(r.XScale, valid.Select(i => xs[i]));
        var logY = UseLog(r.YScale, valid.Select(i => ys[i]));
        // Log axes show SI-prefixed ticks in base units; linear axes rescale the unit instead.
        var (xf, xUnit) = logX ? PaperStyle.ToBase(xInfo.Unit) : PaperStyle.Rescale(valid.Max(i => Math.Abs(xs[i])), xInfo.Unit);
        var (yf, yUnit) = logY ? PaperStyle.ToBase(yInfo.Unit) : PaperStyle.Rescale(valid.Max(i => Math.Abs(ys[i])), yInfo.Unit);
        double Px(int i) => logX ? Math.Log10(xs[i] * xf) : xs[i] * xf;
        double Py(int i) => logY ? Math.Log10(ys[i] * yf) : ys[i] * yf;

        var gCol = r.Group is null ? -1 : t.Column(r.Group);
        AddPointGroups(plot, t, valid, gCol, Px, Py, "design points", alpha: 0.55);

        var frontLocal = Stats.ParetoFront(valid.Select(i => xs[i]).ToList(), valid.Select(i => ys[i]).ToList());
        var front = frontLocal.Select(k => valid[k]).ToList();
        var frontLine = plot.Add.Scatter(front.Select(Px).ToArray(), front.Select(Py).ToArray(), Colors.Black);
        frontLine.LineWidth = PaperStyle.LineWidth + 1;
        frontLine.MarkerSize = PaperStyle.MarkerSize + 4;
        frontLine.MarkerShape = MarkerShape.OpenCircle;
        frontLine.MarkerLineWidth = 3;
        frontLine.ConnectStyle = ConnectStyle.StepHorizontal;
        frontLine.LegendText = $"Pareto front ({front.Count} of {valid.Count})";

        PaperStyle.Apply(plot, r.Title ?? $"Pareto front: {PaperStyle.Humanize(y, yInfo).ToLowerInvariant()} vs {PaperStyle.Humanize(x, xInfo).ToLowerInvariant()}",
            PaperStyle.AxisLabel(PaperStyle.Humanize(x, xInfo), xUnit), PaperStyle.AxisLabel(PaperStyle.Humanize(y, yInfo), yUnit));
        if (logX) PaperStyle.LogTicks(plot.Axes.Bottom, valid.Min(Px), valid.Max(Px));
        if (logY) PaperStyle.LogTicks(plot.Axes.Left, valid.Min(Py), valid.Max(Py));
        PaperStyle.ShowLegendOutside(plot);
    }

    public static void Parity(Plot plot, ResultTable t, PlotRequest r)
    {
        if (r.X is null || r.Y.IsDefaultOrEmpty)
            throw BarPlots.Missing(t, "parity", "the measured column (--x) and the predicted column (--y)");
        var x = r.X;
        var y = r.Y[0];
        PlotData.RequireNumeric(t, x, "--x");
        PlotData.RequireNumeric(t, y, "--y");
        var xs = t.Numbers(t.Column(x));
        var ys = t.Numbers(t.Column(y));
        var valid = Enumerable.Range(0, t.Count).Where(i => xs[i] > 0 && ys[i] > 0).ToList();
        if (valid.Count == 0) throw NoPositive(t, "parity");

        var unit = t.Info(x).Unit;
        var log = r.XScale != AxisScale.Linear;
        var (f, shownUnit) = log ? PaperStyle.ToBase(unit) : PaperStyle.Rescale(valid.Max(i => Math.Max(xs[i], ys[i])), unit);
        double P(double v) => log ? Math.Log10(v * f) : v * f;
        var lo = valid.Min(i => Math.Min(P(xs[i]), P(ys[i])));
        var hi = valid.Max(i => Math.Max(P(xs[i]), P(ys[i])));
        var pad = log ? 0.15 * Math.Max(hi - lo, 0.3) : 0.05 * Math.Max(hi - lo, Math.Abs(hi) * 0.1 + 1e-300);
        lo -= pad;
        hi += pad;

        double[] line = [lo, hi];
        var band = log
            ? plot.Add.FillY(line, [lo + Math.Log10(0.9), hi + Math.Log10(0.9)], [lo + Math.Log10(1.1), hi + Math.Log10(1.1)])
            : plot.Add.FillY(line, [lo * 0.9, hi * 0.9], [lo * 1.1, hi * 1.1]);
        band.FillColor = PaperStyle.Colour(0).WithAlpha(0.15);
        band.LineWidth = 0;
        var within = valid.Count(i => Math.Abs(ys[i] / xs[i] - 1) <= 0.1);
        band.LegendText = $"±10% ({within} of {valid.Count} within)";

        var identity = plot.Add.ScatterLine(line, line, Colors.Black);
        identity.LineWidth = PaperStyle.LineWidth - 1;
        identity.LinePattern = LinePattern.Dashed;
        identity.LegendText = "y = x";

        var gCol = r.Group is null ? -1 : t.Column(r.Group);
        AddPointGroups(plot, t, valid, gCol, i => P(xs[i]), i => P(ys[i]), "points");

        var geo = Stats.GeoMean(valid.Select(i => ys[i] / xs[i]));
        PaperStyle.Apply(plot, r.Title ?? $"Predicted vs measured (geomean ratio {Invariant.Sig(geo, 3)})",
            PaperStyle.AxisLabel(Role("Measured", PaperStyle.Humanize(x, t.Info(x))), shownUnit),
            PaperStyle.AxisLabel(Role("Predicted", PaperStyle.Humanize(y, t.Info(y))), shownUnit));
        if (log)
        {
            PaperStyle.LogTicks(plot.Axes.Bottom, lo, hi);
            PaperStyle.LogTicks(plot.Axes.Left, lo, hi);
        }
        plot.Axes.SetLimits(lo, hi, lo, hi);
        PaperStyle.ShowLegendOutside(plot);
    }

    public static void Line(Plot plot, ResultTable t, PlotRequest r)
    {
        var x = r.X ?? BarPlots.FirstVarying(t, r.Group) ?? throw BarPlots.Missing(t, "line", "the x column (--x)");
        var ys = !r.Y.IsDefaultOrEmpty ? r.Y.ToList()
            : [t.MetricInfos().FirstOrDefault(m => m.IsNumeric)?.Name ?? throw BarPlots.Missing(t, "line", "the y column (--y)")];
        var xCol = t.Column(x);
        if (!t.IsNumeric(xCol))
            throw new InputException(SourceLocation.FileOnly(t.Source), "--x", $"'{x}' is not numeric; use a bar plot kind for categories");
        foreach (var y in ys) PlotData.RequireNumeric(t, y, "--y");
        var gCol = r.Group is null ? -1 : t.Column(r.Group);
        var groups = gCol < 0 ? [""] : t.Distinct(gCol);
        var xsAll = t.Numbers(xCol);
        PlotData.RefuseBlending(t, r, "line", Enumerable.Range(0, t.Count),
            row => double.IsFinite(xsAll[row])
                ? (Invariant.Num(xsAll[row]) + "\u0001" + (gCol < 0 ? "" : t.Text(row, gCol)),
                    PlotData.Label(t, (xCol, t.Text(row, xCol)), (gCol, gCol < 0 ? "" : t.Text(row, gCol))))
                : null,
            x, r.Group);
        var allY = ys.SelectMany(y => t.Numbers(t.Column(y))).Where(double.IsFinite).ToList();
        var logX = UseLog(r.XScale, xsAll.Where(double.IsFinite));
        var logY = UseLog(r.YScale, allY);
        var unit = t.Info(ys[0]).Unit;
        var (yf, yUnit) = logY ? PaperStyle.ToBase(unit) : PaperStyle.Rescale(allY.Select(Math.Abs).DefaultIfEmpty(0).Max(), unit);

        var s = 0;
        var plotted = 0;
        foreach (var g in groups)
            foreach (var y in ys)
            {
                var yCol = t.Column(y);
                var rows = Enumerable.Range(0, t.Count)
                    .Where(i => (gCol < 0 || t.Text(i, gCol) == g) && double.IsFinite(xsAll[i]) && double.IsFinite(t.Number(i, yCol)))
                    .OrderBy(i => xsAll[i]).ToList();
                // Several rows per x (other parameters varying) are averaged geometrically.
                var points = rows.GroupBy(i => xsAll[i])
                    .Select(grp => (X: grp.Key, Y: Stats.GeoMean(grp.Select(i => t.Number(i, yCol))) is var gm && double.IsFinite(gm)
                        ? gm : Stats.Mean(grp.Select(i => t.Number(i, yCol)))))
                    .Where(p => (!logX || p.X > 0) && (!logY || p.Y > 0)).ToList();
                plotted += points.Count;
                var scatter = plot.Add.Scatter(points.Select(p => logX ? Math.Log10(p.X) : p.X).ToArray(),
                    points.Select(p => logY ? Math.Log10(p.Y * yf) : p.Y * yf).ToArray(), PaperStyle.Colour(s));
                scatter.LineWidth = PaperStyle.LineWidth;
                scatter.MarkerSize = PaperStyle.MarkerSize;
                scatter.MarkerShape = PaperStyle.Marker(s);
                scatter.LegendText = (g.Length > 0 ? g + (ys.Count > 1 ? " " : "") : "") +
                                     (ys.Count > 1 || g.Length == 0 ? PaperStyle.Humanize(y, t.Info(y)) : "");
                s++;
            }
        if (plotted == 0)
            throw new InputException(SourceLocation.FileOnly(t.Source), "plot line",
                "no point to draw: no plotted row has numbers in both the x and the y columns" + (logY || logX ? " (positive ones, for a log axis)" : ""));
        PaperStyle.Apply(plot, r.Title ?? $"{PaperStyle.Humanize(ys[0], t.Info(ys[0]))} vs {ResultTable.ShortName(t.Name(x))}{PlotData.MeanNote(t, r, geometric: true)}",
            ResultTable.ShortName(t.Name(x)), PaperStyle.AxisLabel(ys.Count == 1 ? PaperStyle.Humanize(ys[0], t.Info(ys[0])) : "Value", yUnit));
        // A sweep axis has few distinct values: tick exactly those.
        var distinctX = xsAll.Where(v => double.IsFinite(v) && (!logX || v > 0)).Distinct().Order().ToList();
        if (distinctX.Count <= 12)
            plot.Axes.Bottom.SetTicks([.. distinctX.Select(v => logX ? Math.Log10(v) : v)],
                [.. distinctX.Select(v => logX ? PaperStyle.Si(v) : Invariant.Num(v))]);
        else if (logX) PaperStyle.LogTicks(plot.Axes.Bottom, Math.Log10(distinctX[0]), Math.Log10(distinctX[^1]));
        if (logY)
        {
            var positive = allY.Where(v => v > 0).Select(v => Math.Log10(v * yf)).ToList();
            if (positive.Count > 0) PaperStyle.LogTicks(plot.Axes.Left, positive.Min(), positive.Max());
        }
        PaperStyle.ShowLegendOutside(plot);
    }

    // ---- helpers ----

    /// <summary>"Measured latency", unless the column name already says so.</summary>
    private static string Role(string role, string name) =>
        name.Contains(role, StringComparison.OrdinalIgnoreCase) ? name : role + " " + name.ToLowerInvariant();

    private static void AddPointGroups(Plot plot, ResultTable t, IReadOnlyList<int> rows, int gCol,
        Func<int, double> px, Func<int, double> py, string ungroupedLabel, double alpha = 0.9)
    {
        var groups = gCol < 0 ? [""] : rows.Select(i => t.Text(i, gCol)).Distinct().ToList();
        for (var s = 0; s < groups.Count; s++)
        {
            var mine = rows.Where(i => gCol < 0 || t.Text(i, gCol) == groups[s]).ToList();
            var points = plot.Add.ScatterPoints(mine.Select(px).ToArray(), mine.Select(py).ToArray(), PaperStyle.Colour(s).WithAlpha(alpha));
            points.MarkerSize = PaperStyle.MarkerSize;
            points.MarkerShape = PaperStyle.Marker(s);
            points.LegendText = groups[s].Length == 0 ? ungroupedLabel : groups[s];
        }
    }

    /// <summary>A per-row value: a number written on the command line, or a column.</summary>
    private static Func<int, double> Source(ResultTable t, string? spec, string field, string what)
    {
        if (spec is null)
            throw new InputException(SourceLocation.FileOnly(t.Source), field, $"the roofline needs {what}: a number or a column");
        if (Invariant.TryParseDouble(spec, out var constant)) return _ => constant;
        var c = t.Column(spec, field);
        return i => t.Number(i, c);
    }

    /// <summary>Auto: log when the values are positive and span more than 100x, or more than 8x in a geometric
    /// progression (a `factor:` range such as 256, 512, ... 4096).</summary>
    private static bool UseLog(AxisScale scale, IEnumerable<double> values)
    {
        if (scale != AxisScale.Auto) return scale == AxisScale.Log;
        var list = values.Where(double.IsFinite).Distinct().Order().ToList();
        if (list.Count < 2 || list[0] <= 0) return false;
        var span = list[^1] / list[0];
        if (span > 100) return true;
        if (span < 8 || list.Count < 3) return false;
        var ratios = list.Zip(list.Skip(1), (a, b) => b / a).ToList();
        return ratios.Max() / ratios.Min() < 1.01;
    }

    private static InputException NoPositive(ResultTable t, string kind) =>
        new(SourceLocation.FileOnly(t.Source), "plot " + kind, "no row has positive numbers in both columns");
}
