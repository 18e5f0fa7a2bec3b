using AccelSim.Core;
using AccelSim.Experiments.Plots;
using AccelSim.Experiments.Results;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;

namespace AccelSim.Experiments.Spatten;

/// <summary>
/// The SpAtten reproduction's figures, drawn with the shared plotting library (<see cref="PlotFactory"/>): the study's
/// rows become an in-memory <see cref="ResultTable"/> and each figure is a <see cref="PlotRequest"/> (speedup-style
/// grouped bars against the dense technique, stacked breakdowns).
/// </summary>
public static class SpattenPlots
{
    private static readonly string[] Techniques = ["token", "head", "value", "quant", "all"];

    /// <summary>Writes dram_reduction.png (geometric mean over each model's benchmarks), latency_breakdown.png and energy_breakdown.png; returns the files.</summary>
    public static IReadOnlyList<string> Write(SpattenStudyResult result, string dir, string modeNote)
    {
        var files = new List<string>();
        var table = new ResultTable(["benchmark", "model", "technique", "dram_bytes"],
            [.. result.Rows.Select(r => new[] { r.BenchmarkName, r.Model, r.Technique, Invariant.Num(r.Result.DramBytes) })]);
        files.Add(Render(table, new PlotRequest
        {
            Kind = PlotKind.Speedup, X = "model", Group = "technique", Y = ["dram_bytes"], MeanOver = ["benchmark"],
            Baseline = [new("technique", "dense")], Width = 1400, Height = 800,
            Title = $"SpAtten DRAM access reduction ({modeNote}; mean of all: {result.AverageDramReduction():0.0}x)",
        }, Path.Combine(dir, "dram_reduction.png"), "DRAM reduction over dense (×)"));

        // Stacked breakdowns, normalised to each benchmark's dense run and averaged per task and technique.
        string[] stages = ["fetch", "QK", "softmax", "prob_V", "local_V_topk", "token_head_topk", "pipeline_fill"];
        string[] parts = ["DRAM", "MAC", "SRAM", "softmax", "topk", "selection"];
        var tasks = result.Rows.Select(r => r.Benchmark.Task.Kind).Distinct().ToList();
        var latencyRows = new List<string[]>();
        var energyRows = new List<string[]>();
        foreach (var task in tasks)
            foreach (var t in new[] { "dense" }.Concat(Techniques))
            {
                var names = result.Rows.Where(r => r.Benchmark.Task.Kind == task && r.Techniques.IsDense).Select(r => r.BenchmarkName).ToList();
                var lat = new double[stages.Length];
                var en = new double[parts.Length];
                foreach (var n in names)
                {
                    var dense = result.Row(n, "dense").Result;
                    var row = result.Row(n, t).Result;
                    var c = row.CycleBreakdown;
                    var e = row.Energy;
                    double[] l = [c.Fetch, c.QueryKey, c.Softmax, c.ProbValue, c.LocalValueTopK, c.SerialTopK, c.PipelineFill];
                    double[] x = [e.Dram, e.Mac, e.Sram, e.Softmax, e.TopK, e.Selection];
                    for (var i = 0; i < l.Length; i++) lat[i] += l[i] / dense.Cycles / names.Count;
                    for (var i = 0; i < x.Length; i++) en[i] += x[i] / dense.EnergyPj / names.Count;
                }
                var label = task == "generation" ? "GPT-2" : "BERT";
                latencyRows.Add([t, label, .. lat.Select(v => Invariant.Num(v))]);
                energyRows.Add([t, label, .. en.Select(v => Invariant.Num(v))]);
            }
        files.Add(Render(new ResultTable(["technique", "task", .. stages], latencyRows), new PlotRequest
        {
            Kind = PlotKind.Energy, X = "technique", Group = "task", Y = [.. stages], Width = 1500, Height = 850,
            Title = "SpAtten latency by bottleneck stage, relative to dense",
        }, Path.Combine(dir, "latency_breakdown.png"), "Latency / dense latency"));
        files.Add(Render(new ResultTable(["technique", "task", .. parts], energyRows), new PlotRequest
        {
            Kind = PlotKind.Energy, X = "technique", Group = "task", Y = [.. parts], Width = 1500, Height = 850,
            Title = "SpAtten energy by component, relative to dense",
        }, Path.Combine(dir, "energy_breakdown.png"), "Energy / dense energy"));
        return files;
    }

    /// <summary>
    /// Writes engines_latency.png, engines_dram.png and engines_energy.png: per engine and benchmark group, what each
    /// technique buys over that engine's dense run (geometric mean over the group's benchmarks).
    /// </summary>
    public static IReadOnlyList<string> WriteEngines(CrossEngineResult result, string dir)
    {
        string GroupOf(Benchmark b) => SpattenCrossEngine.Groups.First(g => g.Filter(b)).Label;
        var table = new ResultTable(["benchmark", "engine_group", "technique", "latency_s", "dram_bytes", "energy_pJ"],
            [.. result.Rows.Select(r => new[]
            {
                r.BenchmarkName, r.Engine + "\n" + GroupOf(r.Benchmark), r.Technique,
                Invariant.Num(r.Cost.LatencySeconds), Invariant.Num(r.Cost.DramBytes), Invariant.Num(r.Cost.EnergyPj),
            })]);
        var files = new List<string>();
        foreach (var (file, column, what) in new[]
                 {
                     ("engines_latency.png", "latency_s", "latency speedup"),
                     ("engines_dram.png", "dram_bytes", "DRAM reduction"),
                     ("engines_energy.png", "energy_pJ", "energy saving"),
                 })
            files.Add(Render(table, new PlotRequest
            {
                Kind = PlotKind.Speedup, X = "engine_group", Group = "technique", Y = [column], MeanOver = ["benchmark"],
                Baseline = [new("technique", "dense")], Width = 1700, Height = 850,
                Title = $"Same pruning on each engine: {what} over its own dense run",
            }, Path.Combine(dir, file), $"{char.ToUpperInvariant(what[0])}{what[1..]} (×, geometric mean)"));
        return files;
    }

    private static string Render(ResultTable table, PlotRequest request, string path, string yLabel)
    {
        using var plot = PlotFactory.Build(table, request);
        plot.Axes.Left.Label.Text = yLabel;
        plot.Axes.Bottom.Label.Text = "";
        // Two-line category labels (technique / group) read best upright.
        plot.Axes.Bottom.TickLabelStyle.Rotation = 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.UpperCenter;
        return PlotFactory.Save(plot, path, request.Width, request.Height);
    }
}
