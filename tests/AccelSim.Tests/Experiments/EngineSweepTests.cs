namespace AccelSim.Tests.Experiments;

/// <summary>The shipped example sweeps for the gpu and analyze engines run end to end and give sensible rows.</summary>
public class EngineSweepTests
{
    private static string[] RunSweep(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-sweeps", Guid.NewGuid().ToString("N"));
        var o = new StringWriter();
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(["sweep", RepoPaths.Of("workloads", "sweeps", name), "--out", dir, "--jobs", "1"], o, e);
        Assert.True(code == 0, e.ToString());
        return File.ReadAllLines(Path.Combine(dir, "results.csv"));
    }

    [Fact]
    public void GpuSweepPredictsNewerGenerationsFaster()
    {
        var rows = RunSweep("gpu-kernels.yaml");
        var header = rows[0].Split(',');
        int Col(string n) => Array.IndexOf(header, n);
        var data = rows.Skip(1).Select(r => r.Split(',')).ToList();
        Assert.Equal(9, data.Count);
        Assert.All(data, r => Assert.Equal("", r[Col("error")]));
        double Tflops(string arch, string len) =>
            double.Parse(data.Single(r => r[Col("arch")] == arch && r[Col("workload.params.seq_len")] == len)[Col("tflops")], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Tflops("b200", "16384") > Tflops("h100", "16384"));
        Assert.True(Tflops("h100", "16384") > Tflops("a100", "16384"));
    }

    [Fact]
    public void AnalyzeSweepShowsMasksRemoveWork()
    {
        var rows = RunSweep("passes-and-masks.yaml");
        var header = rows[0].Split(',');
        var data = rows.Skip(1).Select(r => r.Split(',')).ToList();
        Assert.Equal(16, data.Count);
        long Macs(string len, string causal, string window) => long.Parse(data.Single(r =>
            r[Array.IndexOf(header, "workload.params.seq_len")] == len && r[Array.IndexOf(header, "workload.params.causal")] == causal &&
            r[Array.IndexOf(header, "workload.params.window")] == window)[Array.IndexOf(header, "macs")], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Macs("4096", "true", "0") < Macs("4096", "false", "0"));
        Assert.True(Macs("4096", "true", "512") < Macs("4096", "true", "0"));
        Assert.All(data, r => Assert.Equal("1", r[Array.IndexOf(header, "passes")]));
    }
}
