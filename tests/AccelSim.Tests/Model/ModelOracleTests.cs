using AccelSim.Model;

namespace AccelSim.Tests.Model;

/// <summary>
/// Property tests: on seeded random mappings of GEMM, attention QK and AV and two convolution-like Einsums over
/// 2- to 4-level architectures with fan-out and bypass, the analytical model's reads, fills, updates and tile sizes
/// equal the brute-force loop-nest oracle's exactly; capacity verdicts agree too.
/// </summary>
public class ModelOracleTests
{
    public static TheoryData<string, string> Combos()
    {
        var data = new TheoryData<string, string>();
        foreach (var (a, _) in ModelTestKit.Architectures())
            foreach (var (p, _) in ModelTestKit.Problems()) data.Add(a, p);
        return data;
    }

    private const int ValidPerCombo = 110; // 4 architectures x 5 problems x 110 = 2,200 valid mappings

    [Theory]
    [MemberData(nameof(Combos))]
    public void ModelEqualsOracle(string archName, string problemName)
    {
        var path = ModelTestKit.Architectures().Single(x => x.Name == archName).Path;
        var problem = ModelTestKit.Problems().Single(x => x.Name == problemName).Problem;
        var ctx = new ModelContext(path, problem);
        var result = ctx.CreateResult();
        var rng = new Random(HashCode.Combine(archName.Length * 7919, problemName.Length * 104729, archName[^1], problemName[0]));
        int valid = 0, invalid = 0, attempts = 0;
        int T = problem.Tensors.Length;
        while (valid < ValidPerCombo && attempts++ < 20 * ValidPerCombo)
        {
            var m = ModelTestKit.RandomMapping(path, problem, rng);
            var ok = ctx.Evaluate(m, result);
            var oracle = new LoopNestOracle(problem, m);
            if (!ok)
            {
                Assert.Equal(EvalStatus.CapacityExceeded, result.Status);
                long need = 0;
                int l = result.FailedLevel;
                for (int t = 0; t < T; t++)
                    if ((m.KeepMask[l] & (1 << t)) != 0) need += l == 0 ? result.TileWords[t] : oracle.MaxTile[l * T + t];
                Assert.True(need > path.Levels[l].CapacityWords, $"model says {path.Levels[l].Name} overflows but the oracle's tiles need {need}");
                invalid++;
                continue;
            }
            for (int l = 0; l < path.LevelCount; l++)
            {
                if (path.Levels[l].CapacityWords is { } cap)
                {
                    long need = 0;
                    for (int t = 0; t < T; t++) if ((m.KeepMask[l] & (1 << t)) != 0) need += oracle.MaxTile[l * T + t];
                    Assert.True(need <= cap);
                }
                long inst = result.UtilizedInstances[l];
                for (int t = 0; t < T; t++)
                {
                    int i = l * T + t;
                    var where = $"{archName}/{problemName} mapping #{attempts}: {path.Levels[l].Name}.{problem.Tensors[t].Name}";
                    Assert.True(oracle.Reads[i] == result.Reads[i] * inst, $"{where} reads: oracle {oracle.Reads[i]} model {result.Reads[i] * inst}\n{Describe(m, path, problem)}");
                    Assert.True(oracle.Fills[i] == result.Fills[i] * inst, $"{where} fills: oracle {oracle.Fills[i]} model {result.Fills[i] * inst}\n{Describe(m, path, problem)}");
                    Assert.True(oracle.Updates[i] == result.Updates[i] * inst, $"{where} updates: oracle {oracle.Updates[i]} model {result.Updates[i] * inst}\n{Describe(m, path, problem)}");
                    if (l > 0 && (m.KeepMask[l] & (1 << t)) != 0)
                        Assert.True(oracle.MaxTile[i] == result.TileWords[i], $"{where} tile: oracle {oracle.MaxTile[i]} model {result.TileWords[i]}");
                }
            }
            valid++;
        }
        Assert.Equal(ValidPerCombo, valid);
    }

    private static string Describe(AccelSim.Mapping.CompactMapping m, AccelSim.Hardware.ArchPath path, AccelSim.Mapping.ProblemShape p) =>
        AccelSim.Mapping.LoopNestPrinter.Print(m.ToMapping(path, p), p);
}
