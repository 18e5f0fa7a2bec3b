using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

/// <summary>
/// Report and plot inputs: a sweep folder's results.csv is checked row by row before anything is drawn or
/// averaged, so an edited or corrupt folder is one located error (exit 2), and no file ever gets NaN or Infinity.
/// </summary>
public class ResultsInputTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    /// <summary>A finished poly sweep (8 points, 6 succeed) in DIR/run; returns its results.csv.</summary>
    private static string Folder(TempDir dir)
    {
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, "parameters:\n  grid:\n    workload.seq_len: [256, 13, 1024, 2048]\n");
        var result = SweepRunner.Run(spec, poly, new SweepRunOptions(dir.File("run")));
        Assert.True(result.Completed);
        return result.ResultsPath;
    }

    private static void SetCell(string results, int row, string column, string value)
    {
        var lines = File.ReadAllText(results).TrimEnd('\n').Split('\n');
        var c = Array.IndexOf(ResultsFile.SplitLine(lines[0], out _)!, column);
        var fields = ResultsFile.SplitLine(lines[row + 1], out _)!;
        fields[c] = value;
        lines[row + 1] = ResultsFile.FormatLine(fields);
        File.WriteAllText(results, string.Join("\n", lines) + "\n");
    }

    [Theory]
    [InlineData("abc", "latency_s: 'abc' is not a number")]
    [InlineData("NaN", "latency_s: 'NaN' is not a finite number")]
    [InlineData("-Infinity", "latency_s: '-Infinity' is not a finite number")]
    [InlineData("1e999", "latency_s: '1e999' is not a finite number")]
    public void AMetricCellThatIsNotAFiniteNumberIsALocatedErrorForReportAndPlot(string cell, string problem)
    {
        using var dir = new TempDir();
        var results = Folder(dir);
        SetCell(results, 2, "latency_s", cell);
        var e = Assert.Throws<InputException>(() => ResultTable.Load(results));
        Assert.Equal($"{results}:4:1: row 3: {problem}", e.OneLine);

        var (code, _, err) = Cli("report", dir.File("run"));
        Assert.Equal(2, code);
        Assert.Equal(e.OneLine, err.TrimEnd('\n'));
        Assert.False(File.Exists(dir.File("run/report.md")));
        (code, _, err) = Cli("plot", "line", "--in", dir.File("run"), "--x", "seq_len", "--y", "latency_s", "--group", "arch",
            "--out", dir.File("p.svg"));
        Assert.Equal(2, code);
        Assert.Equal(e.OneLine, err.TrimEnd('\n'));
        Assert.False(File.Exists(dir.File("p.svg")));
    }

    [Fact]
    public void AFailedRowsEmptyMetricsAndATextMetricAreFine()
    {
        using var dir = new TempDir();
        var results = Folder(dir);
        SetCell(results, 0, "label", "NaN? no: a text metric holds any text");
        var table = ResultTable.Load(results);
        Assert.Equal(8, table.Count);
        Assert.Equal(2, table.FailedCount());
    }

    [Fact]
    public void ADuplicatedPointOrAHeaderThatLostAColumnIsALocatedError()
    {
        using var dir = new TempDir();
        var results = Folder(dir);
        var lines = File.ReadAllLines(results);
        File.WriteAllLines(results, [.. lines, lines[1]]);
        var e = Assert.Throws<InputException>(() => ResultTable.Load(results));
        Assert.Equal($"{results}:{lines.Length + 1}:1: row {lines.Length}: point 0 appears twice", e.OneLine);

        File.WriteAllLines(results, [lines[0].Replace("latency_s,", ""), .. lines.Skip(1)]);
        e = Assert.Throws<InputException>(() => ResultTable.Load(results));
        var column = Array.IndexOf(lines[0].Split(','), "latency_s") + 1;
        Assert.StartsWith($"{results}:1:1: header: column {column} is 'energy_compute_pJ', expected 'latency_s': it does not match the columns of ", e.OneLine);
    }

    [Fact]
    public void AColumnNamedTwiceIsRefusedInAnyCsv()
    {
        using var dir = new TempDir();
        var csv = dir.Write("plain.csv", "model,latency_s,latency_s\nbert,1,2\n");
        var e = Assert.Throws<InputException>(() => ResultTable.Load(csv));
        Assert.Equal($"{csv}:1:1: header: column 'latency_s' appears twice (columns 2 and 3)", e.OneLine);
    }

    [Fact]
    public void ReportMaxRowsMustNotBeNegativeAndZeroListsNoRow()
    {
        using var dir = new TempDir();
        Folder(dir);
        var (code, _, err) = Cli("report", dir.File("run"), "--max-rows", "-1");
        Assert.Equal(2, code);
        Assert.Equal("--max-rows: must be 0 or more, got -1", err.TrimEnd('\n'));
        (code, _, err) = Cli("report", dir.File("run"), "--max-rows", "0");
        Assert.True(code == 0, err);
        Assert.Contains("First 0 of 8 rows", File.ReadAllText(dir.File("run/report.md")));
    }

    [Fact]
    public void APlotOrReportThatCannotBeWrittenIsALocatedErrorNotACrash()
    {
        using var dir = new TempDir();
        Folder(dir);
        var file = dir.Write("file.txt", "x\n");
        var (code, _, err) = Cli("plot", "line", "--in", dir.File("run"), "--x", "seq_len", "--y", "latency_s", "--group", "arch",
            "--out", Path.Combine(file, "p.svg"));
        Assert.Equal(2, code);
        // Refused before any work, by the check every writing verb makes of its output path.
        Assert.StartsWith($"{Path.Combine(file, "p.svg")}: --out: cannot write", err.TrimEnd('\n'));
        Assert.Single(err.TrimEnd('\n').Split('\n'));

        // plots/ is a regular file: the report's plots cannot be drawn, and that is not a "plot skipped".
        File.WriteAllText(dir.File("run/plots"), "x\n");
        (code, _, err) = Cli("report", dir.File("run"));
        Assert.Equal(2, code);
        Assert.StartsWith(Path.Combine(dir.File("run"), "plots") + Path.DirectorySeparatorChar, err);
        Assert.Contains(": cannot write the plot: ", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    /// <summary>test-poly with NaN latency and infinite energy at seq_len 1024, as an engine with an unchecked
    /// degenerate input would give.</summary>
    private sealed class NonFiniteEvaluator : IPointEvaluator
    {
        private readonly PolyEvaluator _inner = new();
        public string Engine => _inner.Engine;
        public string Description => _inner.Description;
        public IReadOnlyList<MetricInfo> Metrics => _inner.Metrics;

        public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
        {
            var metrics = new Dictionary<string, MetricValue>(_inner.Evaluate(point, cancellationToken));
            if (point.Workload!.Req("seq_len").AsDouble() == 1024)
            {
                metrics["latency_s"] = double.NaN;
                metrics["energy_pJ"] = double.PositiveInfinity;
            }
            return metrics;
        }
    }

    [Fact]
    public void AnEngineThatReportsANonFiniteMetricFailsThatPointAndWritesNoNaN()
    {
        using var dir = new TempDir();
        var engine = new NonFiniteEvaluator();
        var spec = SweepSpecParser.Load(
            Fixtures.WritePolySweep(dir, "parameters:\n  grid:\n    workload.seq_len: [256, 1024]\n"),
            BuiltInEvaluators.CreateRegistry().Register(engine));
        var result = SweepRunner.Run(spec, engine, new SweepRunOptions(dir.File("run")));
        Assert.True(result.Completed);
        Assert.Equal(2, result.Failed);
        Assert.Equal(0, result.InputFailed);
        Assert.Equal("engine test-poly reported metric 'latency_s' as not a number", result.FirstFailure!.Message);
        var text = File.ReadAllText(result.ResultsPath);
        Assert.DoesNotContain("NaN", text);
        Assert.DoesNotContain("Infinity", text);
        // The file stays valid for resume, report and plot.
        Assert.Equal(4, ResultTable.Load(result.ResultsPath).Count);
        var (code, _, err) = Cli("report", dir.File("run"));
        Assert.True(code == 0, err);
        Assert.DoesNotContain("NaN", File.ReadAllText(dir.File("run/report.md")));
    }
}
