using AccelSim.Core;
using AccelSim.Mapper;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;

namespace AccelSim.Tests.Mapper;

/// <summary>Constraint files (ours and Timeloop's): semantics, and one-line errors for bad or over-constrained ones.</summary>
public class ConstraintTests
{
    private static MapSpace Space(ProblemShape p, string yaml, string name = "constraints.yaml")
    {
        var file = RepoPaths.TempYaml(yaml, name);
        var cons = ConstraintsLoader.Load(file, p);
        return new MapSpace(CostModel.PathFor(MapperTestKit.SmallArray, p, null), p, cons);
    }

    [Fact]
    public void OurConstraintsShapeTheSpace()
    {
        var p = MapperTestKit.Gemm(16, 16, 16);
        var space = Space(p, """
            constraints:
              min_utilization: 0.5
              levels:
                - level: DRAM
                  temporal: K=rest M<=2
                - level: GlobalBuffer
                  temporal: N=2
                  spatial_x_ranks: [M]
                  spatial_y: K>=2
                  order: "* M"
                  bypass: [Z]
                - level: RegisterFile
                  keep: [A]
            """);
        int S = space.Slots, M = p.DimIndex("M"), N = p.DimIndex("N"), K = p.DimIndex("K");
        int dramT = 0, glbT = 3, glbX = 4, glbY = 5;
        IEnumerable<int[]> F(int d) => Enumerable.Range(0, space.Factorizations(d).Length / S).Select(i => space.Factorizations(d).Skip(i * S).Take(S).ToArray());
        Assert.All(F(N), f => Assert.Equal(2, f[glbT]));
        Assert.All(F(M), f => Assert.True(f[dramT] <= 2));
        Assert.All(F(N), f => Assert.Equal(1, f[glbX]));      // only M may spread along X below the buffer
        Assert.All(F(K), f => Assert.Equal(1, f[glbX]));
        Assert.All(F(K), f => Assert.True(f[glbY] >= 2));
        Assert.Contains(F(M), f => f[glbX] == 4);
        Assert.Equal(8, space.MinBusyUnits);
        var tZ = 1 << p.TensorIndex("Z");
        var tA = 1 << p.TensorIndex("A");
        Assert.All(space.KeepOptions(1), k => Assert.Equal(0, k & tZ));
        Assert.All(space.KeepOptions(2), k => Assert.Equal(tA, k & tA));
        Assert.Equal(4, space.KeepOptions(1).Count);   // Z bypassed; A and B free
        var result = MapSearch.Run(new MapRequest(MapperTestKit.SmallArray, p, space.Constraints, Objective.Edp, "exhaustive", Threads: 2));
        Assert.True(space.Contains(result.Compact));
        // The buffer's loops end with M (innermost) whenever M has a loop there.
        var orderNames = result.Mapping.Levels[1].Temporal.Select(f => f.Dim).ToList();
        if (orderNames.Contains("M")) Assert.Equal("M", orderNames[^1]);
    }

    [Fact]
    public void KeepOptionsAreTheSubsetsOfTheFreeTensors()
    {
        var p = MapperTestKit.Gemm(8, 8, 8);
        var space = Space(p, "constraints: {levels: [{level: GlobalBuffer, bypass: [Z]}]}");
        Assert.Equal(4, space.KeepOptions(1).Count);   // {}, {A}, {B}, {A,B}
        Assert.Equal(8, space.KeepOptions(2).Count);
        Assert.Single(space.KeepOptions(0));
    }

