using AccelSim.Mapper;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;
using AccelSim.Tests.Model.Timeloop;
using Xunit.Abstractions;

namespace AccelSim.Tests.Mapper;

/// <summary>
/// Timeloop's own mapper as the bar: on the tutorial's mapper exercises (05: conv1d on the 3-level architecture under
/// three constraint files; 06: VGG02 layer 5 on the Eyeriss-like array under its row-stationary constraints), with
/// the same constraint files and the case's own ERT, our mapper finds a mapping at least as good in energy-delay
/// product as the one Timeloop printed. Timeloop's mapping is priced by our model (which matches Timeloop's stats, see
/// TimeloopGoldenTests), so both sides use the same cost.
/// </summary>
public class TimeloopMapperTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "05-mapper-conv1d+oc-3level", "1mapping", "guided" },
        { "05-mapper-conv1d+oc-3level", "freebypass", "guided" },
        { "05-mapper-conv1d+oc-3level", "null", "guided" },
        { "05-mapper-conv1d+oc-3level", "null", "exhaustive" },
        { "06-mapper-convlayer-eyeriss", "", "guided" },
        { "06-mapper-convlayer-eyeriss", "", "exhaustive" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AtLeastAsGoodAsTimeloopInEdp(string caseName, string sub, string search)
    {
        var dir = MapperTestKit.Timeloop(Path.Combine(caseName, "legacy-v0.2"));
        var outDir = Path.Combine(dir, "ref-output", sub);
        var archFile = Directory.GetFiles(Path.Combine(dir, "arch"), "*.yaml").Single();
        var arch = SpecFiles.LoadArchitecture(archFile, Path.Combine(outDir, "timeloop-mapper.ERT.yaml"));
        var problem = SpecFiles.LoadProblem(Directory.GetFiles(Path.Combine(dir, "prob"), "*.yaml").Single());
        var constraintFiles = caseName.StartsWith("05", StringComparison.Ordinal)
            ? new[] { Path.Combine(dir, "constraints", sub switch
            {
                "1mapping" => "conv1d+oc-3level-1mapping.constraints.yaml",
                "freebypass" => "conv1d+oc-3level-freebypass.constraints.yaml",
                _ => "null.constraints.yaml",
            }) }
            : Directory.GetFiles(Path.Combine(dir, "constraints"), "*.yaml").Order(StringComparer.Ordinal).ToArray();
        var constraints = ConstraintsLoader.LoadAll(constraintFiles, problem);

        var theirMapping = TimeloopMapTxt.Parse(Path.Combine(outDir, "timeloop-mapper.map.txt"));
        var theirs = CostModel.Evaluate(arch.Architecture, problem, theirMapping);
        var stats = TimeloopStats.Parse(Path.Combine(outDir, "timeloop-mapper.stats.txt"));
        Assert.Equal(stats.Cycles, theirs.CyclesCeiling);
        Assert.InRange(theirs.EnergyPJ!.Value, stats.TotalEnergy * 0.995, stats.TotalEnergy * 1.005);

        var ours = MapSearch.Run(new MapRequest(arch.Architecture, problem, constraints, Objective.Edp, search, Seed: 1, Threads: 2));
        output.WriteLine($"{caseName}/{sub} {search}: {ours.Evaluations} evaluations; ours {ours.Report.CyclesCeiling} cycles, " +
                         $"{ours.Report.EnergyPJ / 1e6:F4} uJ, EDP {ours.Report.EnergyDelayProduct:E6}; Timeloop {stats.Cycles} cycles, " +
                         $"{stats.TotalEnergy / 1e6:F4} uJ (our model: {theirs.EnergyPJ / 1e6:F4} uJ), EDP {theirs.EnergyDelayProduct:E6}");
        Assert.True(ours.Report.EnergyDelayProduct!.Value <= theirs.EnergyDelayProduct!.Value * (1 + 1e-9),
            $"EDP {ours.Report.EnergyDelayProduct:E6} is worse than Timeloop's {theirs.EnergyDelayProduct:E6}");
        Assert.True(ours.Space.Contains(ours.Compact));
    }
}
