using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

/// <summary>The reproduction against the paper's figures and the CLI contract of `accelsim reproduce spatten`.</summary>
public class SpattenReproductionTests
{
    private const double Tolerance = 0.15;

    private static bool IsGpt2(Benchmark b) => b.Task is GenerationTask;

    [Fact]
    public void CsvHasExactlyTheRequiredColumnsAndOneRowPerBenchmarkAndTechnique()
    {
        var csv = SpattenStudy.Csv(Reproduction).TrimEnd('\n').Split('\n');
        Assert.Equal("benchmark,model,technique,dram_bytes,latency_s,energy_pJ", csv[0]);
        Assert.Equal(30 * 6, csv.Length - 1);
        var techniques = csv.Skip(1).Select(l => l.Split(',')[2]).Distinct().ToArray();
        Assert.Equal(["dense", "token", "head", "value", "quant", "all"], techniques);
        Assert.All(csv.Skip(1), l => Assert.Equal(6, l.Split(',').Length));
    }

    [Fact]
    public void EveryTechniqueReducesOrKeepsDramAndAllReducesMost()
    {
        var r = Reproduction;
        foreach (var b in r.Benchmarks)
        {
            foreach (var t in new[] { "token", "head", "value", "quant" })
                Assert.InRange(r.DramReduction(b, t), 1.0, r.DramReduction(b, "all"));
            Assert.True(r.LatencySpeedup(b, "all") > 1);
            Assert.True(r.EnergySaving(b, "all") > 1);
        }
    }

    [Fact]
    public void ProgressiveQuantisationOnGpt2IsWithin15PercentOfThePapers51x()
    {
        // Paper (via review): progressive quantisation cuts GPT-2 DRAM access by a further 5.1x.
        var q = Reproduction.AverageDramReduction("quant", IsGpt2);
        Assert.InRange(q / 5.1, 1 - Tolerance, 1 + Tolerance);
    }

    [Fact]
    public void HeadPruningIsWithin15PercentOfThePapers11x()
    {
        // Paper (via review): cascade head pruning reduces heads (and their K/V traffic) by 1.1x on average.
        Assert.InRange(Reproduction.AverageDramReduction("head") / 1.1, 1 - Tolerance, 1 + Tolerance);
        Assert.InRange(Reproduction.AverageDramReduction("head", IsGpt2) / 1.1, 1 - Tolerance, 1 + Tolerance);
    }

    [Fact]
    public void ReproductionValueIsPinned()
    {
        // Regression pin of what the model gives with the derived settings (workloads/spatten/README.md):
        // arithmetic mean of all/dense over the 30 benchmarks. Not tuned; update only with a documented reason.
        Assert.InRange(Reproduction.AverageDramReduction(), 8.9, 9.2);
        Assert.InRange(Reproduction.AverageDramReduction("all", IsGpt2), 19.5, 20.5);
        Assert.InRange(Reproduction.AverageDramReduction("all", b => !IsGpt2(b)), 4.9, 5.2);
    }

    [Fact]
    public void AverageDramReductionIsWithin15PercentOfThePapers10x()
    {
        // The acceptance check of issue 7. The per-technique reductions are inputs of the settings (the paper's
        // per-technique averages, see the test below); what this checks is how the techniques compose on the engine
        // (token x head x value x quantisation, selection overheads, LSB re-fetch) into the paper's headline.
        Assert.InRange(Reproduction.AverageDramReduction() / 10.0, 1 - Tolerance, 1 + Tolerance);
    }

    [Fact]
    public void DerivedSettingsReproduceThePerTechniqueInputs()
    {
        // Not a validation: a check that the settings were derived right. Token+value pruning alone must give back
        // the paper averages it was derived from (within the rounding of keep counts to whole tokens).
        var r = SpattenStudy.Run(Reproduction.Rows.Select(x => x.Benchmark).DistinctBy(b => b.Name), Arch,
            [AccelSim.Pruning.TechniqueSet.None, AccelSim.Pruning.TechniqueSet.None with { Token = true, Value = true }]);
        Assert.InRange(r.AverageDramReduction("token+value", IsGpt2) / 3.8, 0.98, 1.02);
        Assert.InRange(r.AverageDramReduction("token+value", b => !IsGpt2(b)) / 1.209, 0.96, 1.01);
        Assert.InRange(r.AverageDramReduction("token+value") / 1.9, 0.97, 1.03);
    }

