using AccelSim.Core;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Study;

namespace AccelSim.Experiments.Spatten;

/// <summary>What `accelsim reproduce spatten` produced.</summary>
public sealed record SpattenReproductionReport(SpattenStudyResult Result, IReadOnlyList<string> Files, double AverageAllReduction);

/// <summary>
/// The SpAtten reproduction: BERT (summarisation) and GPT-2 (generation) benchmarks with the paper's pruning settings,
/// each with and without each technique, on the SpAtten engine. Writes DIR/spatten.csv (exact columns), a details
/// CSV, a summary and the plots.
/// </summary>
public static class SpattenReproduction
{
    /// <summary>The paper's headline: 10.0x average DRAM access reduction over its 30 benchmarks (abstract).</summary>
    public const double PaperAverageDramReduction = 10.0;

    public sealed record Options(string OutDir, string ArchPath, IReadOnlyList<string> WorkloadFiles, bool Plots = true);

    public static Options DefaultOptions(string? outDir)
    {
        var root = RepoPaths.Root();
        return new Options(
            outDir ?? Path.Combine(root, "results", "spatten"),
            Path.Combine(root, "arch", "spatten.yaml"),
            [Path.Combine(root, "workloads", "spatten", "bert.yaml"), Path.Combine(root, "workloads", "spatten", "gpt2.yaml")]);
    }

    public static SpattenReproductionReport Run(Options options, TextWriter log)
    {
        var arch = SpattenArch.LoadFile(options.ArchPath);
        var benchmarks = SpattenStudy.LoadBenchmarks(options.WorkloadFiles);
        var result = SpattenStudy.Run(benchmarks, arch);
        Directory.CreateDirectory(options.OutDir);
        var files = new List<string>();
        void Write(string name, string text)
        {
            var path = Path.Combine(options.OutDir, name);
            File.WriteAllText(path, text);
            files.Add(path);
        }
        Write("spatten.csv", SpattenStudy.Csv(result));
        Write("spatten-details.csv", SpattenStudy.DetailsCsv(result));
        var summary = Summary(result);
        Write("summary.txt", summary);
        if (options.Plots)
            files.AddRange(SpattenPlots.Write(result, options.OutDir, "selection mode: " + result.ModesUsed));
        log.Write(summary);
        foreach (var f in files) log.WriteLine("wrote " + f);
        return new SpattenReproductionReport(result, files, result.AverageDramReduction());
    }

    /// <summary>Human-readable summary: per-benchmark reductions, averages, and which selection mode was used.</summary>
    public static string Summary(SpattenStudyResult result)
    {
        var w = new StringWriter(Invariant.Culture);
        string[] techniques = ["token", "head", "value", "quant", "all"];
        w.WriteLine($"SpAtten reproduction on '{result.Arch.Name}' ({Invariant.Sig(result.Arch.DramBandwidthGBs)} GB/s HBM, " +
                    $"{result.Arch.QkMultipliers}+{result.Arch.PvMultipliers} multipliers, {Invariant.Sig(result.Arch.ClockGhz)} GHz); " +
                    $"pruning decisions from: {result.ModesUsed}");
        w.WriteLine("DRAM access reduction over dense (x):");
        w.WriteLine($"  {"benchmark",-26}" + string.Concat(techniques.Select(t => $"{t,8}")) + $"{"speedup",9}{"energy",8}");
        foreach (var b in result.Benchmarks)
            w.WriteLine($"  {b,-26}" + string.Concat(techniques.Select(t => $"{result.DramReduction(b, t),8:0.00}")) +
                        $"{result.LatencySpeedup(b, "all"),9:0.00}{result.EnergySaving(b, "all"),8:0.00}");
        foreach (var (label, filter) in new (string, Func<Pruning.Spec.Benchmark, bool>?)[]
                 {
                     ("summarization (BERT)", b => b.Task is Pruning.Spec.SummarizationTask),
                     ("generation (GPT-2)", b => b.Task is Pruning.Spec.GenerationTask),
                     ("all benchmarks", null),
                 })
        {
            if (!result.Rows.Any(r => filter is null || filter(r.Benchmark))) continue;
            w.WriteLine($"  {"mean: " + label,-26}" + string.Concat(techniques.Select(t => $"{result.AverageDramReduction(t, filter),8:0.00}")));
        }
        var avg = result.AverageDramReduction();
        w.WriteLine($"Average DRAM reduction of 'all' over 'dense': {avg:0.00}x (arithmetic mean over {result.Benchmarks.Count()} benchmarks; " +
                    $"geometric mean {result.GeometricMeanDramReduction():0.00}x). Paper: {PaperAverageDramReduction:0.0}x " +
                    $"({(avg / PaperAverageDramReduction - 1) * 100:+0.0;-0.0}%).");
        return w.ToString();
    }
}
