using System.Text;
using AccelSim.Core;
using AccelSim.Experiments.Plots;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Experiments.Reports;

public sealed record ReportOptions
{
    /// <summary>The CSV inside the folder (default results.csv).</summary>
    public string CsvFileName { get; init; } = SweepMetadata.ResultsFileName;

    /// <summary>The report file inside the folder (default report.md; `results.csv` -> `report.md`, `x.csv` -> `x.md`).</summary>
    public string? ReportFileName { get; init; }

    /// <summary>Plots to draw; empty: the sweep's `plots:`, else <see cref="PlotFactory.DefaultRequests"/>.</summary>
    public IReadOnlyList<PlotRequest> Plots { get; init; } = [];

    /// <summary>Redraw plots even when they are newer than the CSV.</summary>
    public bool RedrawPlots { get; init; }

    /// <summary>At most this many result rows are listed (all of them stay in the CSV).</summary>
    public int MaxTableRows { get; init; } = 100;

    public int SignificantDigits { get; init; } = 4;
}

public sealed record ReportResult(string ReportPath, IReadOnlyList<string> Plots, IReadOnlyList<string> SkippedPlots);

/// <summary>
/// `accelsim report DIR`: one Markdown file per results folder with the sweep summary, headline statistics
/// (best point per metric, speedups and ratios over the baseline with geometric and arithmetic means),
/// links to plots (drawn into DIR/plots/ when missing or older than the CSV) and the results table.
/// Numbers use invariant culture and a fixed number of significant digits.
/// </summary>
public static class MarkdownReport
{
    public static ReportResult Write(string dir, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        if (!Directory.Exists(dir)) throw new InputException(SourceLocation.FileOnly(dir), null, "folder not found");
        var csv = Path.Combine(dir, options.CsvFileName);
        if (!File.Exists(csv))
            throw new InputException(SourceLocation.FileOnly(csv), null, "not found (run `accelsim sweep ... --out DIR` first)");
        var table = ResultTable.Load(csv);
        var reportName = options.ReportFileName ??
                         (options.CsvFileName == SweepMetadata.ResultsFileName ? "report.md" : Path.ChangeExtension(options.CsvFileName, ".md"));

        var requests = options.Plots.Count > 0 ? options.Plots
            : table.Metadata is { Plots.IsDefaultOrEmpty: false } md ? md.Plots
            : PlotFactory.DefaultRequests(table.Succeeded());
        var plotDir = Path.Combine(dir, "plots");
        var drawn = new List<(PlotRequest Request, string Relative)>();
        var skipped = new List<string>();
        var prefix = options.CsvFileName == SweepMetadata.ResultsFileName ? "" : Path.GetFileNameWithoutExtension(options.CsvFileName) + "-";
        foreach (var request in requests)
        {
            var file = prefix + request.DefaultFileName();
            var path = Path.Combine(plotDir, file);
            if (options.RedrawPlots || !File.Exists(path) || File.GetLastWriteTimeUtc(path) < File.GetLastWriteTimeUtc(csv))
            {
                // A plot the data cannot support (no succeeded row, no baseline row) is skipped and said so; a plot
                // that cannot be written is an error like any other.
                ScottPlot.Plot plot;
                try
                {
                    plot = PlotFactory.Build(table, request);
                }
                catch (InputException e)
                {
                    skipped.Add($"{PlotRequest.KindName(request.Kind)}: {e.Problem}");
                    continue;
                }
                using (plot) PlotFactory.Save(plot, path, request.Width, request.Height, field: null);
            }
            drawn.Add((request, "plots/" + file));
        }

        var markdown = Build(table, drawn, skipped, options);
        var reportPath = Path.Combine(dir, reportName);
        try
        {
            File.WriteAllText(reportPath, markdown, ResultsFile.Utf8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException(SourceLocation.FileOnly(reportPath), null, "cannot write the report: " + e.Message.ReplaceLineEndings(" "));
        }
        return new ReportResult(reportPath, [.. drawn.Select(d => Path.Combine(dir, d.Relative))], skipped);
    }

    /// <summary>The report text (deterministic for given inputs).</summary>
    public static string Build(ResultTable table, IReadOnlyList<(PlotRequest Request, string Relative)> plots,
        IReadOnlyList<string> skippedPlots, ReportOptions options)
    {
        var md = table.Metadata;
        var digits = options.SignificantDigits;
        var ok = table.Succeeded();
        var failed = table.FailedCount();
        var sb = new StringBuilder();
        sb.Append("# ").Append(md is null ? "Results: " + Path.GetFileName(table.Source) : "Sweep report: " + md.Name).Append("\n\n");
        if (md is { Description.Length: > 0 }) sb.Append(md.Description.Trim()).Append("\n\n");

        // ---- summary ----
        var summary = new List<string[]>();
        if (md is not null)
        {
            summary.Add(["Sweep file", Code(md.SweepFile)]);
            summary.Add(["Engine", Code(md.Engine)]);
            foreach (var f in md.Files) summary.Add([f.Name.Replace(":", " "), Code(f.Value)]);
            var coverage = table.Count == md.PointCount ? "" : $" of {Invariant.Grouped(md.PointCount)} in the sweep ({(md.Shard is null ? "incomplete" : "shard " + md.Shard)})";
            summary.Add(["Points", $"{Invariant.Grouped(table.Count)}{coverage}; {Invariant.Grouped(ok.Count)} succeeded, {Invariant.Grouped(failed)} failed"]);
            summary.Add(["Spec hash", Code(md.SpecHash[..Math.Min(16, md.SpecHash.Length)])]);
            if (!md.Baseline.IsEmpty) summary.Add(["Baseline", string.Join(", ", md.Baseline.Select(b => Code(b.Name + "=" + b.Value)))]);
            if (!md.Fixed.IsEmpty) summary.Add(["Fixed", string.Join(", ", md.Fixed.Select(f => Code(f.Name + "=" + f.Value)))]);
            if (!md.Options.IsEmpty) summary.Add(["Options", string.Join(", ", md.Options.Select(f => Code(f.Name + "=" + f.Value)))]);
        }
        else
        {
            summary.Add(["File", Code(Path.GetFileName(table.Source))]);
            summary.Add(["Rows", $"{Invariant.Grouped(table.Count)}; {Invariant.Grouped(ok.Count)} succeeded, {Invariant.Grouped(failed)} failed"]);
        }
        Table(sb, ["", ""], summary);

        if (md is not null)
        {
            sb.Append("## Parameters\n\n");
            Table(sb, ["parameter", "values", "count"], md.Parameters.Select(p => new[]
            {
                Code(p.Name),
                string.Join(", ", p.Values.Take(12).Select(v => FormatCell(v, digits))) + (p.Count > 12 ? ", …" : ""),
                Invariant.Grouped(p.Count),
            }).ToList());
            sb.Append("## Metrics\n\n");
            Table(sb, ["metric", "unit", "better", "meaning"], md.Metrics.Select(m =>
            {
                var info = new MetricInfo(m.Name, m.Unit, m.Kind, m.Description);
                return new[] { Code(m.Name), m.Unit, info.Better == Better.None ? "" : info.Better.ToString().ToLowerInvariant(), m.Description };
            }).ToList());
        }

        // ---- headline ----
        sb.Append("## Headline\n\n");
        Headline(sb, ok, digits);

        // ---- plots ----
        if (plots.Count > 0 || skippedPlots.Count > 0)
        {
            sb.Append("## Plots\n\n");
            foreach (var (request, relative) in plots)
                sb.Append("![").Append(PlotRequest.KindName(request.Kind)).Append("](").Append(relative).Append(")\n\n");
            foreach (var s in skippedPlots) sb.Append("- plot skipped: ").Append(Escape(s)).Append('\n');
            if (skippedPlots.Count > 0) sb.Append('\n');
        }

        // ---- results ----
        sb.Append("## Results\n\n");
        var columns = table.Columns.Where(c => c != SweepSpec.IdColumn && (c != SweepSpec.ErrorColumn || failed > 0)).ToList();
        var shown = Math.Min(options.MaxTableRows, table.Count);
        if (shown < table.Count)
            sb.Append($"First {Invariant.Grouped(shown)} of {Invariant.Grouped(table.Count)} rows (all rows are in `{Path.GetFileName(table.Source)}`).\n\n");
        Table(sb, columns, Enumerable.Range(0, shown)
            .Select(r => columns.Select(c => FormatCell(table.Text(r, table.Column(c)), digits)).ToArray()).ToList());

        if (failed > 0)
        {
            sb.Append("## Failures\n\n");
            var errorCol = table.Column(SweepSpec.ErrorColumn);
            var indexCol = table.Has(SweepSpec.IndexColumn) ? table.Column(SweepSpec.IndexColumn) : -1;
            foreach (var r in Enumerable.Range(0, table.Count).Where(r => table.Text(r, errorCol).Length > 0).Take(20))
                sb.Append("- ").Append(indexCol >= 0 ? "point " + table.Text(r, indexCol) + ": " : "").Append(Escape(table.Text(r, errorCol))).Append('\n');
            if (failed > 20) sb.Append($"- … and {Invariant.Grouped(failed - 20)} more\n");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void Headline(StringBuilder sb, ResultTable ok, int digits)
    {
        if (ok.Count == 0)
        {
            sb.Append("No point succeeded.\n\n");
            return;
        }
        var parameters = ok.ParameterColumns;
        var metrics = ok.MetricInfos().Where(m => m.IsNumeric).ToList();

        var best = new List<string[]>();
        foreach (var m in metrics.Where(m => m.Better != Better.None))
        {
            var c = ok.Column(m.Name);
            var rows = Enumerable.Range(0, ok.Count).Where(r => double.IsFinite(ok.Number(r, c))).ToList();
            if (rows.Count == 0) continue;
            var r0 = m.Better == Better.Lower ? rows.MinBy(r => ok.Number(r, c)) : rows.MaxBy(r => ok.Number(r, c));
            best.Add([Code(m.Name), m.Better == Better.Lower ? "lowest" : "highest", Num(ok.Number(r0, c), digits) + Unit(m.Unit),
                string.Join(", ", parameters.Select(p => ResultTable.ShortName(p) + "=" + FormatCell(ok.Text(r0, ok.Column(p)), digits)))]);
        }
        if (best.Count > 0)
        {
            sb.Append("### Best point per metric\n\n");
            Table(sb, ["metric", "", "value", "point"], best);
        }

        var baseline = ok.Baseline;
        if (baseline.IsEmpty) return;
        BaselineComparison comparison;
        try
        {
            comparison = BaselineComparison.Create(ok, baseline, parameters);
        }
        catch (InputException e)
        {
            sb.Append("Baseline comparison unavailable: ").Append(Escape(e.Problem)).Append("\n\n");
            return;
        }
        // One line per value of the (single) baseline parameter, e.g. each arch against arch=flat.
        var groupCol = baseline.Length == 1 ? ok.Column(baseline[0].Key) : -1;
        var groups = groupCol < 0 ? ["all"] : ok.Distinct(groupCol).Where(g => g != baseline[0].Value).ToList();
        // Speedup of the primary (first) time metric; ratios of every energy, traffic and area metric.
        var primaryTime = metrics.FirstOrDefault(m => m.Kind == MetricKind.Time);
        foreach (var m in metrics.Where(m => m == primaryTime || m.Kind is MetricKind.Energy or MetricKind.Traffic or MetricKind.Area))
        {
            var c = ok.Column(m.Name);
            var speedup = m.Kind == MetricKind.Time;
            var rowsOut = new List<string[]>();
            foreach (var g in groups)
            {
                var values = Enumerable.Range(0, ok.Count)
                    .Where(r => !comparison.IsBaselineRow(r) && (groupCol < 0 || ok.Text(r, groupCol) == g))
                    .Select(r => speedup ? comparison.Speedup(r, c) : comparison.Ratio(r, c))
                    .Where(v => double.IsFinite(v)).ToList();
                if (values.Count == 0) continue;
                rowsOut.Add([g, Num(Stats.GeoMean(values), digits), Num(Stats.Mean(values), digits),
                    Num(values.Min(), digits), Num(values.Max(), digits), Invariant.Grouped(values.Count)]);
            }
            if (rowsOut.Count == 0) continue;
            sb.Append(speedup
                ? $"### Speedup over {comparison.Label} ({Code(m.Name)}: baseline / point)\n\n"
                : $"### {Code(m.Name)} relative to {comparison.Label} (point / baseline)\n\n");
            Table(sb, [groupCol < 0 ? "points" : ResultTable.ShortName(ok.Columns[groupCol]), "geomean", "mean", "min", "max", "n"], rowsOut);
        }
    }

    // ---- Markdown helpers ----

    private static void Table(StringBuilder sb, IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        sb.Append("| ").Append(string.Join(" | ", header.Select(Escape))).Append(" |\n");
        sb.Append('|').Append(string.Join("|", header.Select(_ => "---"))).Append("|\n");
        foreach (var row in rows) sb.Append("| ").Append(string.Join(" | ", row.Select(EscapeCell))).Append(" |\n");
        sb.Append('\n');
    }

    private static string Code(string text) => "`" + text.Replace("`", "'") + "`";

    private static string Unit(string unit) => unit is "" or "fraction" ? "" : " " + unit;

    // A mean over no positive value has no value: say so rather than print NaN.
    private static string Num(double v, int digits) => double.IsFinite(v) ? Invariant.Sig(v, digits) : "n/a";

    /// <summary>Numbers to <paramref name="digits"/> significant digits; integers below a million stay exact.</summary>
    public static string FormatCell(string cell, int digits)
    {
        if (!Invariant.TryParseDouble(cell, out var v) || cell.Length == 0) return cell;
        if (v == Math.Floor(v) && Math.Abs(v) < 1e6) return Invariant.Num(v);
        return Invariant.Sig(v, digits);
    }

    private static string Escape(string text) => text.Replace("|", "\\|").ReplaceLineEndings(" ");

    // Backticked cells are already safe; everything else gets pipes escaped.
    private static string EscapeCell(string text) => text.StartsWith('`') ? text : Escape(text);
}
