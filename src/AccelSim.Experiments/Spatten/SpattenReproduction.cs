using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;

namespace AccelSim.Experiments.Spatten;

/// <summary>What `accelsim reproduce spatten` produced.</summary>
public sealed record SpattenReproductionReport(SpattenStudyResult Result, IReadOnlyList<string> Files, double AverageAllReduction,
    CrossEngineResult? Engines, SpattenStudyResult? Sensitivity);

/// <summary>
/// The SpAtten reproduction: BERT (summarisation) and GPT-2 (generation) benchmarks with the paper's pruning settings,
/// each with and without each technique, on the SpAtten engine. Writes DIR/spatten.csv (exact columns), a details
/// CSV, a summary and the plots.
/// </summary>
public static class SpattenReproduction
{
    /// <summary>The paper's headline: 10.0x average DRAM access reduction over its 30 benchmarks (abstract).</summary>
    public const double PaperAverageDramReduction = 10.0;

    /// <summary>Which GPT-2 settings the reproduction runs (BERT always uses workloads/spatten/bert.yaml).</summary>
    public enum Gpt2Settings
    {
        /// <summary>workloads/spatten/gpt2.yaml: the paper's rule with its per-technique averages (the default).</summary>
        Paper,
        /// <summary>workloads/spatten/gpt2-rtl.yaml: the authors' released per-layer RTL schedule (sensitivity variant).</summary>
        Rtl,
    }

    /// <param name="WorkloadFiles">Benchmark files; null = bert.yaml plus the GPT-2 file of <paramref name="Settings"/>.</param>
    /// <param name="Engines">Also price every workload on the FuseMax array and the GPU models (spatten-engines.csv).</param>
    /// <param name="Sensitivity">With the default files, also run the other GPT-2 settings and report the average.</param>
    public sealed record Options(string OutDir, string ArchPath, IReadOnlyList<string>? WorkloadFiles = null, bool Plots = true,
        Gpt2Settings Settings = Gpt2Settings.Paper, bool Engines = true, bool Sensitivity = true);

    public static Options DefaultOptions(string? outDir)
    {
        var root = RepoPaths.Root();
        return new Options(outDir ?? DefaultOutDir(root), Path.Combine(root, "arch", "spatten.yaml"));
    }

    /// <summary>
    /// runs/spatten in the checkout: git ignores it, so a default run never touches the committed reference results in
    /// results/spatten (regenerate those only with an explicit `--out results/spatten`).
    /// </summary>
    public static string DefaultOutDir(string root) => Path.Combine(root, "runs", "spatten");

    public static Gpt2Settings ParseSettings(string text) => text.Trim().ToLowerInvariant() switch
    {
        "paper" => Gpt2Settings.Paper,
        "rtl" => Gpt2Settings.Rtl,
        _ => throw new InputException(null, "--settings", $"unknown settings '{text}' (expected paper or rtl)"),
    };

    /// <summary>bert.yaml plus the GPT-2 benchmark file of <paramref name="settings"/>.</summary>
    public static IReadOnlyList<string> DefaultWorkloads(Gpt2Settings settings)
    {
        var dir = Path.Combine(RepoPaths.Root(), "workloads", "spatten");
        return [Path.Combine(dir, "bert.yaml"), Path.Combine(dir, settings == Gpt2Settings.Paper ? "gpt2.yaml" : "gpt2-rtl.yaml")];
    }

