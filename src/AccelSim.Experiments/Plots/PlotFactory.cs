using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;
using ScottPlot;

namespace AccelSim.Experiments.Plots;

/// <summary>
/// Builds and saves plots of a <see cref="ResultTable"/>. This is the API other verbs use:
/// <code>
/// var table = ResultTable.Load("results/fusemax/attention.csv");
/// PlotFactory.Render(table, new PlotRequest { Kind = PlotKind.Speedup, X = "seq_len", Group = "arch", MeanOver = ["model"],
///     Y = ["latency_s"], Baseline = [new("arch", "flat")] }, "results/fusemax/speedup.png");
/// </code>
/// Failed rows (non-empty `error`) are left out; `Where` filters apply first.
/// </summary>
public static class PlotFactory
{
    /// <summary>Builds the ScottPlot figure (not yet saved); tests inspect its plottables.</summary>
    public static Plot Build(ResultTable table, PlotRequest request)
    {
        foreach (var column in request.ReferencedColumns()) table.Column(column, "plot");
        var rows = table.Succeeded().Where(request.Where);
        if (rows.Count == 0)
            throw new InputException(SourceLocation.FileOnly(table.Source), "plot",
                "no rows to plot (every row failed or the --where filters removed them all)");
        var plot = new Plot();
        switch (request.Kind)
        {
            case PlotKind.Speedup: BarPlots.Speedup(plot, rows, request); break;
            case PlotKind.Energy: BarPlots.Energy(plot, rows, request); break;
            case PlotKind.Utilization: BarPlots.Utilization(plot, rows, request); break;
            case PlotKind.Roofline: PointPlots.Roofline(plot, rows, request); break;
            case PlotKind.Pareto: PointPlots.Pareto(plot, rows, request); break;
            case PlotKind.Parity: PointPlots.Parity(plot, rows, request); break;
            case PlotKind.Line: PointPlots.Line(plot, rows, request); break;
            default: throw new ArgumentOutOfRangeException(nameof(request));
        }
        return plot;
    }

