using AccelSim.Model;

namespace AccelSim.Tests.Model.Timeloop;

/// <summary>
/// Golden tests against Timeloop's own legacy-v0.2 outputs (tests/AccelSim.Tests/Reference/timeloop, copied from
/// the Timeloop/Accelergy tutorial exercises with their licence): per-level reads, fills, updates and tile sizes and the cycle count must equal Timeloop's exactly;
/// energy (with the case's own ERT) must be within 1%.
/// </summary>
public class TimeloopGoldenTests
{
    /// <summary>Timeloop's tutorial cases with their outputs, shipped in the repository (Reference/timeloop, MIT).</summary>
    public static string ReferenceRoot() => RepoPaths.Of("tests", "AccelSim.Tests", "Reference", "timeloop");

    /// <summary>(case folder, sub-case, mapping file relative to the case, or null to use the printed map.txt).</summary>
    public static TheoryData<string, string, string?> Cases() => new()
    {
        { "00-model-conv1d-1level", "", "map/conv1d-1level.map.yaml" },
        { "01-model-conv1d-2level", "os", "map/conv1d-2level-os.map.yaml" },
        { "01-model-conv1d-2level", "ws", "map/conv1d-2level-ws.map.yaml" },
        { "02-model-conv1d+oc-2level", "untiled", "map/conv1d+oc-2level-os.map.yaml" },
        { "02-model-conv1d+oc-2level", "tiled", "map/conv1d+oc-2level-os-tiled.map.yaml" },
        { "03-model-conv1d+oc-3level", "no-bypass", "map/conv1d+oc-3level.map.yaml" },
        { "03-model-conv1d+oc-3level", "bypass", "map/conv1d+oc-3level-bypass.map.yaml" },
        { "04-model-conv1d+oc-3levelspatial", "kp", "map/conv1d+oc+ic-3levelspatial-kp-ws.map.yaml" },
        { "04-model-conv1d+oc-3levelspatial", "cp", "map/conv1d+oc+ic-3levelspatial-cp-ws.map.yaml" },
        // Mapper cases: the mapping is rebuilt from the loop nest Timeloop printed.
        { "05-mapper-conv1d+oc-3level", "1mapping", null },
        { "05-mapper-conv1d+oc-3level", "freebypass", null },
        { "05-mapper-conv1d+oc-3level", "null", null },
        { "06-mapper-convlayer-eyeriss", "", null },
        { "timeloop+accelergy", "int16", null },
        { "timeloop+accelergy", "float32", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTimeloopLegacy(string caseName, string sub, string? mapFile)
    {
        var root = ReferenceRoot();
        var dir = Path.Combine(root, caseName, "legacy-v0.2");
        var outDir = Path.Combine(dir, "ref-output", sub);
        var tool = File.Exists(Path.Combine(outDir, "timeloop-model.stats.txt")) ? "timeloop-model" : "timeloop-mapper";
        var archFile = Directory.GetFiles(Path.Combine(dir, "arch"), "*.yaml")
            .Single(f => caseName != "timeloop+accelergy" || f.Contains(sub == "int16" ? "int16" : "float32", StringComparison.Ordinal));
        var probFile = Directory.GetFiles(Path.Combine(dir, "prob"), "*.yaml").Single();
        var arch = SpecFiles.LoadArchitecture(archFile, Path.Combine(outDir, tool + ".ERT.yaml"));
        var problem = SpecFiles.LoadProblem(probFile);
        var mapping = mapFile is not null
            ? SpecFiles.LoadMapping(Path.Combine(dir, mapFile), arch, problem)
            : TimeloopMapTxt.Parse(Path.Combine(outDir, tool + ".map.txt"));
        var report = CostModel.Evaluate(arch.Architecture, problem, mapping);
        var expected = TimeloopStats.Parse(Path.Combine(outDir, tool + ".stats.txt"));

        Assert.Equal(expected.Cycles, report.CyclesCeiling);
        Assert.Equal(expected.Maccs, (long)report.Operations);
        int compared = 0;
        foreach (var level in expected.Levels.Where(l => !l.IsArithmetic))
        {
            var ours = report.Level(level.Name);
            foreach (var (tensor, s) in level.Tensors)
            {
                var t = ours.Tensors.Single(x => x.Tensor == tensor);
                var where = $"{level.Name}.{tensor}";
                Assert.True(t.Kept, where + " should be kept");
                Assert.Equal((where, "reads", s.Reads), (where, "reads", t.Reads));
                Assert.Equal((where, "fills", s.Fills), (where, "fills", t.Fills));
                Assert.Equal((where, "updates", s.Updates), (where, "updates", t.Updates));
                Assert.Equal((where, "tile", s.UtilizedCapacity), (where, "tile", t.TileWords));
                Assert.Equal((where, "instances", s.UtilizedInstances), (where, "instances", ours.UtilizedInstances));
                Assert.True(WithinRelative(t.EnergyPJ, s.EnergyTotal, 0.005, 0.01),
                    $"{where} energy: ours {t.EnergyPJ:F2} pJ, Timeloop {s.EnergyTotal:F2} pJ");
                compared++;
            }
            foreach (var t in ours.Tensors.Where(x => x.Kept))
                Assert.True(level.Tensors.ContainsKey(t.Tensor), $"{level.Name}.{t.Tensor} is kept by us but bypassed by Timeloop");
        }
        Assert.True(compared > 0);
        var mac = expected.Levels.Single(l => l.IsArithmetic);
        Assert.True(WithinRelative(report.ComputeEnergyPJ, mac.ArithmeticEnergy, 0.005, 0.01),
            $"{mac.Name} energy: ours {report.ComputeEnergyPJ:F2} pJ, Timeloop {mac.ArithmeticEnergy:F2} pJ");
        Assert.True(report.EnergyPJ is { } energy && WithinRelative(energy, expected.TotalEnergy, 0.005, 0),
            $"total energy: ours {report.EnergyPJ} pJ, Timeloop {expected.TotalEnergy:F2} pJ");
    }

    /// <summary>|actual - expected| within a relative band plus an absolute slack for stats.txt's two printed decimals.</summary>
    private static bool WithinRelative(double actual, double expected, double relative, double absolute) =>
        Math.Abs(actual - expected) <= relative * Math.Abs(expected) + absolute;
}

/// <summary>
/// Timeloop v0.4 inputs (flat `nodes` architecture, `data_spaces` problem) are accepted. v0.4 stopped counting the
/// cold fills of output partial sums, so only reads and updates are compared with its stats (see the reference README).
/// </summary>
public class TimeloopV04Tests
{
    [Theory]
    [InlineData("no-bypass", "map/conv1d+oc-3level.map.yaml")]
    [InlineData("bypass", "map/conv1d+oc-3level-bypass.map.yaml")]
    public void ReadsAndUpdatesMatchV04(string sub, string map)
    {
        var dir = Path.Combine(TimeloopGoldenTests.ReferenceRoot(), "03-model-conv1d+oc-3level", "v0.4");
        var outDir = Path.Combine(dir, "ref-output", sub);
        var arch = SpecFiles.LoadArchitecture(Path.Combine(dir, "arch/3level.arch.yaml"), Path.Combine(outDir, "timeloop-model.ERT.yaml"));
        Assert.Equal(ArchDialect.TimeloopV04, arch.Dialect);
        var problem = SpecFiles.LoadProblem(Path.Combine(dir, "prob/conv1d+oc.prob.yaml"));
        var report = CostModel.Evaluate(arch.Architecture, problem, SpecFiles.LoadMapping(Path.Combine(dir, map), arch, problem));
        var expected = TimeloopStats.Parse(Path.Combine(outDir, "timeloop-model.stats.txt"));
        Assert.Equal(expected.Cycles, report.CyclesCeiling);
        foreach (var level in expected.Levels.Where(l => !l.IsArithmetic))
            foreach (var (tensor, s) in level.Tensors)
            {
                var t = report.Level(level.Name).Tensors.Single(x => x.Tensor == tensor);
                Assert.Equal((level.Name, tensor, s.Reads, s.Updates), (level.Name, tensor, t.Reads, t.Updates));
            }
    }
}