    [Fact]
    public void ReleasedRtlScheduleIsASensitivityVariantThatPrunesLess()
    {
        // The authors' released per-layer GPT-2 schedule (gpt2-rtl.yaml): 3.0x token+value against the paper's 3.8x
        // GPT-2 average, so the 30-benchmark average drops to about 8.0x (`--settings rtl`, and the summary's line).
        var rtl = SpattenStudy.Run(SpattenStudy.LoadBenchmarks([BertPath, Gpt2RtlPath]), Arch,
            [AccelSim.Pruning.TechniqueSet.None, AccelSim.Pruning.TechniqueSet.All]);
        Assert.InRange(rtl.AverageDramReduction(), 7.9, 8.2);
        Assert.True(rtl.AverageDramReduction("all", IsGpt2) < Reproduction.AverageDramReduction("all", IsGpt2));
    }

    [Fact]
    public void CliSettingsRtlRunsTheReleasedSchedule()
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-spatten-" + Guid.NewGuid().ToString("N"));
        try
        {
            var stdout = new StringWriter();
            var code = AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--out", dir, "--no-plots", "--no-engines", "--settings", "rtl"],
                stdout, new StringWriter());
            Assert.Equal(0, code);
            Assert.Contains("GPT-2 from the authors' released RTL schedule", stdout.ToString());
            Assert.Contains("Sensitivity, GPT-2 with the paper's rule", stdout.ToString());
            Assert.False(File.Exists(Path.Combine(dir, "spatten-engines.csv")));
            var stderr = new StringWriter();
            Assert.Equal(2, AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--out", dir, "--no-plots", "--settings", "best"], new StringWriter(), stderr));
            Assert.Contains("--settings: unknown settings 'best'", stderr.ToString());
            stderr = new StringWriter();
            Assert.Equal(2, AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--out", dir, "--no-plots", "--settings", "rtl", "--workload", TraceDemoPath],
                new StringWriter(), stderr));
            Assert.Contains("cannot be combined with --workload", stderr.ToString());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CliWritesTheCsvSummaryAndPlotsAndPrintsTheAverage()
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-spatten-" + Guid.NewGuid().ToString("N"));
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--out", dir], stdout, stderr);
            Assert.True(code == 0, stderr.ToString());
            Assert.Contains("Average DRAM reduction of 'all' over 'dense':", stdout.ToString());
            Assert.Contains("pruning decisions from: ratios", stdout.ToString());
            Assert.Equal(SpattenStudy.Csv(Reproduction), File.ReadAllText(Path.Combine(dir, "spatten.csv")));
            foreach (var png in new[] { "dram_reduction.png", "latency_breakdown.png", "energy_breakdown.png",
                                        "engines_latency.png", "engines_dram.png", "engines_energy.png" })
                Assert.True(new FileInfo(Path.Combine(dir, png)).Length > 10_000, png);
            var engines = File.ReadAllLines(Path.Combine(dir, "spatten-engines.csv"));
            Assert.Equal("benchmark,model,technique,engine,latency_s,energy_pJ,dram_bytes", engines[0]);
            Assert.Equal(30 * 6 * 4, engines.Length - 1);
            Assert.Contains("Sensitivity, GPT-2 with the authors' released RTL schedule", stdout.ToString());
            Assert.Contains("same pruned workloads on other engines", stdout.ToString());
            Assert.Contains(",ratios,", File.ReadAllText(Path.Combine(dir, "spatten-details.csv")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CliRunsTraceDrivenBenchmarksAndSaysSo()
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-spatten-" + Guid.NewGuid().ToString("N"));
        try
        {
            var stdout = new StringWriter();
            var code = AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--out", dir, "--no-plots", "--workload", TraceDemoPath], stdout, new StringWriter());
            Assert.Equal(0, code);
            Assert.Contains("pruning decisions from: trace", stdout.ToString());
            Assert.Contains(",trace,", File.ReadAllText(Path.Combine(dir, "spatten-details.csv")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--workload", "/nonexistent/bench.yaml", "file not found")]
    [InlineData("--arch", "/nonexistent/arch.yaml", "file not found")]
    public void CliBadInputExitsTwoWithOneLine(string option, string value, string problem)
    {
        var stderr = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--no-plots", "--out", Path.GetTempPath(), option, value], new StringWriter(), stderr);
        Assert.Equal(2, code);
        var text = stderr.ToString().TrimEnd();
        Assert.DoesNotContain('\n', text);
        Assert.Contains(problem, text);
    }

    [Fact]
    public void HelpShowsAnExample()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, AccelSim.Cli.Cli.Run(["reproduce", "spatten", "--help"], stdout, new StringWriter()));
        Assert.Contains("Example: accelsim reproduce spatten", stdout.ToString());
    }
}
