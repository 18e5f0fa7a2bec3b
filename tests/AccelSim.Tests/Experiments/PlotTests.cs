using AccelSim.Core;
using AccelSim.Experiments.Plots;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;
using ScottPlot;
using ScottPlot.Plottables;

namespace AccelSim.Tests.Experiments;

/// <summary>Every plot kind drawn from a small sweep, checked through ScottPlot's plottables and the saved files.</summary>
public class PlotTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ResultTable _table;

    public PlotTests()
    {
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(_dir, poly, """
            parameters:
              grid:
                workload.seq_len: [256, 1024, 4096]
                arch.clock_hz: [1e9, 2e9]
            """);
        var result = SweepRunner.Run(spec, poly, new SweepRunOptions(_dir.File("out")));
        _table = ResultTable.Load(result.ResultsPath);
    }

    public void Dispose() => _dir.Dispose();

    private static List<string> Labels<T>(Plot plot) where T : IPlottable =>
        plot.GetPlottables<T>().Select(p => p switch
        {
            BarPlot b => b.LegendText,
            Scatter s => s.LegendText,
            FillY f => f.LegendText,
            HorizontalLine h => h.LegendText,
            _ => "",
        }).ToList();

    private void AssertSaves(Plot plot, string name)
    {
        foreach (var ext in new[] { ".png", ".svg" })
        {
            var path = PlotFactory.Save(plot, _dir.File("plots/" + name + ext));
            // A 1200x800 figure with axes, ticks, legend and data is tens of kB; an empty or failed render is not.
            var minimum = ext == ".png" ? 20_000 : 8_000;
            Assert.True(new FileInfo(path).Length > minimum, $"{path} is only {new FileInfo(path).Length} bytes");
            if (ext == ".svg") Assert.Contains("<svg", File.ReadAllText(path));
            else Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(path)[..4]);
        }
    }

    [Fact]
    public void SpeedupRefusesToBlendRowsThatDifferInAnUnnamedParameter()
    {
        // Each bar (seq_len, arch) holds two clocks: averaging them unasked would hide the clock's effect.
        var e = Assert.Throws<InputException>(() =>
            PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Speedup, X = "seq_len", Y = ["latency_s"] }));
        Assert.Equal($"{_table.Source}: plot speedup: rows of one bar (seq_len=256, arch=big) differ in arch.clock_hz (1e9, 2e9); " +
                     "name the column: --where clock_hz=1e9 keeps one value, --x or --group clock_hz splits them, " +
                     "--mean-over clock_hz averages over it", e.OneLine);

        // Named, it may vary: one value kept, or each bar the speedup at that clock.
        using var one = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Speedup, X = "seq_len", Y = ["latency_s"], Where = [new("clock_hz", "2e9")] });
        var lat = _table.Column("latency_s");
        double Latency(string arch, string seq, string clock) =>
            _table.Number(Enumerable.Range(0, _table.Count).Single(r => _table.Text(r, 2) == arch && _table.Text(r, 3) == seq && _table.Text(r, 4) == clock), lat);
        Assert.Equal(Latency("small", "1024", "2e9") / Latency("big", "1024", "2e9"), one.GetPlottables<BarPlot>().Single().Bars[1].Value, 12);
        using var split = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Speedup, X = "seq_len", Group = "clock_hz", Y = ["latency_s"], Baseline = [new("arch", "small")] });
        Assert.Equal(["1e9", "2e9"], Labels<BarPlot>(split));
        var e2 = Assert.Throws<InputException>(() => PlotFactory.Build(_table,
            new PlotRequest { Kind = PlotKind.Speedup, X = "arch", Group = "clock_hz", Y = ["latency_s"], Baseline = [new("arch", "small")] }));
        Assert.Contains("differ in workload.seq_len (256, 1024)", e2.OneLine);
    }

    [Fact]
    public void SpeedupIsGroupedBarsOverTheBaseline()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Speedup, X = "seq_len", Y = ["latency_s"], MeanOver = ["clock_hz"] });
        // Group defaults to the baseline column (arch); the baseline itself is the dashed line, not a series.
        Assert.Equal(["big"], Labels<BarPlot>(plot));
        Assert.Equal(["baseline (arch=small)"], Labels<HorizontalLine>(plot));
        var bars = plot.GetPlottables<BarPlot>().Single().Bars;
        Assert.Equal(3, bars.Count);

        // Each bar is the geometric mean over clocks of small/big latency at that sequence length.
        var lat = _table.Column("latency_s");
        double Latency(string arch, string seq, string clock) =>
            _table.Number(Enumerable.Range(0, _table.Count).Single(r => _table.Text(r, 2) == arch && _table.Text(r, 3) == seq && _table.Text(r, 4) == clock), lat);
        var expected = Math.Sqrt(Latency("small", "1024", "1e9") / Latency("big", "1024", "1e9") *
                                 (Latency("small", "1024", "2e9") / Latency("big", "1024", "2e9")));
        Assert.Equal(expected, bars[1].Value, 12);
        Assert.Contains("(geometric mean over clock_hz)", plot.Axes.Title.Label.Text);
        AssertSaves(plot, "speedup");
    }

    [Fact]
    public void EnergyIsStackedBarsOnePerComponent()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Energy, X = "arch", Where = [new("seq_len", "1024"), new("clock_hz", "1e9")] });
        // Defaults: every energy metric except the total, stacked.
        Assert.Equal(["Energy compute", "Energy memory"], Labels<BarPlot>(plot));
        var layers = plot.GetPlottables<BarPlot>().ToList();
        Assert.All(layers, l => Assert.Equal(2, l.Bars.Count));
        // The memory layer starts where the compute layer ends.
        Assert.Equal(layers[0].Bars[0].Value, layers[1].Bars[0].ValueBase, 9);
        AssertSaves(plot, "energy");
    }

    [Fact]
    public void UtilizationHasOneSeriesPerGroupAndArray()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Utilization, X = "seq_len", Group = "arch", Where = [new("clock_hz", "1e9")] });
        Assert.Equal(["small Util 2d", "small Util 1d", "big Util 2d", "big Util 1d"], Labels<BarPlot>(plot));
        Assert.All(plot.GetPlottables<BarPlot>(), b => Assert.All(b.Bars, bar => Assert.InRange(bar.Value, 0, 100)));
        AssertSaves(plot, "utilization");
    }

    [Fact]
    public void RooflineHasOneRoofPerMachineAndPointsPerGroup()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Roofline, Group = "arch" });
        var labels = Labels<Scatter>(plot);
        // Four distinct (peak, bandwidth) machines: two arrays at two clocks; then the two point groups.
        Assert.Equal(4, labels.Count(l => l.StartsWith("roof ", StringComparison.Ordinal)));
        Assert.Equal(["small", "big"], labels.Where(l => !l.StartsWith("roof ", StringComparison.Ordinal)));
        // Points are plotted in log10 space.
        var big = plot.GetPlottables<Scatter>().Single(s => s.LegendText == "big");
        var first = big.Data.GetScatterPoints()[0];
        var row = Enumerable.Range(0, _table.Count).First(r => _table.Text(r, 2) == "big");
        Assert.Equal(Math.Log10(_table.Number(row, _table.Column("intensity"))), first.X, 9);
        AssertSaves(plot, "roofline");
    }

    [Fact]
    public void ParetoHighlightsTheNonDominatedPoints()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Pareto, Group = "arch" });
        var labels = Labels<Scatter>(plot);
        Assert.Equal(3, labels.Count);
        Assert.Equal(["small", "big"], labels.Take(2));
        Assert.StartsWith("Pareto front (", labels[2]);

        // The front agrees with a brute-force dominance check over (latency, area).
        var xs = _table.Numbers(_table.Column("latency_s"));
        var ys = _table.Numbers(_table.Column("area_um2"));
        var brute = Enumerable.Range(0, xs.Length).Where(i => !Enumerable.Range(0, xs.Length)
            .Any(j => xs[j] <= xs[i] && ys[j] <= ys[i] && (xs[j] < xs[i] || ys[j] < ys[i]))).ToHashSet();
        var front = Stats.ParetoFront(xs, ys);
        Assert.Equal(brute.Order(), front.Order());
        Assert.Equal($"Pareto front ({front.Count} of {xs.Length})", labels[2]);
        AssertSaves(plot, "pareto");
    }

    [Fact]
    public void ParityHasIdentityLineAndTenPercentBand()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Parity, X = "measured_s", Y = ["latency_s"], Group = "arch" });
        Assert.Equal(["y = x", "small", "big"], Labels<Scatter>(plot));
        var band = Assert.Single(plot.GetPlottables<FillY>());
        var within = Enumerable.Range(0, _table.Count).Count(r =>
            Math.Abs(_table.Number(r, _table.Column("latency_s")) / _table.Number(r, _table.Column("measured_s")) - 1) <= 0.1);
        Assert.Equal($"±10% ({within} of {_table.Count} within)", band.LegendText);
        AssertSaves(plot, "parity");
    }

    [Fact]
    public void LineHasOneSeriesPerGroup()
    {
        using var plot = PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Line, X = "seq_len", Y = ["latency_s"], Group = "arch", MeanOver = ["clock_hz"] });
        Assert.Equal(["small", "big"], Labels<Scatter>(plot));
        Assert.All(plot.GetPlottables<Scatter>(), s => Assert.Equal(3, s.Data.GetScatterPoints().Count));
        AssertSaves(plot, "line");
    }

    [Fact]
    public void LinesAndEnergyBarsRefuseToBlendToo()
    {
        var e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Line, X = "seq_len", Y = ["latency_s"], Group = "arch" }));
        Assert.Contains("rows of one point (seq_len=256, arch=small) differ in arch.clock_hz (1e9, 2e9)", e.OneLine);
        e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Energy, X = "arch", Where = [new("seq_len", "1024")] }));
        Assert.Contains("differ in arch.clock_hz", e.OneLine);
        e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Utilization, X = "seq_len" }));
        Assert.Contains("rows of one bar (seq_len=256) differ in arch.clock_hz (1e9, 2e9)", e.OneLine);
        // Points of a scatter are not averaged: nothing to refuse.
        using (PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Pareto })) { }
    }

    [Fact]
    public void NonNumericOrEmptyValuesAreRefusedNotDrawnAsAnEmptyFigure()
    {
        foreach (var kind in new[] { PlotKind.Speedup, PlotKind.Energy, PlotKind.Utilization, PlotKind.Line, PlotKind.Pareto, PlotKind.Roofline })
        {
            var request = new PlotRequest { Kind = kind, X = kind is PlotKind.Pareto or PlotKind.Roofline ? "latency_s" : "seq_len", Y = ["label"], MeanOver = ["clock_hz"] };
            var e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, request));
            Assert.Equal($"{_table.Source}: --y: column 'label' is not numeric (a plotted row has 'small, with comma'); choose a numeric column", e.OneLine);
        }
        var e2 = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Parity, X = "arch", Y = ["latency_s"] }));
        Assert.Contains("--x: column 'arch' is not numeric", e2.OneLine);

        // A column of NaN (or empty cells) has no number to draw.
        var nan = new ResultTable(["arch", "seq_len", "latency_s"], [["a", "1", "NaN"], ["b", "1", "NaN"], ["a", "2", ""], ["b", "2", "NaN"]], source: "nan.csv");
        foreach (var kind in new[] { PlotKind.Speedup, PlotKind.Line, PlotKind.Energy })
        {
            var e = Assert.Throws<InputException>(() => PlotFactory.Build(nan,
                new PlotRequest { Kind = kind, X = "seq_len", Group = "arch", Y = ["latency_s"], Baseline = [new("arch", "a")] }));
            Assert.Equal("nan.csv: --y: column 'latency_s' has no numeric values in the plotted rows", e.OneLine);
        }
        // Numbers, but no bar has a baseline to divide by.
        var orphan = new ResultTable(["arch", "seq_len", "latency_s"], [["a", "1", "2"], ["b", "2", "1"]], source: "orphan.csv");
        var e3 = Assert.Throws<InputException>(() => PlotFactory.Build(orphan,
            new PlotRequest { Kind = PlotKind.Speedup, X = "seq_len", Group = "arch", Y = ["latency_s"], Baseline = [new("arch", "a")] }));
        Assert.Contains("no bar has a value", e3.OneLine);
    }

    [Fact]
    public void BadRequestsAreOneLineInputErrors()
    {
        var e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Line, X = "seq_length" }));
        Assert.Contains("unknown column 'seq_length'", e.OneLine);
        e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Parity, X = "measured_s" }));
        Assert.Contains("predicted column", e.OneLine);
        e = Assert.Throws<InputException>(() => PlotFactory.Build(_table, new PlotRequest { Kind = PlotKind.Line, Where = [new("arch", "none")] }));
        Assert.Contains("no rows to plot", e.OneLine);
        e = Assert.Throws<InputException>(() => PlotFactory.Save(new Plot(), _dir.File("x.jpg")));
        Assert.Contains(".png or .svg", e.OneLine);
    }

    [Fact]
    public void DefaultRequestsCoverTheMetricKinds()
    {
        var kinds = PlotFactory.DefaultRequests(_table).Select(r => r.Kind).ToList();
        Assert.Equal([PlotKind.Speedup, PlotKind.Energy, PlotKind.Utilization, PlotKind.Roofline, PlotKind.Pareto], kinds);
        // Bars stand for (seq_len, arch); the clock, which also varies, is averaged over and named as such.
        Assert.All(PlotFactory.DefaultRequests(_table).Where(r => r.Kind is PlotKind.Speedup or PlotKind.Energy or PlotKind.Utilization),
            r => Assert.Equal(["arch.clock_hz"], r.MeanOver.ToArray()));
        foreach (var request in PlotFactory.DefaultRequests(_table))
            using (PlotFactory.Build(_table, request)) { }
    }

    [Fact]
    public void TickLabelsAndRescalingUseSiPrefixes()
    {
        Assert.Equal("1.5k", PaperStyle.Si(1500));
        Assert.Equal("2µ", PaperStyle.Si(2e-6));
        Assert.Equal("1P", PaperStyle.Si(1e15));
        Assert.Equal((1e-12, "J"), PaperStyle.Rescale(1.9e12, "pJ"));
        Assert.Equal((1e3, "ms"), PaperStyle.Rescale(0.02, "s"));
        Assert.Equal((1e-9, "GB"), PaperStyle.Rescale(4e9, "B"));
        Assert.Equal((1.0, "fraction"), PaperStyle.Rescale(0.5, "fraction"));
        Assert.Equal("Latency", PaperStyle.Humanize("latency_s", new MetricInfo("latency_s", "s", MetricKind.Time, "")));
    }
}
