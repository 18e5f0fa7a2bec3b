using AccelSim.Model;

namespace AccelSim.Tests.Model;

/// <summary>
/// Multicast counting when several spatial dimensions move one rank and others move other ranks (a split rank
/// m = m1*4 + m0, and a sliding window with a second rank): the model counts each group of rank-sharing dimensions on
/// its own; reads, fills and updates must still equal the brute-force loop-nest oracle.
/// </summary>
public class SplitRankSpatialTests
{
    public static TheoryData<string, string> Combos() => new()
    {
        { "wide", "split-qk" }, { "wide-4-level", "split-qk" }, { "wide", "conv2d" }, { "wide-4-level", "conv2d" },
    };

    /// <summary>Wide fan-outs (8x8; 4 then 4x4), so that several dimensions share one.</summary>
    private static AccelSim.Hardware.ArchPath Arch(string name) => name == "wide"
        ? ModelTestKit.Path(ModelTestKit.Level("DRAM", null, null, cls: "dram"), ModelTestKit.Level("GLB", "DRAM", 2000),
            ModelTestKit.Level("RF", "GLB", 64, 64, 8), ModelTestKit.Pe("RF", 64, 8))
        : ModelTestKit.Path(ModelTestKit.Level("DRAM", null, null, cls: "dram"), ModelTestKit.Level("L2", "DRAM", 800),
            ModelTestKit.Level("L1", "L2", 96, 4, 4), ModelTestKit.Level("L0", "L1", 24, 64, 16), ModelTestKit.Pe("L0", 64, 16));

    private static AccelSim.Mapping.ProblemShape Problem(string name) => name == "split-qk"
        ? ModelTestKit.Parse("problem: {name: qk, dims: {M1: 2, M0: 4, P: 4, E: 2}, tensors: {Q: [P, E], K: ['M1*4 + M0', E], QK: {ranks: [M1, M0, P], output: true}}}")
        : ModelTestKit.Parse("problem: {name: conv, dims: {K: 2, P: 4, Q: 4, R: 2, S: 2}, tensors: {W: [K, R, S], I: ['P + R', 'Q + S'], O: {ranks: [K, P, Q], output: true}}}");

    [Theory]
    [MemberData(nameof(Combos))]
    public void ModelEqualsOracle(string archName, string problemName)
    {
        var path = Arch(archName);
        var problem = Problem(problemName);
        var ctx = new ModelContext(path, problem);
        var result = ctx.CreateResult();
        var rng = new Random(archName.Length * 31 + problemName.Length);
        int T = problem.Tensors.Length, D = problem.Dims.Length, valid = 0, multiGroup = 0;
        for (int attempt = 0; attempt < 3000 && valid < 150; attempt++)
        {
            var m = ModelTestKit.RandomMapping(path, problem, rng);
            if (!ctx.Evaluate(m, result)) continue;
            valid++;
            for (int l = 0; l < path.LevelCount; l++)
            {
                int spatial = 0;
                for (int d = 0; d < D; d++) if (m.SpatialX[l * D + d] * m.SpatialY[l * D + d] > 1) spatial++;
                if (spatial >= 3) multiGroup++;
            }
            var oracle = new LoopNestOracle(problem, m);
            for (int l = 0; l < path.LevelCount; l++)
            {
                long inst = result.UtilizedInstances[l];
                for (int t = 0; t < T; t++)
                {
                    int i = l * T + t;
                    Assert.Equal(oracle.Reads[i], result.Reads[i] * inst);
                    Assert.Equal(oracle.Fills[i], result.Fills[i] * inst);
                    Assert.Equal(oracle.Updates[i], result.Updates[i] * inst);
                }
            }
        }
        Assert.True(valid >= 100, $"only {valid} valid mappings");
        Assert.True(multiGroup > 0, "no mapping spread three dimensions over one fan-out: the test checked nothing new");
    }
}
