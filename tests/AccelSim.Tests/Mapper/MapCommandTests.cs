using System.Text.Json;

namespace AccelSim.Tests.Mapper;

/// <summary>`accelsim map`: output, saved mappings, cascades, Timeloop inputs, errors, reproducibility.</summary>
public class MapCommandTests
{
    private static readonly string Arch = MapperTestKit.Data("small-array.yaml");
    private static readonly string Gemm = MapperTestKit.Data("gemm.yaml");

    [Fact]
    public void JsonCarriesCyclesEnergyEvaluationsAndTheMapping()
    {
        var (code, o, e) = MapperTestKit.Cli("map", "--arch", Arch, "--workload", Gemm, "--budget", "2000", "--seed", "3", "--json");
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        var root = doc.RootElement;
        Assert.Equal(2000, root.GetProperty("evaluations").GetInt64());
        Assert.True(root.GetProperty("cycles").GetDouble() >= 32 * 32 * 32 / 16);
        Assert.True(root.GetProperty("energy_pJ").GetDouble() > 0);
        Assert.Equal("guided", root.GetProperty("search").GetString());
        Assert.Equal("edp", root.GetProperty("objective").GetString());
        var levels = root.GetProperty("mapping").GetProperty("levels");
        Assert.Equal(3, levels.GetArrayLength());
        Assert.Equal("DRAM", levels[0].GetProperty("level").GetString());
        Assert.Equal(root.GetProperty("cycles").GetDouble(), root.GetProperty("report").GetProperty("cycles").GetDouble());
    }

