using System.Text.Json;

namespace AccelSim.Tests.Gpu;

/// <summary>`eval --set arch.<path>=VALUE` on a GPU spec edits that field of the spec's YAML, as a sweep's `arch.<path>` does.</summary>
public class GpuEvalSetTests
{
    private static readonly string Workload = RepoPaths.Of("workloads", "attention", "attention-1pass.yaml");

    private static (int Code, string Out, string Err) Eval(string arch, params string[] sets)
    {
        var args = new List<string> { "eval", "--arch", arch, "--workload", Workload, "--kernel", "fa3", "--json", "--set", "seq_len=8192" };
        foreach (var s in sets) args.AddRange(["--set", s]);
        var o = new StringWriter();
        var e = new StringWriter();
        return (AccelSim.Cli.Cli.Run([.. args], o, e), o.ToString(), e.ToString());
    }

    private static double Latency(string arch, params string[] sets)
    {
        var (code, output, err) = Eval(arch, sets);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        return doc.RootElement.GetProperty("latency_s").GetDouble();
    }

    /// <summary>A copy of h100.yaml (with its kernel catalogue) where the SM count is edited by hand.</summary>
    private static string EditedH100(int smCount)
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-gpu-set", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.Copy(RepoPaths.Of("arch", "gpu", "kernels.yaml"), Path.Combine(dir, "kernels.yaml"));
        var text = File.ReadAllText(RepoPaths.Of("arch", "gpu", "h100.yaml"));
        var edited = text.Replace("sm_count: {value: 132,", $"sm_count: {{value: {smCount},");
        Assert.NotEqual(text, edited);
        var path = Path.Combine(dir, "h100.yaml");
        File.WriteAllText(path, edited);
        return path;
    }

    [Fact]
    public void ArchPathOverrideEqualsEditingTheFile()
    {
        var h100 = RepoPaths.Of("arch", "gpu", "h100.yaml");
        var edited = Latency(EditedH100(66));
        Assert.Equal(edited, Latency(h100, "arch.sm_count.value=66"));
        Assert.Equal(edited, Latency(h100, "sm_count.value=66")); // the dotted spelling without arch., as on spatial specs
        // README: `--set arch.<field>` works everywhere; on a cited {value, source} quantity it sets the value.
        Assert.Equal(edited, Latency(h100, "arch.sm_count=66"));
        Assert.True(edited > Latency(h100), "half the SMs must be slower");
    }

    [Fact]
    public void UnknownOrMalformedGpuFieldIsOneLineBadInput()
    {
        var h100 = RepoPaths.Of("arch", "gpu", "h100.yaml");
        foreach (var (set, expected) in new[] { ("arch.sm_countt.value=1", "sm_countt"), ("arch.sm_count=abc", "sm_count"), ("arch.tensor_dense_tflops=5", "tensor_dense_tflops") })
        {
            var (code, _, err) = Eval(h100, set);
            Assert.Equal(2, code);
            Assert.Contains(expected, err);
            Assert.Single(err.TrimEnd().Split('\n'));
        }
    }
}
