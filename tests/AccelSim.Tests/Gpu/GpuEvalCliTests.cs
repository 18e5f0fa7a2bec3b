namespace AccelSim.Tests.Gpu;

/// <summary>`accelsim eval` dispatches arch/gpu specs to the GPU model, like any other architecture.</summary>
public class GpuEvalCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void EvalOnAGpuSpecUsesTheKernelModel()
    {
        var (code, output, err) = Run("eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"),
            "--workload", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--kernel", "fa3",
            "--set", "seq_len=4096", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("\"latency_s\"", output);
        Assert.Contains("\"bottleneck\"", output);
    }

    [Fact]
    public void FasterKernelPredictsLowerLatency()
    {
        // The unfused kernel implements the materialised (3-pass) cascade, the flash kernels the 1-pass one.
        double Latency(string kernel)
        {
            var (code, output, err) = Run("eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"),
                "--workload", RepoPaths.Of("workloads", "attention", kernel == "standard" ? "attention-3pass.yaml" : "attention-1pass.yaml"), "--kernel", kernel,
                "--set", "seq_len=8192", "--set", "head_dim=128", "--json");
            Assert.True(code == 0, err);
            using var doc = System.Text.Json.JsonDocument.Parse(output);
            return doc.RootElement.GetProperty("latency_s").GetDouble();
        }
        Assert.True(Latency("fa3") < Latency("fa2"));
        Assert.True(Latency("fa2") < Latency("standard"));
    }

    [Fact]
    public void MissingKernelIsBadInput()
    {
        var (code, _, err) = Run("eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"),
            "--workload", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("--kernel", err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    /// <summary>An unknown --kernel, --direction or --dtype, or a shape the kernel refuses, is one line naming the option.</summary>
    [Theory]
    [InlineData("--kernel", "fa9", "--kernel: unknown kernel 'fa9' (did you mean")]
    [InlineData("--direction", "sideways", "--direction: unknown direction 'sideways'")]
    [InlineData("--dtype", "fp7", "--dtype: unknown dtype 'fp7' (did you mean")]
    [InlineData("--set", "head_dim=3", "{workload}: --kernel fa3: head_dim 3: kernel fa3")]
    public void BadGpuOptionsNameTheOption(string option, string value, string expected)
    {
        var args = new List<string> { "eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"),
            "--workload", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), option, value };
        if (option != "--kernel") args.AddRange(["--kernel", "fa3"]);
        var (code, output, err) = Run([.. args]);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith(expected.Replace("{workload}", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml")),
            Assert.Single(err.TrimEnd().Split('\n')));
    }
}