    [Fact]
    public void TheSavedMappingReproducesTheReportedCost()
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var save = Path.Combine(dir, "best.yaml");
        var (code, o, e) = MapperTestKit.Cli("map", "--arch", Arch, "--workload", Gemm, "--budget", "1500", "--objective", "cycles,energy", "--save", save, "--json");
        Assert.True(code == 0, e);
        Assert.True(File.Exists(save));
        var (code2, o2, e2) = MapperTestKit.Cli("eval", "--arch", Arch, "--workload", Gemm, "--mapping", save, "--json");
        Assert.True(code2 == 0, e2);
        using var mapped = JsonDocument.Parse(o);
        using var evaluated = JsonDocument.Parse(o2);
        Assert.Equal(mapped.RootElement.GetProperty("cycles").GetDouble(), evaluated.RootElement.GetProperty("cycles").GetDouble());
        Assert.Equal(mapped.RootElement.GetProperty("energy_pJ").GetDouble(), evaluated.RootElement.GetProperty("energy_pJ").GetDouble(), 9);
    }

    [Fact]
    public void ACascadeMapsTheEinsumsTheArrayCanRun()
    {
        var wl = RepoPaths.Of("workloads", "attention", "attention-3pass.yaml");
        var (code, o, e) = MapperTestKit.Cli("map", "--arch", Arch, "--workload", wl, "--set", "seq_len=32", "heads=1", "head_dim=8",
            "--budget", "1000", "--json");
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        var names = doc.RootElement.GetProperty("einsums").EnumerateArray().Select(x => x.GetProperty("einsum").GetString()).ToList();
        Assert.Equal(new[] { "QK", "AV" }, names);
        var notes = doc.RootElement.GetProperty("notes").EnumerateArray().Select(x => x.GetString()!).ToList();
        Assert.Contains(notes, n => n.StartsWith("skipped SN: compute unit 'MAC' cannot perform add, exp", StringComparison.Ordinal));

        var (code2, o2, e2) = MapperTestKit.Cli("map", "--arch", Arch, "--workload", wl, "--einsum", "QK", "--set", "seq_len=32", "heads=1",
            "head_dim=8", "--budget", "1000");
        Assert.True(code2 == 0, e2);
        Assert.Contains("Problem       QK:", o2);
        Assert.Contains("Loop nest", o2);
    }

    [Fact]
    public void TimeloopInputsAreReadDirectly()
    {
        var dir = MapperTestKit.Timeloop("06-mapper-convlayer-eyeriss/legacy-v0.2");
        var (code, o, e) = MapperTestKit.Cli("map", "--arch", Path.Combine(dir, "arch/eyeriss_like.yaml"),
            "--workload", Path.Combine(dir, "prob/VGG02_layer5.yaml"),
            "--constraints", Path.Combine(dir, "constraints/eyeriss_like_arch_constraints.yaml"), Path.Combine(dir, "constraints/eyeriss_like_map_constraints.yaml"),
            "--ert", Path.Combine(dir, "ref-output/timeloop-mapper.ERT.yaml"), "--budget", "3000", "--json");
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o);
        Assert.Equal(3000, doc.RootElement.GetProperty("evaluations").GetInt64());
        Assert.True(doc.RootElement.GetProperty("cycles").GetDouble() >= 5_505_024);
    }

    [Theory]
    [InlineData("--search", "annealing", "unknown search 'annealing'")]
    [InlineData("--objective", "speed", "unknown metric 'speed'")]
    [InlineData("--budget", "0", "--budget: must be > 0")]
    [InlineData("--timeout", "-1", "--timeout: must be > 0")]
    [InlineData("--timeout", "nan", "--timeout: must be > 0")]
    [InlineData("--threads", "-2", "--threads: must be >= 0")]
    public void BadOptionsExitTwoWithOneLine(string option, string value, string message)
    {
        var (code, _, e) = MapperTestKit.Cli("map", "--arch", Arch, "--workload", Gemm, option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, e);
        Assert.Single(e.Trim().Split('\n'));
    }

    /// <summary>Without an ERT `map` warns that energy is unavailable, but a broken constraints file must be the only
    /// line: every input is checked before the first warning.</summary>
    [Theory]
    [InlineData("factors: R=3 P=1 K=2", "factors: R=3 P=1 K=5", "K=5 does not divide K = 32")]
    [InlineData("- target: RegisterFile\n    type: temporal", "- target: Nowhere\n    type: temporal", "unknown level 'Nowhere'")]
    public void BadTimeloopConstraintsAreTheOnlyLineEvenWithoutEnergies(string from, string to, string message)
    {
        var dir = MapperTestKit.Timeloop("05-mapper-conv1d+oc-3level/legacy-v0.2");
        var original = File.ReadAllText(Path.Combine(dir, "constraints/conv1d+oc-3level-1mapping.constraints.yaml"));
        Assert.Contains(from, original);
        var file = Path.Combine(Path.GetTempPath(), $"accelsim-constraints-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, original.Replace(from, to));
        try
        {
            var (code, o, e) = MapperTestKit.Cli("map", "--arch", Path.Combine(dir, "arch/3level.arch.yaml"),
                "--workload", Path.Combine(dir, "prob/conv1d+oc.prob.yaml"), "--constraints", file, "--search", "exhaustive", "--threads", "1");
            Assert.Equal(2, code);
            Assert.Equal("", o);
            var line = Assert.Single(e.Trim().Split('\n'));
            Assert.StartsWith(file + ":", line);
            Assert.Contains(message, line);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void MissingFilesAndGpuSpecsAreBadInput()
    {
        Assert.Equal(2, MapperTestKit.Cli("map", "--arch", "nope.yaml", "--workload", Gemm).Code);
        Assert.Equal(2, MapperTestKit.Cli("map", "--arch", Arch, "--workload", "nope.yaml").Code);
        Assert.Equal(2, MapperTestKit.Cli("map", "--arch", Arch, "--workload", Gemm, "--constraints", "nope.yaml").Code);
        var gpu = Directory.GetFiles(RepoPaths.Of("arch", "gpu"), "*.yaml").First();
        var (code, _, e) = MapperTestKit.Cli("map", "--arch", gpu, "--workload", Gemm);
        Assert.Equal(2, code);
        Assert.Contains("spatial-array architecture", e);
    }

    [Fact]
    public void ATimeoutStopsTheSearchAndSaysSo()
    {
        var (code, o, e) = MapperTestKit.Cli("map", "--arch", Arch, "--workload", Gemm, "--budget", "1000000000", "--timeout", "0.5");
        Assert.True(code == 0, e);
        Assert.Contains("stopped by the timeout", o);
    }

    [Fact]
    public void HelpHasAnExample()
    {
        var (code, o, _) = MapperTestKit.Cli("map", "--help");
        Assert.Equal(0, code);
        Assert.Contains("Example: accelsim map", o);
        Assert.Contains("--constraints", o);
    }

    /// <summary>Same inputs and seed: the same bytes, whatever the number of threads.</summary>
    [Theory]
    [InlineData("guided", "2500")]
    [InlineData("random", "2500")]
    [InlineData("exhaustive", "40000")]
    public void OutputIsByteIdenticalForAnyThreadCount(string search, string budget)
    {
        string Run(int threads, bool json) => MapperTestKit.Cli(new[] { "map", "--arch", Arch, "--workload", Gemm, "--search", search, "--budget", budget,
            "--seed", "7", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(json ? new[] { "--json" } : Array.Empty<string>()).ToArray()).Out;
        var one = Run(1, false);
        Assert.Contains("Loop nest", one);
        Assert.Equal(one, Run(2, false));
        Assert.Equal(one, Run(4, false));
        Assert.Equal(Run(1, true), Run(3, true));
    }

    [Fact]
    public void TheTimeloopCaseIsByteIdenticalForAnyThreadCount()
    {
        var dir = MapperTestKit.Timeloop("06-mapper-convlayer-eyeriss/legacy-v0.2");
        string Run(int threads) => MapperTestKit.Cli("map", "--arch", Path.Combine(dir, "arch/eyeriss_like.yaml"),
            "--workload", Path.Combine(dir, "prob/VGG02_layer5.yaml"),
            "--constraints", Path.Combine(dir, "constraints/eyeriss_like_arch_constraints.yaml"), Path.Combine(dir, "constraints/eyeriss_like_map_constraints.yaml"),
            "--ert", Path.Combine(dir, "ref-output/timeloop-mapper.ERT.yaml"), "--budget", "4000", "--seed", "11",
            "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json").Out;
        Assert.Equal(Run(1), Run(4));
    }

    [Fact]
    public void DifferentSeedsExploreDifferently()
    {
        // Random search at a small budget: the seed changes which mappings are priced (so the output can differ).
        string Run(string seed) => MapperTestKit.Cli("map", "--arch", Arch, "--workload", Gemm, "--search", "random", "--budget", "30",
            "--seed", seed, "--json").Out;
        var outputs = new[] { "1", "2", "3", "4" }.Select(Run).Distinct().Count();
        Assert.True(outputs > 1);
    }
}
