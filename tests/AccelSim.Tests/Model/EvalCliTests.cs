using System.Text.Json;
using AccelSim.Cli;

namespace AccelSim.Tests.Model;

/// <summary>`accelsim eval` / `import` end to end, and the one-line `FILE:LINE:COL: field: problem` errors (exit 2).</summary>
public class EvalCliTests
{
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AccelSim.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Temp(string name, string text)
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-model-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var p = Path.Combine(dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private const string Conv = "problem: {name: conv1d, dims: {K: 32, R: 3, P: 16}, tensors: {Weights: [K, R], Inputs: ['R + P'], Outputs: {ranks: [K, P], output: true}}}\n";

    private static string Arch => Path.Combine(RepoRoot(), "arch", "timeloop-3level.yaml");

    [Fact]
    public void EvalAttentionQkOnFuseMaxHardwareAsJson()
    {
        var root = RepoRoot();
        var (code, stdout, stderr) = Run("eval", "--arch", Path.Combine(root, "arch/fusemax/hardware/fusemax-hardware.yaml"),
            "--workload", Path.Combine(root, "workloads/attention/attention-1pass.yaml"), "--einsum", "QK",
            "--mapping", Path.Combine(root, "arch/mappings/fusemax-qk.yaml"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        // 12 heads x 1024 x 1024 x 64 MACs over 65,536 PEs: 12,288 compute cycles; writing QK to HBM makes it DRAM-bound.
        Assert.Equal(12288, r.GetProperty("compute_cycles").GetDouble());
        Assert.True(r.GetProperty("cycles").GetInt64() >= 12288);
        Assert.InRange(r.GetProperty("utilization").GetDouble(), 0.01, 1.0);
        Assert.True(r.GetProperty("energy_pJ").GetDouble() > 0);
        var glb = r.GetProperty("levels").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "L3");
        var k = glb.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "K");
        foreach (var field in new[] { "reads", "fills", "updates", "capacity_used" }) Assert.True(k.TryGetProperty(field, out _), field);
        Assert.Equal(786432, k.GetProperty("fills").GetInt64());
    }

    [Fact]
    public void EvalTextShowsLevelsEnergyAndLoopNest()
    {
        var prob = Temp("p.yaml", Conv);
        var (code, stdout, stderr) = Run("eval", "--arch", Arch, "--workload", prob,
            "--mapping", Path.Combine(RepoRoot(), "arch/mappings/timeloop-3level-conv1d.yaml"));
        Assert.True(code == 0, stderr);
        Assert.Contains("Cycles        1,536", stdout);
        Assert.Contains("Energy breakdown", stdout);
        Assert.Contains("for k1 in [0,16)", stdout);
    }

    [Fact]
    public void SetOverridesArchitecture()
    {
        var prob = Temp("p.yaml", Conv);
        var map = Path.Combine(RepoRoot(), "arch/mappings/timeloop-3level-conv1d.yaml");
        var (c1, o1, _) = Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map, "--json");
        var (c2, o2, _) = Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map, "--json", "--set", "MainMemory.read_bandwidth=0.01");
        Assert.Equal(0, c1);
        Assert.Equal(0, c2);
        var cyc1 = JsonDocument.Parse(o1).RootElement.GetProperty("cycles").GetInt64();
        var cyc2 = JsonDocument.Parse(o2).RootElement.GetProperty("cycles").GetInt64();
        Assert.Equal(1536, cyc1);
        Assert.True(cyc2 > cyc1); // 114 words read at 0.01 words/cycle
    }

    private static void AssertOneLineError((int Code, string Out, string Err) r, string file, string field, string text)
    {
        Assert.Equal(2, r.Code);
        var line = r.Err.Trim();
        Assert.DoesNotContain("\n", line);
        Assert.Matches(@"^.+:\d+:\d+: ", line);
        Assert.StartsWith(file + ":", line);
        Assert.Contains(field, line);
        Assert.Contains(text, line);
    }

    [Fact]
    public void CapacityOverflowIsAOneLineError()
    {
        var prob = Temp("p.yaml", Conv);
        var map = Temp("m.yaml", "mapping:\n  levels:\n    - level: MainMemory\n    - level: GlobalBuffer\n      temporal: K=8\n    - level: RegisterFile\n      temporal: K=4 R=3 P=16\n");
        AssertOneLineError(Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map), map, "mapping.levels[2]", "capacity overflow at RegisterFile");
    }

    [Fact]
    public void FactorsThatDoNotMultiplyToTheRankSize()
    {
        var prob = Temp("p.yaml", Conv);
        var map = Temp("m.yaml", "mapping:\n  levels:\n    - level: GlobalBuffer\n      temporal: K=16 P=8\n    - level: RegisterFile\n      temporal: K=2 R=3\n");
        AssertOneLineError(Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map), map, "mapping.levels[0].P", "factors of P multiply to 8 but the problem has P = 16");
    }

    [Fact]
    public void UnknownLevel()
    {
        var prob = Temp("p.yaml", Conv);
        var map = Temp("m.yaml", "mapping:\n  levels:\n    - level: GlobalBuffer\n      temporal: K=16 P=16\n    - level: L1Cache\n      temporal: K=2 R=3\n");
        AssertOneLineError(Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map), map, "mapping.levels[1].level", "unknown level 'L1Cache'");
    }

    [Fact]
    public void NegativeSizeInTheProblem()
    {
        var prob = Temp("p.yaml", Conv.Replace("P: 16", "P: -16"));
        var map = Path.Combine(RepoRoot(), "arch/mappings/timeloop-3level-conv1d.yaml");
        AssertOneLineError(Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map), prob, "problem.dims.P", "size must be > 0");
    }

    [Fact]
    public void NegativeCapacityInTheArchitecture()
    {
        var arch = Temp("a.yaml", File.ReadAllText(Arch).Replace("capacity_words: 64", "capacity_words: -64")
            .Replace("energy/timeloop-tutorial.yaml", Path.Combine(RepoRoot(), "arch/energy/timeloop-tutorial.yaml")));
        var prob = Temp("p.yaml", Conv);
        var map = Path.Combine(RepoRoot(), "arch/mappings/timeloop-3level-conv1d.yaml");
        AssertOneLineError(Run("eval", "--arch", arch, "--workload", prob, "--mapping", map), arch, "architecture.storage[2].capacity_words", "must be > 0");
    }

    [Fact]
    public void UnknownTensorInKeep()
    {
        var prob = Temp("p.yaml", Conv);
        var map = Temp("m.yaml", "mapping:\n  levels:\n    - level: GlobalBuffer\n      temporal: K=16 P=16\n      keep: [Weights, Psums]\n    - level: RegisterFile\n      temporal: K=2 R=3\n");
        AssertOneLineError(Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map), map, "mapping.levels[0].keep", "unknown tensor 'Psums'");
    }

    [Fact]
    public void SpatialFactorsBeyondTheFanout()
    {
        var prob = Temp("p.yaml", Conv);
        var map = Temp("m.yaml", "mapping:\n  levels:\n    - level: GlobalBuffer\n      temporal: K=16 P=8\n      spatial_x: P=2\n    - level: RegisterFile\n      temporal: K=2 R=3\n");
        AssertOneLineError(Run("eval", "--arch", Arch, "--workload", prob, "--mapping", map), map, "mapping.levels[0].spatial_x", "fans out to 1");
    }

    [Fact]
    public void UnknownEinsumListsTheChoices()
    {
        var root = RepoRoot();
        var r = Run("eval", "--arch", Path.Combine(root, "arch/fusemax/hardware/fusemax-hardware.yaml"), "--workload", Path.Combine(root, "workloads/attention/attention-1pass.yaml"),
            "--einsum", "NOPE", "--mapping", Path.Combine(root, "arch/mappings/fusemax-qk.yaml"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--einsum: no Einsum named 'NOPE'", r.Err);
    }

    [Fact]
    public void ImportTimeloopWritesOurFormatsThatEvaluateTheSame()
    {
        var tl = Timeloop.TimeloopGoldenTests.ReferenceRoot();
        var dir = Path.Combine(tl, "04-model-conv1d+oc-3levelspatial", "legacy-v0.2");
        var ert = Path.Combine(dir, "ref-output/kp/timeloop-model.ERT.yaml");
        var outDir = Path.Combine(Path.GetTempPath(), "accelsim-import-" + Guid.NewGuid().ToString("N"));
        var args = new[] { Path.Combine(dir, "arch/3levelspatial.arch.yaml"), Path.Combine(dir, "prob/conv1d+oc+ic.prob.yaml"), Path.Combine(dir, "map/conv1d+oc+ic-3levelspatial-kp-ws.map.yaml") };
        var (code, stdout, stderr) = Run(new[] { "import", "timeloop" }.Concat(args).Concat(new[] { "--out", outDir, "--ert", ert }).ToArray());
        Assert.True(code == 0, stderr);
        Assert.Contains("mapping.yaml", stdout);
        var direct = Run("eval", "--arch", args[0], "--workload", args[1], "--mapping", args[2], "--ert", ert, "--json");
        var imported = Run("eval", "--arch", Path.Combine(outDir, "arch.yaml"), "--workload", Path.Combine(outDir, "problem.yaml"), "--mapping", Path.Combine(outDir, "mapping.yaml"), "--json");
        Assert.True(imported.Code == 0, imported.Err);
        var a = JsonDocument.Parse(direct.Out).RootElement;
        var b = JsonDocument.Parse(imported.Out).RootElement;
        Assert.Equal(a.GetProperty("cycles").GetInt64(), b.GetProperty("cycles").GetInt64());
        Assert.Equal(a.GetProperty("energy_pJ").GetDouble(), b.GetProperty("energy_pJ").GetDouble(), 6);
        Assert.Equal(a.GetProperty("levels").ToString(), b.GetProperty("levels").ToString());
    }
}