    public static SpattenReproductionReport Run(Options options, TextWriter log)
    {
        var arch = SpattenArch.LoadFile(options.ArchPath);
        var defaults = options.WorkloadFiles is null;
        var benchmarks = SpattenStudy.LoadBenchmarks(options.WorkloadFiles ?? DefaultWorkloads(options.Settings));
        var result = SpattenStudy.Run(benchmarks, arch);
        var engines = options.Engines ? SpattenCrossEngine.Run(result, SpattenCrossEngine.DefaultEngines(RepoPaths.Root())) : null;
        SpattenStudyResult? sensitivity = null;
        var other = options.Settings == Gpt2Settings.Paper ? Gpt2Settings.Rtl : Gpt2Settings.Paper;
        if (defaults && options.Sensitivity)
            sensitivity = SpattenStudy.Run(SpattenStudy.LoadBenchmarks(DefaultWorkloads(other)), arch, [TechniqueSet.None, TechniqueSet.All]);

        var output = new StudyOutput(options.OutDir);
        output.Write("spatten.csv", SpattenStudy.Csv(result));
        output.Write("spatten-details.csv", SpattenStudy.DetailsCsv(result));
        if (engines is not null) output.Write("spatten-engines.csv", SpattenCrossEngine.Csv(engines));
        var summary = Summary(result, defaults ? options.Settings : null);
        if (sensitivity is not null) summary += SensitivitySummary(sensitivity, other);
        if (engines is not null) summary += SpattenCrossEngine.Summary(engines);
        output.Write("summary.txt", summary);
        if (options.Plots)
        {
            var note = result.ModesUsed + " mode";
            output.Files.AddRange(SpattenPlots.Write(result, options.OutDir, note));
            if (engines is not null) output.Files.AddRange(SpattenPlots.WriteEngines(engines, options.OutDir));
        }
        log.Write(summary);
        foreach (var f in output.Files) log.WriteLine("wrote " + f);
        return new SpattenReproductionReport(result, output.Files, result.AverageDramReduction(), engines, sensitivity);
    }

    /// <summary>The average of the other GPT-2 settings (dense and all only), with BERT unchanged.</summary>
    public static string SensitivitySummary(SpattenStudyResult sensitivity, Gpt2Settings settings)
    {
        var w = new StringWriter(Invariant.Culture);
        var gpt2 = sensitivity.AverageDramReduction("all", b => b.Task is GenerationTask);
        var avg = sensitivity.AverageDramReduction();
        w.WriteLine($"Sensitivity, GPT-2 with {Describe(settings)}: GPT-2 mean 'all' {gpt2:0.00}x, " +
                    $"average over {sensitivity.Benchmarks.Count()} benchmarks {avg:0.00}x ({(avg / PaperAverageDramReduction - 1) * 100:+0.0;-0.0}% vs the paper).");
        return w.ToString();
    }

    private static string Describe(Gpt2Settings s) => s == Gpt2Settings.Paper
        ? "the paper's rule and per-technique averages (gpt2.yaml)"
        : "the authors' released RTL schedule (gpt2-rtl.yaml, one benchmark's per-layer settings)";

    /// <summary>Human-readable summary: per-benchmark reductions, averages, and which selection mode was used.</summary>
    public static string Summary(SpattenStudyResult result, Gpt2Settings? settings = null)
    {
        var w = new StringWriter(Invariant.Culture);
        string[] techniques = ["token", "head", "value", "quant", "all"];
        w.WriteLine($"SpAtten reproduction on '{result.Arch.Name}' ({Invariant.Sig(result.Arch.DramBandwidthGBs)} GB/s HBM, " +
                    $"{result.Arch.QkMultipliers}+{result.Arch.PvMultipliers} multipliers, {Invariant.Sig(result.Arch.ClockGhz)} GHz); " +
                    $"pruning decisions from: {result.ModesUsed}");
        if (settings is { } s)
            w.WriteLine($"Settings: BERT from the paper's rule and per-technique averages (bert.yaml); GPT-2 from {Describe(s)}. " +
                        "Per-technique averages are inputs; the 'all' average tests how the techniques compose.");
        w.WriteLine("DRAM access reduction over dense (x):");
        w.WriteLine($"  {"benchmark",-26}" + string.Concat(techniques.Select(t => $"{t,8}")) + $"{"speedup",9}{"energy",8}");
        foreach (var b in result.Benchmarks)
            w.WriteLine($"  {b,-26}" + string.Concat(techniques.Select(t => $"{result.DramReduction(b, t),8:0.00}")) +
                        $"{result.LatencySpeedup(b, "all"),9:0.00}{result.EnergySaving(b, "all"),8:0.00}");
        foreach (var (label, filter) in new (string, Func<Benchmark, bool>?)[]
                 {
                     ("summarization (BERT)", b => b.Task is SummarizationTask),
                     ("generation (GPT-2)", b => b.Task is GenerationTask),
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
