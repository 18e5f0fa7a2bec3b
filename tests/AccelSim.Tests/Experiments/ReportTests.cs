using AccelSim.Core;
using AccelSim.Experiments.Reports;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

public class ReportTests
{
    [Fact]
    public void SweepReportHasSummaryHeadlinePlotsTablesAndFailures()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, "parameters:\n  grid:\n    workload.seq_len: [13, 256, 1024, 4096]\n    arch.clock_hz: [1e9, 2e9]\n");
        var outDir = dir.File("out");
        SweepRunner.Run(spec, poly, new SweepRunOptions(outDir));

        var result = MarkdownReport.Write(outDir);
        var md = File.ReadAllText(result.ReportPath);
        Assert.Equal(Path.Combine(outDir, "report.md"), result.ReportPath);
        Assert.StartsWith("# Sweep report: poly\n", md);
        Assert.Contains("| Points | 16; 12 succeeded, 4 failed |", md);
        Assert.Contains("| `workload.seq_len` | 13, 256, 1024, 4096 | 4 |", md);
        Assert.Contains("| `latency_s` | s | lower | latency |", md);
        Assert.Contains("### Best point per metric", md);
        Assert.Contains("## Failures", md);
        Assert.Contains("unlucky sequence length", md);

        // Speedup headline: geometric and arithmetic means of small/big over the successful points.
        var table = ResultTable.Load(Path.Combine(outDir, "results.csv")).Succeeded();
        var lat = table.Column("latency_s");
        var speedups = Enumerable.Range(0, table.Count).Where(r => table.Text(r, 2) == "big").Select(r =>
        {
            var twin = Enumerable.Range(0, table.Count).Single(b => table.Text(b, 2) == "small" && table.Text(b, 3) == table.Text(r, 3) && table.Text(b, 4) == table.Text(r, 4));
            return table.Number(twin, lat) / table.Number(r, lat);
        }).ToList();
        Assert.Equal(6, speedups.Count);
        var geo = Math.Exp(speedups.Average(Math.Log));
        Assert.Contains($"| big | {Invariant.Sig(geo, 4)} | {Invariant.Sig(speedups.Average(), 4)} | {Invariant.Sig(speedups.Min(), 4)} | {Invariant.Sig(speedups.Max(), 4)} | 6 |", md);
        Assert.Contains("### `energy_pJ` relative to arch=small (point / baseline)", md);

        // Default plots are drawn and linked.
        Assert.NotEmpty(result.Plots);
        foreach (var plot in result.Plots)
        {
            Assert.True(File.Exists(plot));
            Assert.Contains("](plots/" + Path.GetFileName(plot) + ")", md);
        }
        Assert.Empty(result.SkippedPlots);

        // Deterministic: a second report is identical and does not redraw up-to-date plots.
        var stamp = File.GetLastWriteTimeUtc(result.Plots[0]);
        Assert.Equal(md, File.ReadAllText(MarkdownReport.Write(outDir).ReportPath));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(result.Plots[0]));
    }

    [Fact]
    public void PlainCsvWithoutSweepMetadataGetsInferredUnits()
    {
        using var dir = new TempDir();
        dir.Write("attention.csv", """
            model,seq_len,arch,latency_s,energy_pJ,util_2d,util_1d
            BERT,1024,flat,0.0134,2.49e12,0.125,1
            BERT,1024,fusemax,0.00201,1.95e12,0.89,1
            BERT,4096,flat,0.214,3.98e13,0.125,1
            BERT,4096,fusemax,0.0297,3.09e13,0.965,1
            """);
        var result = MarkdownReport.Write(dir.Path, new ReportOptions { CsvFileName = "attention.csv" });
        Assert.EndsWith("attention.md", result.ReportPath);
        var md = File.ReadAllText(result.ReportPath);
        Assert.StartsWith("# Results: attention.csv", md);
        Assert.Contains("| `latency_s` | lowest | 0.00201 s | model=BERT, seq_len=1024, arch=fusemax |", md);
        Assert.Contains("| 4096 | fusemax | 0.0297 |", md);
        Assert.Contains(result.Plots, p => Path.GetFileName(p).StartsWith("attention-utilization", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingFolderOrCsvIsAnInputError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InputException>(() => MarkdownReport.Write(dir.File("none")));
        Assert.Contains("folder not found", e.OneLine);
        e = Assert.Throws<InputException>(() => MarkdownReport.Write(dir.Path));
        Assert.Contains("results.csv: not found", e.OneLine);
    }

    [Fact]
    public void CellsUseSignificantDigitsAndKeepIntegers()
    {
        Assert.Equal("0.001235", MarkdownReport.FormatCell("0.0012345678", 4));
        Assert.Equal("1.235e+09", MarkdownReport.FormatCell("1234567890.5", 4));
        Assert.Equal("4096", MarkdownReport.FormatCell("4096", 4));
        Assert.Equal("fusemax", MarkdownReport.FormatCell("fusemax", 4));
    }
}