    [Fact]
    public void TimeloopOneMappingConstraintsLeaveOneMapping()
    {
        var dir = MapperTestKit.Timeloop("05-mapper-conv1d+oc-3level/legacy-v0.2");
        var arch = SpecFiles.LoadArchitecture(Path.Combine(dir, "arch/3level.arch.yaml"), Path.Combine(dir, "ref-output/1mapping/timeloop-mapper.ERT.yaml"));
        var p = SpecFiles.LoadProblem(Path.Combine(dir, "prob/conv1d+oc.prob.yaml"));
        var one = ConstraintsLoader.Load(Path.Combine(dir, "constraints/conv1d+oc-3level-1mapping.constraints.yaml"), p);
        var r = MapSearch.Run(new MapRequest(arch.Architecture, p, one, Objective.Parse("cycles,energy"), "exhaustive", Threads: 2));
        Assert.Equal(1, r.Evaluations);
        // It is exactly the mapping Timeloop printed.
        var expected = AccelSim.Tests.Model.Timeloop.TimeloopMapTxt.Parse(Path.Combine(dir, "ref-output/1mapping/timeloop-mapper.map.txt"));
        var theirs = CostModel.Evaluate(arch.Architecture, p, expected);
        Assert.Equal(theirs.Cycles, r.Report.Cycles);
        Assert.Equal(theirs.EnergyPJ!.Value, r.Report.EnergyPJ!.Value, 6);

        // Free bypass: 2 levels x 3 data spaces = 64 choices (the exercise's own count).
        var free = ConstraintsLoader.Load(Path.Combine(dir, "constraints/conv1d+oc-3level-freebypass.constraints.yaml"), p);
        var r2 = MapSearch.Run(new MapRequest(arch.Architecture, p, free, Objective.Parse("cycles,energy"), "exhaustive", Threads: 2));
        Assert.Equal(64, r2.Evaluations);
    }

