using AccelSim.Cli;

namespace AccelSim.Tests.FuseMax;

/// <summary>`accelsim reproduce fusemax`: writes its tables and figures, prints the headline; bad input exits 2.</summary>
public class FuseMaxCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void ReproduceWritesTheStudyTables()
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N"));
        var (code, output, err) = Run("reproduce", "fusemax", "--out", dir, "--no-plots");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("FuseMax 6.72x faster than FLAT [6.7x]", output);
        Assert.Contains("Error against the study's published tables", output);
        var attention = File.ReadAllLines(Path.Combine(dir, "attention.csv"));
        Assert.StartsWith("model,seq_len,arch,latency_s,energy_pJ,traffic_bytes,util_2d,util_1d,util_QK,", attention[0]);
        Assert.Equal(1 + 4 * 6 * 5, attention.Length);
        Assert.Contains(attention, l => l.StartsWith("BERT,1024,fusemax,0.002013140425531915,", StringComparison.Ordinal));
        var e2e = File.ReadAllLines(Path.Combine(dir, "end2end.csv"));
        Assert.StartsWith("model,seq_len,arch,latency_s,energy_pJ,traffic_bytes,util_2d,util_1d", e2e[0]);
        Assert.Equal(1 + 4 * 6 * 5, e2e.Length);
        foreach (var f in new[] { "buffers.csv", "einsums.csv", "energy.csv", "pareto.csv", "summary.txt" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
    }

    [Fact]
    public void AMissingReferenceDirectoryIsBadInput()
    {
        var (code, _, err) = Run("reproduce", "fusemax", "--reference", "/nonexistent/fusemax", "--no-plots", "--out", Path.GetTempPath());
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--reference", err);
    }

    [Fact]
    public void HelpHasAnExample()
    {
        var (code, output, _) = Run("reproduce", "fusemax", "--help");
        Assert.Equal(0, code);
        Assert.Contains("Example: accelsim reproduce fusemax", output);
    }
}

/// <summary>The `fusemax` sweep engine prices the same points as the reproduction.</summary>
[Collection(FuseMaxCollection.Name)]
public class FuseMaxSweepEngineTests(FuseMaxFixture study)
{
    [Fact]
    public void TheStudySweepMatchesTheReproduction()
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N"));
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Cli.Cli.Run(["sweep", RepoPaths.Of("workloads", "sweeps", "fusemax-study.yaml"), "--out", dir, "--jobs", "2"], o, e);
        Assert.True(code == 0, e.ToString());
        var lines = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        Assert.Equal(1 + 120, lines.Length);
        var header = lines[0].Split(',').ToList();
        foreach (var line in lines.Skip(1))
        {
            var c = line.Split(',');
            var arch = c[header.IndexOf("arch")];
            var model = c[header.IndexOf("workload")];
            var n = long.Parse(c[header.IndexOf("workload.params.seq_len")], AccelSim.Core.Invariant.Culture);
            Assert.Equal("", c[header.IndexOf("error")]);
            var p = study.Point(model, n, arch).Report.Attention;
            Assert.Equal(p.LatencySeconds, double.Parse(c[header.IndexOf("latency_s")], AccelSim.Core.Invariant.Culture));
            Assert.Equal(p.EnergyPJ, double.Parse(c[header.IndexOf("energy_pJ")], AccelSim.Core.Invariant.Culture));
        }
    }
}