    /// <summary>Writes a PNG or SVG (chosen by the extension) and returns the full path. <paramref name="field"/>
    /// names where the path came from in errors (null: a path the caller chose).</summary>
    public static string Save(Plot plot, string path, int width = 1200, int height = 800, string? field = "--out")
    {
        var full = Path.GetFullPath(path);
        var ext = Path.GetExtension(full).ToLowerInvariant();
        if (ext is not (".png" or ".svg"))
            throw new InputException(null, field ?? "plot", $"plot file must end in .png or .svg, got '{path}'");
        try
        {
            var dir = Path.GetDirectoryName(full);
            if (dir is not null) Directory.CreateDirectory(dir);
            if (ext == ".png") plot.SavePng(full, width, height);
            else plot.SaveSvg(full, width, height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder on the path is a regular file, or the place is not writable: the user's path to fix.
            throw new InputException(SourceLocation.FileOnly(path), field, "cannot write the plot: " + e.Message.ReplaceLineEndings(" "));
        }
        return full;
    }

    public static string Render(ResultTable table, PlotRequest request, string path)
    {
        using var plot = Build(table, request);
        return Save(plot, path, request.Width, request.Height);
    }

    /// <summary>
    /// Plots worth drawing for a sweep's results when the sweep declares none: speedup over the baseline,
    /// the energy breakdown, utilisation, and a roofline or Pareto front when the metrics allow.
    /// </summary>
    public static IReadOnlyList<PlotRequest> DefaultRequests(ResultTable table)
    {
        const int maxGroups = 8;
        const int maxBarCategories = 16;
        var requests = new List<PlotRequest>();
        var parameters = table.ParameterColumns;
        var metrics = table.MetricInfos().ToList();
        int Distinct(string column) => table.Distinct(table.Column(column)).Count;
        var varying = parameters.Where(p => Distinct(p) > 1).ToList();
        var time = metrics.FirstOrDefault(m => m.Kind == MetricKind.Time);
        var baseline = table.Baseline;
        // Series: the baseline parameter, else the first parameter with a handful of values.
        var group = baseline.Length == 1 && Distinct(baseline[0].Key) <= maxGroups
            ? baseline[0].Key
            : varying.FirstOrDefault(p => Distinct(p) <= maxGroups && p != varying.FirstOrDefault(q => Distinct(q) > maxGroups));
        var x = varying.FirstOrDefault(p => p != group);
        var bars = x is not null && Distinct(x) <= maxBarCategories;

        if (time is not null && !baseline.IsEmpty && (x is null || bars))
            requests.Add(new PlotRequest { Kind = PlotKind.Speedup, X = x, Group = group, Y = [time.Name] });

        var energy = metrics.Where(m => m.Kind == MetricKind.Energy).ToList();
        var parts = energy.Where(m => !IsTotal(m.Name)).ToList();
        if (parts.Count >= 2 && x is not null && bars)
            requests.Add(new PlotRequest { Kind = PlotKind.Energy, X = x, Group = group, Y = [.. parts.Select(m => m.Name)] });

        var util = metrics.Where(m => m.Kind == MetricKind.Utilization).ToList();
        if (util.Count > 0 && x is not null)
            requests.Add(bars
                ? new PlotRequest { Kind = PlotKind.Utilization, X = x, Group = group, Y = [.. util.Select(m => m.Name)] }
                : new PlotRequest { Kind = PlotKind.Line, X = x, Group = group, Y = [.. util.Select(m => m.Name)], YScale = AxisScale.Linear });

        var intensity = metrics.FirstOrDefault(m => m.Kind == MetricKind.Intensity);
        var attained = metrics.FirstOrDefault(m => m.Kind == MetricKind.Throughput && !IsMachinePeak(m.Name));
        if (intensity is not null && attained is not null && table.Has("peak_flops") && table.Has("memory_bandwidth"))
            requests.Add(new PlotRequest { Kind = PlotKind.Roofline, X = intensity.Name, Y = [attained.Name], Group = group });

        var cost = metrics.FirstOrDefault(m => m.Kind == MetricKind.Area) ?? energy.FirstOrDefault(m => IsTotal(m.Name)) ?? energy.FirstOrDefault();
        if (time is not null && cost is not null)
            requests.Add(new PlotRequest { Kind = PlotKind.Pareto, X = time.Name, Y = [cost.Name], Group = group });

        if (time is not null && x is not null && !bars && table.IsNumeric(table.Column(x)))
            requests.Add(new PlotRequest { Kind = PlotKind.Line, X = x, Group = group, Y = [time.Name] });
        if (requests.Count == 0 && x is not null && table.IsNumeric(table.Column(x)) && metrics.FirstOrDefault(m => m.IsNumeric) is { } first)
            requests.Add(new PlotRequest { Kind = PlotKind.Line, X = x, Y = [first.Name], Group = group });

        // A bar or line point stands for every row with its x and group: the other varying parameters are averaged
        // over, and say so (the plot names them in its title) rather than being blended silently.
        var others = varying.Where(p => p != x && p != group).ToList();
        return others.Count == 0 ? requests
            : [.. requests.Select(r => r.Kind is PlotKind.Speedup or PlotKind.Energy or PlotKind.Utilization or PlotKind.Line
                ? r with { MeanOver = [.. others] }
                : r)];
    }

    internal static bool IsTotal(string metric)
    {
        var s = ResultTable.ShortName(metric).ToLowerInvariant();
        return s is "energy" or "energy_pj" or "energy_j" or "total_energy" || s.StartsWith("energy_total", StringComparison.Ordinal) ||
               s.StartsWith("total_energy", StringComparison.Ordinal);
    }

    internal static bool IsMachinePeak(string metric)
    {
        var s = ResultTable.ShortName(metric).ToLowerInvariant();
        return s.StartsWith("peak", StringComparison.Ordinal) || s.Contains("bandwidth", StringComparison.Ordinal);
    }
}