    [Fact]
    public void TimeloopEyerissConstraintsAreHonoured()
    {
        var dir = MapperTestKit.Timeloop("06-mapper-convlayer-eyeriss/legacy-v0.2");
        var arch = SpecFiles.LoadArchitecture(Path.Combine(dir, "arch/eyeriss_like.yaml"), Path.Combine(dir, "ref-output/timeloop-mapper.ERT.yaml"));
        var p = SpecFiles.LoadProblem(Path.Combine(dir, "prob/VGG02_layer5.yaml"));
        var cons = ConstraintsLoader.LoadAll(new[] { "constraints/eyeriss_like_arch_constraints.yaml", "constraints/eyeriss_like_map_constraints.yaml" }
            .Select(f => Path.Combine(dir, f)), p);
        var path = CostModel.PathFor(arch.Architecture, p, null);
        var space = new MapSpace(path, p, cons);
        // Keep/bypass is fully fixed; every permutation the constraints name is fixed.
        Assert.Equal(1.0, space.KeepCount);
        // Timeloop's own best mapping lies in our space.
        var theirs = AccelSim.Tests.Model.Timeloop.TimeloopMapTxt.Parse(Path.Combine(dir, "ref-output/timeloop-mapper.map.txt"));
        var compact = CompactMapping.From(theirs, path, p);
        for (int l = 0; l < path.LevelCount; l++) compact.KeepMask[l] &= CompactMapping.AllowedMask(path.Levels[l], p);
        Assert.True(space.Contains(compact), "Timeloop's mapping should satisfy the constraints as we read them");
        // DummyBuffer: S (=0: the rest) and C/M on mesh Y only; Q and M on mesh X below the global buffer.
        int dummy = path.IndexOf("DummyBuffer"), glb = path.IndexOf("shared_glb");
        Assert.Equal(1, space.MaxFactor(p.DimIndex("S"), dummy * 3 + MapSpace.SlotX));
        Assert.True(space.IsFreeSlot(p.DimIndex("C"), dummy * 3 + MapSpace.SlotY));
        Assert.False(space.IsFreeSlot(p.DimIndex("C"), glb * 3 + MapSpace.SlotX));
        Assert.True(space.IsFreeSlot(p.DimIndex("Q"), glb * 3 + MapSpace.SlotX));
        Assert.Equal(1, space.MaxFactor(p.DimIndex("M"), glb * 3 + MapSpace.SlotY));
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "constraints: {levels: [{level: Nowhere, temporal: M=2}]}", "unknown level 'Nowhere'", ":1:" },
        { "constraints:\n  levels:\n    - level: DRAM\n      temporal: M=3", "M=3 does not divide M = 32", ":4:17" },
        { "constraints:\n  levels:\n    - level: DRAM\n      temporal: Q=2", "unknown dimension 'Q'", ":4:17" },
        { "constraints:\n  levels:\n    - level: GlobalBuffer\n      keep: [A]\n      bypass: [A]", "both keeps and bypasses A", ":5:" },
        { "constraints:\n  levels:\n    - level: DRAM\n      bypass: [A]", "must keep every tensor", ":4:" },
        { "constraints:\n  levels:\n    - level: GlobalBuffer\n      spatial_x: M=8", "exceeds the fan-out below GlobalBuffer", ":4:18" },
        { "constraints:\n  levels:\n    - level: GlobalBuffer\n      order: \"* M * K\"", "at most one '*'", ":4:14" },
        { "constraints:\n  levels:\n    - level: GlobalBuffer\n      tempral: M=2", "unknown field", ":4:7" },
        { "constraints:\n  min_utilization: 1.5", "between 0 and 1", ":2:20" },
        { "mapspace_constraints:\n  - target: GlobalBuffer\n    type: no_multicast", "unsupported constraint type 'no_multicast'", ":3:11" },
        { "mapspace_constraints:\n  - target: GlobalBuffer\n    type: temporal\n    factors: M=4 M=2", "constrained twice", ":4:14" },
        { "mapspace_constraints:\n  - target: GlobalBuffer\n    type: temporal\n    permutation: MXK", "cannot read permutation", ":4:18" },
        { "something_else: 1", "not a constraints file", ":1:" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadConstraintFilesGiveOneLineErrors(string yaml, string message, string position)
    {
        var file = RepoPaths.TempYaml(yaml, "bad.constraints.yaml");
        var (code, _, err) = MapperTestKit.Cli("map", "--arch", MapperTestKit.Data("small-array.yaml"), "--workload", MapperTestKit.Data("gemm.yaml"),
            "--constraints", file, "--budget", "50");
        Assert.Equal(2, code);
        var line = err.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith(file + position, line);
        Assert.Contains(message, line);
    }

    [Fact]
    public void AnOverConstrainedSpaceNamesTheConstraintThatEmptiedIt()
    {
        // 32-word register files cannot hold A, B and Z tiles of an 8x8x8 block.
        var file = RepoPaths.TempYaml("constraints:\n  levels:\n    - level: RegisterFile\n      temporal: M=8 N=8 K=8\n      keep: [A, B, Z]\n", "tight.yaml");
        var (code, _, err) = MapperTestKit.Cli("map", "--arch", MapperTestKit.Data("small-array.yaml"), "--workload", MapperTestKit.Data("gemm.yaml"),
            "--constraints", file, "--search", "exhaustive");
        Assert.Equal(2, code);
        Assert.StartsWith(file + ":4:17: ", err);
        Assert.Contains("no mapping fits", err);
        Assert.Contains("RegisterFile needs 192 words", err);
        Assert.Contains("holds 32", err);
    }

    [Fact]
    public void ARankWithNoAdmissibleFactorisationIsNamed()
    {
        var file = RepoPaths.TempYaml("constraints:\n  levels:\n    - level: DRAM\n      temporal: M>=64\n", "min.yaml");
        var (code, _, err) = MapperTestKit.Cli("map", "--arch", MapperTestKit.Data("small-array.yaml"), "--workload", MapperTestKit.Data("gemm.yaml"),
            "--constraints", file);
        Assert.Equal(2, code);
        Assert.StartsWith(file + ":4:17: ", err);
        Assert.Contains("no factorisation of M = 32 satisfies its constraints", err);
    }

    [Fact]
    public void TimeloopUtilisationConstraintKeepsTheArrayBusy()
    {
        var p = MapperTestKit.Gemm(16, 16, 16);
        var space = Space(p, "mapspace_constraints:\n  - target: RegisterFile\n    type: utilization\n    min: 1.0\n");
        Assert.Equal(16, space.MinBusyUnits);
        var r = MapSearch.Run(new MapRequest(MapperTestKit.SmallArray, p, space.Constraints, Objective.Parse("energy"), "guided", 3000, Seed: 2, Threads: 2));
        Assert.Equal(16, r.Report.BusyComputeUnits);
    }

    [Fact]
    public void AnUnreachableUtilisationIsReported()
    {
        // M=N=K=2: at most 8 points, so 16 MACs can never all be busy.
        var prob = RepoPaths.TempYaml("problem: {name: tiny, dims: {M: 2, N: 2, K: 2}, tensors: {A: [M, K], B: [K, N], Z: {ranks: [M, N], output: true}}}", "tiny.yaml");
        var file = RepoPaths.TempYaml("constraints:\n  min_utilization: 0.9\n", "util.yaml");
        var (code, _, err) = MapperTestKit.Cli("map", "--arch", MapperTestKit.Data("small-array.yaml"), "--workload", prob, "--constraints", file);
        Assert.Equal(2, code);
        Assert.StartsWith(file + ":2:20: ", err);
        Assert.Contains("15 of 16 compute units busy", err);
    }
}
